/** Notification dispatch: every notifier is called without being awaited; a failure becomes `notify-failed` and `onError`. */
import { HitlError } from './hitl-error.js';
import { errorMessage } from './internal.js';
import type { ApprovalRecord, ManagerEvent, Notifier } from './types.js';

export interface NotificationDispatch {
  /** Tells every notifier about a pending record; returns at once. */
  notify(record: ApprovalRecord): void;
  /** Aborts deliveries in flight (the manager is closing); their failures are not reported. */
  close(reason: unknown): void;
}

export function createNotificationDispatch({
  notifiers,
  emit,
  reportError,
  isClosed,
}: {
  notifiers: readonly Notifier[];
  emit: (event: ManagerEvent) => void;
  reportError: (error: unknown, record?: ApprovalRecord) => void;
  isClosed: () => boolean;
}): NotificationDispatch {
  const notifierList = [...notifiers];
  const controller = new AbortController();

  return {
    notify(record) {
      for (const notifier of notifierList) {
        const fail = (error: unknown) => {
          // A delivery cut short by close() is the shutdown the caller asked for, not a failure.
          if (isClosed()) return;
          const failure = HitlError.is(error, 'notify_failed')
            ? error
            : new HitlError(
                'notify_failed',
                `notifier '${notifier.name}' failed for request '${record.request.id}': ${errorMessage(error)}`,
                {
                  cause: error,
                  details: { ids: [record.request.id] },
                },
              );
          emit({ type: 'notify-failed', record, notifier: notifier.name, error: failure });
          reportError(failure, record);
        };
        try {
          Promise.resolve(notifier.notify(record, { signal: controller.signal })).then(undefined, fail);
        } catch (error) {
          fail(error);
        }
      }
    },
    close(reason) {
      controller.abort(reason);
    },
  };
}
