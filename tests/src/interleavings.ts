// Random interleavings of two managers on one store whose answers arrive in a fast-check scheduled order, and the checks after each.
import fc from 'fast-check';
import {
  createManager,
  HitlError,
  type ApprovalRecord,
  type ApprovalStore,
  type Decision,
  type Manager,
  type ManagerHooks,
  type RequestStatus,
} from '@hitl/core';
import { createManualClock } from '@hitl/core/testing';

/** One step of a scenario, run by one of two managers sharing a store. */
export type Operation =
  | { kind: 'respond'; target: number; via: number; reviewer: number; decision: Decision }
  | { kind: 'cancel'; target: number; via: number }
  | { kind: 'wait'; target: number; via: number; abortLater: boolean }
  | { kind: 'resubmit'; target: number; via: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'close'; via: number };

export const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant('respond' as const),
    target: fc.nat(2),
    via: fc.nat(1),
    reviewer: fc.nat(3),
    decision: fc.constantFrom<Decision>('approve', 'reject', 'modify'),
  }),
  fc.record({ kind: fc.constant('cancel' as const), target: fc.nat(2), via: fc.nat(1) }),
  fc.record({ kind: fc.constant('wait' as const), target: fc.nat(2), via: fc.nat(1), abortLater: fc.boolean() }),
  fc.record({ kind: fc.constant('resubmit' as const), target: fc.nat(2), via: fc.nat(1) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1, 50, 99, 100, 101, 500, 1_000, 5_000) }),
  fc.record({ kind: fc.constant('close' as const), via: fc.nat(1) }),
);

export const scenarioArbitrary = fc.record({
  timeouts: fc.array(fc.constantFrom(100, 1_000, Infinity), { minLength: 1, maxLength: 3 }),
  operations: fc.array(operationArbitrary, { maxLength: 14 }),
});

const answerOf: Record<Exclude<RequestStatus, 'pending'>, string> = {
  approved: 'approve',
  rejected: 'reject',
  modified: 'modify',
  expired: 'timeout',
  cancelled: 'cancelled',
};

/**
 * A store whose every answer (value or error) is delivered when the fast-check scheduler says so.
 * The operation itself takes effect at once, as a remote store's commit would before its reply.
 */
function scheduled(store: ApprovalStore, scheduler: fc.Scheduler): ApprovalStore {
  const later = <T>(operation: Promise<T>, label: string): Promise<T> => {
    const settled = operation.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    return scheduler.schedule(settled, label).then((outcome) => (outcome.ok ? outcome.value : Promise.reject(outcome.error)));
  };
  return {
    create: (record) => later(store.create(record), `create ${record.request.id}`),
    get: (id) => later(store.get(id), `get ${id}`),
    list: (query) => later(store.list(query), 'list'),
    decide: (id, expected, patch) => later(store.decide(id, expected, patch), `decide ${id} ${patch.status}`),
    subscribe: (listener) => store.subscribe(listener),
  };
}

interface WaiterLog {
  target: number;
  via: number;
  aborted: boolean;
  startedBeforeCreated: boolean;
  outcome?: string;
}

/**
 * Runs one scenario: two managers share a store whose answers arrive in an order chosen by the
 * fast-check scheduler; submit, respond (several reviewers), cancel, waitFor, idempotent
 * re-submits, clock advances (expiry) and close are interleaved. Then checks that every request
 * ended in exactly one final status, every waiter saw that status, and hooks and events fired once
 * per transition. Throws (failing the property) when something disagrees.
 */
