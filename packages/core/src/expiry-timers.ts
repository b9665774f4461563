/** Expiry timers of pending requests: one timer per request, re-armed past setTimeout's limit and retried on a store's refusal. */
import { HitlError } from './hitl-error.js';
import { storeFailure } from './store-failure.js';
import type { DecisionHook } from './manager-events.js';
import type { ApprovalRecord, ApprovalStore, DecidePatch, Scheduler } from './types.js';

/** setTimeout's largest delay; longer waits are re-armed in steps. */
export const MAX_TIMER_DELAY = 2_147_483_647;
const EXPIRY_RETRY_MS = 1_000;
/** How soon to retry an expiry the store refused because its own clock is behind ours. */
const SKEW_RETRY_MS = 100;

export interface ExpiryTimersOptions {
  store: ApprovalStore;
  scheduler: Scheduler;
  now: () => number;
  onTimeout: 'error' | 'reject';
  isClosed: () => boolean;
  runHook: (name: DecisionHook, record: ApprovalRecord) => void;
  reportError: (error: unknown) => void;
  /** Records the expiry (default `store.decide` from pending): the manager's outbox writes its jobs with it. */
  decide?: ((id: string, patch: DecidePatch) => Promise<ApprovalRecord>) | undefined;
}

export interface ExpiryTimers {
  /** Arms the expiry of a pending record with a deadline, unless it is armed already. */
  schedule(record: ApprovalRecord): void;
  /** Disarms a request's timer (it was decided). */
  clear(id: string): void;
  /** Records the expiry now: `store.decide` from pending to expired, then the `onTimeout` hook. */
  expire(id: string, expiresAt: string): Promise<void>;
  /** Disarms every timer (the manager is closing). */
  clearAll(): void;
}

export function createExpiryTimers({
  store,
  scheduler,
  now,
  onTimeout,
  isClosed,
  runHook,
  reportError,
  decide,
}: ExpiryTimersOptions): ExpiryTimers {
  const timers = new Map<string, unknown>();
  const iso = (ms: number) => new Date(ms).toISOString();

  const expire = async (id: string, expiresAt: string): Promise<void> => {
    const closedAt = iso(now());
    const closedReason = `no decision before ${expiresAt}`;
    const patch: DecidePatch = { status: 'expired', closedAt, closedReason };
    if (onTimeout === 'reject') {
      patch.response = {
        requestId: id,
        decision: 'reject',
        feedback: `expired: ${closedReason}`,
        respondedAt: closedAt,
        automatic: true,
        metadata: { cause: 'expiry' },
      };
    }
    const record = decide ? await decide(id, patch) : await store.decide(id, 'pending', patch);
    runHook('onTimeout', record);
  };

  const arm = (id: string, deadline: number, expiresAt: string) => {
    if (isClosed()) return;
    const delay = Math.min(Math.max(deadline - now(), 0), MAX_TIMER_DELAY);
    const handle = scheduler.setTimeout(() => {
      timers.delete(id);
      if (isClosed()) return;
      if (now() < deadline) {
        arm(id, deadline, expiresAt);
        return;
      }
      expire(id, expiresAt).catch(async (error: unknown) => {
        if (HitlError.is(error, 'not_found')) return;
        let retryMs = EXPIRY_RETRY_MS;
        if (HitlError.is(error, 'conflict')) {
          // Someone else decided it, or a store that keeps its own clock (a database's) says the
          // deadline has not come yet by that clock: then try again shortly.
          const current = await store.get(id).catch(() => undefined);
          if (current?.status !== 'pending') return;
          retryMs = SKEW_RETRY_MS;
        } else {
          reportError(storeFailure(error));
        }
        if (!isClosed() && !timers.has(id)) arm(id, now() + retryMs, expiresAt);
      });
    }, delay);
    timers.set(id, handle);
  };

  return {
    schedule(record) {
      if (record.status !== 'pending' || record.expiresAt === undefined) return;
      const id = record.request.id;
      if (timers.has(id)) return;
      arm(id, Date.parse(record.expiresAt), record.expiresAt);
    },
    clear(id) {
      const handle = timers.get(id);
      if (handle !== undefined) {
        scheduler.clearTimeout(handle);
        timers.delete(id);
      }
    },
    expire,
    clearAll() {
      for (const handle of timers.values()) scheduler.clearTimeout(handle);
      timers.clear();
    },
  };
}
