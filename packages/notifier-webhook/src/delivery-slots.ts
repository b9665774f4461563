/** Delivery slots and waits: at most `concurrency` attempts in flight, the rest wait in order; backoff sleeps end on abort. */
import type { Scheduler } from '@hitl/core';

export interface DeliverySlots {
  /** Resolves when a slot is free (and takes it); rejects with the signal's reason if it aborts first. */
  acquire(signal: AbortSignal): Promise<void>;
  /** Gives a slot back; the longest waiter gets it. */
  release(): void;
  /** How many slots are taken. */
  inUse(): number;
}

export function createDeliverySlots(concurrency: number): DeliverySlots {
  const slotWaiters = new Set<() => void>();
  let sending = 0;

  return {
    acquire(signal) {
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      if (sending < concurrency) {
        sending += 1;
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          sending += 1;
          resolve();
        };
        const onAbort = () => {
          slotWaiters.delete(grant);
          reject(signal.reason as Error);
        };
        slotWaiters.add(grant);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    release() {
      sending -= 1;
      for (const grant of slotWaiters) {
        slotWaiters.delete(grant);
        grant();
        break;
      }
    },
    inUse: () => sending,
  };
}

/** Waits `delayMs` on `scheduler`; rejects with the signal's reason (and clears the timer) if it aborts first. */
export function abortableSleep(scheduler: Scheduler, delayMs: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      scheduler.clearTimeout(handle);
      reject(signal.reason as Error);
    };
    const handle = scheduler.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