export async function runScenario(
  scheduler: fc.Scheduler,
  scenario: { timeouts: number[]; operations: Operation[] },
  makeStore: () => Promise<{ store: ApprovalStore; ids: (index: number) => string; cleanup(): Promise<void> }>,
): Promise<void> {
  const { store: base, ids, cleanup } = await makeStore();
  const clock = createManualClock();
  const store = scheduled(base, scheduler);
  const hookCalls = new Map<string, string[]>();
  const hook = (name: string) => (record: ApprovalRecord) => {
    const calls = hookCalls.get(record.request.id) ?? [];
    calls.push(name);
    hookCalls.set(record.request.id, calls);
  };
  const hooks: ManagerHooks = {
    onApprove: hook('approve'),
    onReject: hook('reject'),
    onModify: hook('modify'),
    onTimeout: hook('timeout'),
    onCancel: hook('cancel'),
    onError: () => undefined,
  };
  const options = { now: clock.now, scheduler: clock, hooks, policies: [{ name: 'all', toolPattern: '*', requireExplicit: true }] };
  const managers: Manager[] = [createManager({ ...options, store }), createManager({ ...options, store })];
  const closed = [false, false];
  const finalEvents = managers.map(() => new Map<string, number>());
  managers.forEach((manager, index) =>
    manager.subscribe((event) => {
      if (event.type === 'request-created' || event.type === 'notify-failed') return;
      const seen = finalEvents[index] as Map<string, number>;
      seen.set(event.record.request.id, (seen.get(event.record.request.id) ?? 0) + 1);
    }),
  );

  const created = new Set<number>();
  const submitErrors = new Map<number, string>();
  const wins = new Map<string, string[]>();
  const waiters: WaiterLog[] = [];
  const work: Promise<unknown>[] = [];
  const requestOf = (index: number) => ({
    id: ids(index),
    toolName: 'delete_user',
    input: { user_id: String(index) },
    timeoutMs: scenario.timeouts[index] as number,
  });

  scenario.timeouts.forEach((_, index) => {
    work.push(
      managers[0]!.submit(requestOf(index)).then(
        () => created.add(index),
        (error: unknown) => submitErrors.set(index, HitlError.is(error) ? error.code : String(error)),
      ),
    );
  });

  const run = async (operation: Operation): Promise<void> => {
    if (operation.kind === 'advance') {
      clock.advance(operation.ms);
      return;
    }
    if (operation.kind === 'close') {
      closed[operation.via] = true;
      await managers[operation.via]!.close();
      return;
    }
    if (operation.target >= scenario.timeouts.length) return;
    const manager = managers[operation.via]!;
    const id = ids(operation.target);
    switch (operation.kind) {
      case 'respond': {
        const answer = await manager
          .respond(id, {
            decision: operation.decision,
            respondedBy: `reviewer-${operation.reviewer}`,
            ...(operation.decision === 'modify' ? { modified: { user_id: 'edited' } } : {}),
          })
          .then(
            (record) => `${record.status}:${record.response?.respondedBy}`,
            (error: unknown) => {
              if (!HitlError.is(error)) throw error;
              return undefined;
            },
          );
        if (answer) wins.set(id, [...(wins.get(id) ?? []), answer]);
        return;
      }
      case 'cancel': {
        const answer = await manager.cancel(id, 'scenario').then(
          () => 'cancelled',
          (error: unknown) => {
            if (!HitlError.is(error)) throw error;
            return undefined;
          },
        );
        if (answer) wins.set(id, [...(wins.get(id) ?? []), answer]);
        return;
      }
      case 'resubmit': {
        await manager.submit(requestOf(operation.target)).then(
          (record) => {
            if (record.request.id !== id) throw new Error('re-submit returned another record');
          },
          (error: unknown) => {
            if (!HitlError.is(error)) throw error;
          },
        );
        return;
      }
      case 'wait': {
        const controller = new AbortController();
        const log: WaiterLog = {
          target: operation.target,
          via: operation.via,
          aborted: false,
          startedBeforeCreated: !created.has(operation.target),
        };
        waiters.push(log);
        const waiting = manager.waitFor(id, { signal: controller.signal }).then(
          (response) => (log.outcome = response.decision),
          (error: unknown) => {
            if (!HitlError.is(error)) throw error;
            log.outcome = error.code;
          },
        );
        if (operation.abortLater) {
          work.push(
            scheduler.schedule(Promise.resolve(), 'abort').then(() => {
              log.aborted = true;
              controller.abort();
            }),
          );
        }
        await waiting;
        return;
      }
    }
  };

  for (const operation of scenario.operations) {
    work.push(scheduler.schedule(Promise.resolve(), `start ${JSON.stringify(operation)}`).then(() => run(operation)));
  }
  await scheduler.waitIdle();

  // Settle what is left: managers still open see their expiry timers fire; a third manager, never
  // closed, cancels (or, past the deadline, expires) whatever is still pending.
  clock.advance(10_000_000);
  await scheduler.waitIdle();
  const janitor = createManager({ ...options, store: base });
  for (let index = 0; index < scenario.timeouts.length; index++) {
    const record = await base.get(ids(index));
    if (record?.status === 'pending') await janitor.cancel(ids(index), 'end of scenario').catch(() => undefined);
  }
  await scheduler.waitIdle();
  await Promise.all(work);
  await janitor.close();

  try {
    for (let index = 0; index < scenario.timeouts.length; index++) {
      const id = ids(index);
      const record = await base.get(id);
      if (!record) {
        // Only a manager closed before its submit completed may leave a request unstored.
        if (submitErrors.get(index) === 'cancelled' && closed[0]) continue;
        throw new Error(`request ${id} was never stored (submit: ${submitErrors.get(index) ?? 'ok'})`);
      }
      if (record.status === 'pending') throw new Error(`request ${id} is still pending`);
      const transitions = hookCalls.get(id) ?? [];
      if (transitions.length !== 1) throw new Error(`request ${id} had ${transitions.length} transitions: ${transitions.join(', ')}`);
      const expectedHook = { approved: 'approve', rejected: 'reject', modified: 'modify', expired: 'timeout', cancelled: 'cancel' }[
        record.status
      ];
      if (transitions[0] !== expectedHook) throw new Error(`request ${id} is ${record.status} but its hook was ${transitions[0]}`);
      const won = wins.get(id) ?? [];
      if (won.length > 1) throw new Error(`request ${id} was decided ${won.length} times: ${won.join(', ')}`);
      if (
        won.length === 1 &&
        won[0] !== (record.status === 'cancelled' ? 'cancelled' : `${record.status}:${record.response?.respondedBy}`)
      ) {
        if (!(won[0] === 'cancelled' && record.closedReason === 'scenario')) {
          throw new Error(`request ${id}: the winning call saw ${won[0]} but the store holds ${record.status}`);
        }
      }
      managers.forEach((_, via) => {
        const count = finalEvents[via]!.get(id) ?? 0;
        if (count > 1 || (!closed[via] && count !== 1)) {
          throw new Error(`manager ${via} (${closed[via] ? 'closed' : 'open'}) emitted ${count} final events for ${id}`);
        }
      });
      for (const waiter of waiters.filter((item) => item.target === index)) {
        if (waiter.outcome === undefined) throw new Error(`a waiter on ${id} never settled`);
        const expected = answerOf[record.status];
        const allowed = new Set([expected]);
        if (waiter.aborted || closed[waiter.via]) allowed.add('cancelled');
        if (waiter.startedBeforeCreated) allowed.add('not_found');
        if (!allowed.has(waiter.outcome)) {
          throw new Error(`a waiter on ${id} saw ${waiter.outcome}, the store holds ${record.status}`);
        }
      }
    }
  } finally {
    await Promise.all(managers.map((manager) => manager.close()));
    await cleanup();
  }
}
