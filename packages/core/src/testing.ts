/** `@hitl/core/testing`: a manual clock, a recording notifier, a test manager and the store conformance cases. */
import { createManager } from './approval-manager.js';
import type { ApprovalRecord, Manager, ManagerEvent, ManagerOptions, Notifier, Scheduler } from './types.js';

/**
 * A clock you move by hand, usable as a manager's `now` and `scheduler`. `advance(ms)` runs every
 * timer that falls due, in order, including timers set by those timers.
 *
 * @example
 * ```ts
 * const clock = createManualClock();
 * const manager = createManager({ now: clock.now, scheduler: clock, timeoutMs: 1_000 });
 * clock.advance(1_000); // pending requests expire now
 * ```
 */
export interface ManualClock extends Scheduler {
  now(): number;
  advance(ms: number): void;
  /** How many timers are waiting to fire. */
  pendingTimers(): number;
}

/** Creates a {@link ManualClock} starting at `startMs` (default 2026-01-01T00:00:00Z). */
export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let current = startMs;
  let sequence = 0;
  const timers = new Map<number, { due: number; order: number; callback: () => void }>();
  return {
    now: () => current,
    setTimeout(callback, delayMs) {
      const handle = ++sequence;
      timers.set(handle, { due: current + Math.max(0, delayMs), order: handle, callback });
      return handle;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const target = current + ms;
      for (;;) {
        let next: [number, { due: number; order: number; callback: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].due > target) continue;
          if (!next || entry[1].due < next[1].due || (entry[1].due === next[1].due && entry[1].order < next[1].order)) next = entry;
        }
        if (!next) break;
        timers.delete(next[0]);
        current = Math.max(current, next[1].due);
        next[1].callback();
      }
      current = target;
    },
    pendingTimers: () => timers.size,
  };
}

/** A notifier that remembers what it was told; see {@link createRecordingNotifier}. */
export interface RecordingNotifier extends Notifier {
  /** Every record notified, in order. */
  readonly records: ApprovalRecord[];
  /** Resolves with the next record notified (or the oldest one not yet taken). */
  next(): Promise<ApprovalRecord>;
}

/**
 * A notifier for tests: records every pending request and lets a test wait for the next one, so a
 * test can answer a request from "elsewhere" as a reviewer would. With `fail`, every `notify`
 * rejects after recording.
 *
 * @example
 * ```ts
 * const notifier = createRecordingNotifier();
 * const manager = createManager({ notifiers: [notifier] });
 * const waiting = manager.requestInteraction({ toolName: 'delete_user' });
 * const record = await notifier.next();
 * await manager.respond(record.request.id, { decision: 'approve' });
 * await waiting;
 * ```
 */
export function createRecordingNotifier(options: { name?: string; fail?: Error } = {}): RecordingNotifier {
  const records: ApprovalRecord[] = [];
  const unread: ApprovalRecord[] = [];
  const readers: Array<(record: ApprovalRecord) => void> = [];
  return {
    name: options.name ?? 'recording',
    records,
    async notify(record) {
      records.push(record);
      const reader = readers.shift();
      if (reader) reader(record);
      else unread.push(record);
      if (options.fail) throw options.fail;
    },
    next() {
      const record = unread.shift();
      if (record) return Promise.resolve(record);
      return new Promise((resolve) => readers.push(resolve));
    },
  };
}

/**
 * Resolves with the next event of a type the manager emits.
 *
 * @example
 * ```ts
 * const decided = nextEvent(manager, 'request-decided');
 * await manager.respond(id, { decision: 'approve' });
 * (await decided).record.status; // 'approved'
 * ```
 */
export function nextEvent<T extends ManagerEvent['type']>(manager: Manager, type: T): Promise<Extract<ManagerEvent, { type: T }>> {
  return new Promise((resolve) => {
    const unsubscribe = manager.subscribe((event) => {
      if (event.type !== type) return;
      unsubscribe();
      resolve(event as Extract<ManagerEvent, { type: T }>);
    });
  });
}

/** What {@link createTestManager} returns. */
export interface TestManager {
  manager: Manager;
  clock: ManualClock;
  notifier: RecordingNotifier;
}

/**
 * A manager on a manual clock with a recording notifier, for adapter tests. Options are passed to
 * `createManager` (its `now`, `scheduler` and first notifier are the test's).
 *
 * @example
 * ```ts
 * const { manager, clock, notifier } = createTestManager({ timeoutMs: 5_000 });
 * manager.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
 * ```
 */
export function createTestManager(options: Omit<ManagerOptions, 'now' | 'scheduler'> = {}): TestManager {
  const clock = createManualClock();
  const notifier = createRecordingNotifier();
  const manager = createManager({
    ...options,
    now: clock.now,
    scheduler: clock,
    notifiers: [notifier, ...(options.notifiers ?? [])],
  });
  return { manager, clock, notifier };
}

export { storeConformanceCases } from './store-conformance.js';
export type { StoreConformanceCase, StoreConformanceOptions } from './store-conformance.js';
