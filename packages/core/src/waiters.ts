/** Waiters on requests: `waitFor`'s promises, settled by the store's news, an abort, a wait timeout or close(). */
import { HitlError } from './hitl-error.js';
import { MAX_TIMER_DELAY } from './expiry-timers.js';
import { storeFailure } from './store-failure.js';
import type { ApprovalRecord, ApprovalStore, InteractionResponse, Scheduler } from './types.js';

interface Waiter {
  settle(record: ApprovalRecord): void;
  fail(error: HitlError): void;
}

/**
 * The response a waiter gets for a final record, or the error it fails with. An expired request
 * answers an automatic reject under `onTimeout: 'reject'` and a `timeout` error otherwise.
 */
export function outcomeOf(record: ApprovalRecord, onTimeout: 'error' | 'reject', now: () => number): InteractionResponse | HitlError {
  const id = record.request.id;
  switch (record.status) {
    case 'approved':
    case 'rejected':
    case 'modified':
      return (
        record.response ??
        new HitlError('store_unavailable', `request '${id}' is ${record.status} but has no response`, { details: { ids: [id] } })
      );
    case 'expired':
      if (onTimeout === 'reject') {
        return (
          record.response ?? {
            requestId: id,
            decision: 'reject',
            feedback: record.closedReason ?? 'the request expired without a decision',
            respondedAt: record.closedAt ?? record.expiresAt ?? new Date(now()).toISOString(),
            automatic: true,
            metadata: { cause: 'expiry' },
          }
        );
      }
      return new HitlError('timeout', `request '${id}' expired at ${record.expiresAt ?? record.closedAt} without a decision`, {
        details: { ids: [id] },
      });
    case 'cancelled':
      return new HitlError('cancelled', `request '${id}' was cancelled${record.closedReason ? `: ${record.closedReason}` : ''}`, {
        details: { ids: [id] },
      });
    default:
      return new HitlError('store_unavailable', `request '${id}' has an unknown status`, { details: { ids: [id] } });
  }
}

export interface WaitersOptions {
  store: ApprovalStore;
  scheduler: Scheduler;
  outcomeOf: (record: ApprovalRecord) => InteractionResponse | HitlError;
  /** Called when a waiter finds its request still pending, so its expiry is armed here too. */
  onPending: (record: ApprovalRecord) => void;
}

export interface Waiters {
  /** Waits for request `id` (already validated) to be decided; `waitTimeout` in ms, `Infinity` or absent waits on. */
  wait(id: string, signal: AbortSignal | undefined, waitTimeout: number | undefined): Promise<InteractionResponse>;
  /** Settles every waiter of a decided record. */
  settle(record: ApprovalRecord): void;
  /** Fails every waiter, each with its own error (the manager is closing). */
  failAll(errorOf: () => HitlError): void;
}

export function createWaiters({ store, scheduler, outcomeOf: outcome, onPending }: WaitersOptions): Waiters {
  const waiters = new Map<string, Set<Waiter>>();

  return {
    wait(id, signal, waitTimeout) {
      if (signal?.aborted)
        return Promise.reject(
          new HitlError('cancelled', `stopped waiting for request '${id}': the signal was aborted`, { details: { ids: [id] } }),
        );
      return new Promise<InteractionResponse>((resolve, reject) => {
        let done = false;
        let waitTimer: unknown;
        const finish = (result: InteractionResponse | HitlError) => {
          if (done) return;
          done = true;
          const set = waiters.get(id);
          set?.delete(waiter);
          if (set?.size === 0) waiters.delete(id);
          signal?.removeEventListener('abort', onAbort);
          if (waitTimer !== undefined) scheduler.clearTimeout(waitTimer);
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        const waiter: Waiter = {
          settle: (record) => finish(outcome(record)),
          fail: (error) => finish(error),
        };
        const onAbort = () =>
          finish(new HitlError('cancelled', `stopped waiting for request '${id}': the signal was aborted`, { details: { ids: [id] } }));
        signal?.addEventListener('abort', onAbort, { once: true });
        if (waitTimeout !== undefined && Number.isFinite(waitTimeout)) {
          waitTimer = scheduler.setTimeout(
            () =>
              finish(
                new HitlError('timeout', `stopped waiting for request '${id}' after ${waitTimeout} ms; it is still pending`, {
                  details: { ids: [id] },
                }),
              ),
            Math.min(waitTimeout, MAX_TIMER_DELAY),
          );
        }
        let set = waiters.get(id);
        if (!set) waiters.set(id, (set = new Set()));
        set.add(waiter);

        store.get(id).then(
          (record) => {
            if (done) return;
            if (!record) finish(new HitlError('not_found', `request '${id}' does not exist`, { details: { ids: [id] } }));
            else if (record.status !== 'pending') finish(outcome(record));
            else onPending(record);
          },
          (error: unknown) => finish(storeFailure(error)),
        );
      });
    },
    settle(record) {
      const set = waiters.get(record.request.id);
      if (!set) return;
      for (const waiter of [...set]) waiter.settle(record);
    },
    failAll(errorOf) {
      for (const set of [...waiters.values()]) {
        for (const waiter of [...set]) waiter.fail(errorOf());
      }
      waiters.clear();
    },
  };
}
