/** A manager's events and hooks: listeners, decision hooks and error reporting, none of which may break the request path. */
import type { ApprovalRecord, Logger, ManagerEvent, ManagerHooks } from './types.js';

export type DecisionHook = 'onApprove' | 'onReject' | 'onModify' | 'onTimeout' | 'onCancel';

/** The hook a final status calls. */
export const hookOfStatus: Partial<Record<ApprovalRecord['status'], DecisionHook>> = {
  approved: 'onApprove',
  rejected: 'onReject',
  modified: 'onModify',
  expired: 'onTimeout',
  cancelled: 'onCancel',
};

/** The event a final status emits. */
export const eventOfStatus: Partial<Record<ApprovalRecord['status'], ManagerEvent['type']>> = {
  approved: 'request-decided',
  rejected: 'request-decided',
  modified: 'request-decided',
  expired: 'request-expired',
  cancelled: 'request-cancelled',
};

export interface ManagerEvents {
  /** Calls every listener; a listener that throws is reported, not rethrown. */
  emit(event: ManagerEvent): void;
  subscribe(listener: (event: ManagerEvent) => void): () => void;
  /** Runs a decision hook; a throw or a rejected promise is reported, not rethrown. */
  runHook(name: DecisionHook, record: ApprovalRecord): void;
  /** Hands an error to `onError`, or logs it when there is no hook (or the hook throws). */
  reportError(error: unknown, record?: ApprovalRecord): void;
  clear(): void;
}

export function createManagerEvents({ hooks, logger }: { hooks: ManagerHooks; logger: Logger }): ManagerEvents {
  const listeners = new Set<(event: ManagerEvent) => void>();

  const reportError = (error: unknown, record?: ApprovalRecord) => {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (hooks.onError) {
      try {
        hooks.onError(failure, record);
        return;
      } catch (hookError) {
        logger.error('hitl: onError hook threw', hookError);
      }
    }
    logger.error(`hitl: ${failure.message}`, failure);
  };

  return {
    emit(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          reportError(error, event.record);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    runHook(name, record) {
      const hook = hooks[name];
      if (!hook) return;
      try {
        const result = hook.call(hooks, record);
        if (result && typeof (result as Promise<void>).then === 'function') {
          (result as Promise<void>).then(undefined, (error: unknown) => reportError(error, record));
        }
      } catch (error) {
        reportError(error, record);
      }
    },
    reportError,
    clear() {
      listeners.clear();
    },
  };
}
