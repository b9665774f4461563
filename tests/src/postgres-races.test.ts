// Races on the PostgreSQL store: random interleavings, open-ended requests, and decisions racing the deadline by the database clock.
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createManager, HitlError } from '@hitl/core';
import type { ApprovalRecord, ManagerEvent } from '@hitl/core';
import { createManualClock } from '@hitl/core/testing';
import { createPostgresStore } from '@hitl/store-postgres';
import type { PostgresStore } from '@hitl/store-postgres';
import { runScenario, scenarioArbitrary } from './interleavings.js';
import { createRecordingLogger, within } from '@hitl/test-kit';
import { connectAdmin, createTestPool, testSchema } from '@hitl/test-kit/postgres';

const { schema, drop } = testSchema('hitl_races');
const table = 'requests';
let admin: pg.Client;
let pool: pg.Pool;
let store: PostgresStore;

beforeAll(async () => {
  admin = await connectAdmin();
  pool = createTestPool('hitl_races', { max: 8 });
  // The sweeper is off: in these scenarios only the managers change a status, so every transition
  // has exactly one manager that made it and runs its hook (see the defect report on sweeper expiry).
  store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
  await store.migrate();
});

afterAll(async () => {
  await store.close();
  await pool.end();
  await drop(admin);
  await admin.end();
});

describe('races on the Postgres store', () => {
  it('random interleavings of submit, respond, cancel, expiry, waitFor and close: one final status, seen by all (1,000 runs)', async () => {
    // The same scenarios as on the memory store, on one PostgreSQL store shared by every run (each
    // run's ids carry its number). Both managers and the janitor of a run use that store, as two
    // instances would share one; the scheduler holds back every reply, so real concurrent statements
    // race in PostgreSQL while their answers arrive in a random order.
    //
    // The database clock: the scenarios' manual clock starts at 2026-01-01 and moves by at most a few
    // hours, while PostgreSQL's `now()` is the real time. On any machine whose clock is past
    // 2026-01-01, every finite deadline (100 ms, 1 s) has passed by the database clock from the start:
    // the store refuses approve/reject/modify/cancel on those requests ("expired at …") and the
    // manager records the expiry instead, while `Infinity` requests take every decision. The property
    // is unchanged (one final status, every waiter sees it, one hook and one event per transition);
    // the statuses it reaches are tallied below. Expiry racing decisions at the database's own
    // instant is tested in the next test.
    let runs = 0;
    const startedAt = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArbitrary, async (scheduler, scenario) => {
        const run = ++runs;
        await runScenario(scheduler, scenario, async () => ({
          store,
          ids: (index) => `run${run}-r${index}`,
          cleanup: async () => undefined,
        }));
      }),
      { numRuns: Number(process.env.RUNS ?? 1_000), timeout: 20_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(1_000);

    const tally = await statusTally();
    console.info(`Postgres interleavings: ${runs} runs in ${Date.now() - startedAt} ms; final statuses ${JSON.stringify(tally)}`);
    expect(tally.pending ?? 0).toBe(0);
    for (const status of ['approved', 'rejected', 'modified', 'expired', 'cancelled']) expect(tally[status] ?? 0).toBeGreaterThan(0);
  });

  it('the same interleavings with every request open-ended: decisions, cancels and close race in PostgreSQL (1,000 runs)', async () => {
    // With every finite deadline already past by the database clock (see above), the first property
    // decides few requests by hand. Here every request waits forever, so each run races reviewers,
    // cancels, re-submits and closes on live rows.
    let runs = 0;
    const startedAt = Date.now();
    const before = await statusTally();
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        scenarioArbitrary.map((scenario) => ({ ...scenario, timeouts: scenario.timeouts.map(() => Infinity) })),
        async (scheduler, scenario) => {
          const run = ++runs;
          await runScenario(scheduler, scenario, async () => ({
            store,
            ids: (index) => `open${run}-r${index}`,
            cleanup: async () => undefined,
          }));
        },
      ),
      { numRuns: Number(process.env.RUNS ?? 1_000), timeout: 20_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(1_000);
    const after = await statusTally();
    const added = Object.fromEntries(Object.entries(after).map(([status, count]) => [status, count - (before[status] ?? 0)]));
    console.info(
      `Postgres interleavings, open-ended requests: ${runs} runs in ${Date.now() - startedAt} ms; final statuses ${JSON.stringify(added)}`,
    );
    expect(after.pending ?? 0).toBe(0);
    expect(added.expired ?? 0).toBe(0);
    for (const status of ['approved', 'rejected', 'modified', 'cancelled']) expect(added[status] ?? 0).toBeGreaterThanOrEqual(5);
  });

  it('a decision racing the deadline by the database clock, 1,000 times: store, respond, waiter, hooks and events agree', async () => {
    // Here the manager's clock starts at the real time, shifted by a random skew, so the deadline by
    // the database clock falls a few milliseconds before or after the reviewer's decision reaches
    // PostgreSQL: the skew is centred on how long a trial's submit and decision recently took (a
    // loaded machine is slower), plus or minus 15 ms. The manager's own expiry timer fires (when its clock is moved) before the decision,
    // at the same time, or not at all; the store refuses an expiry the database clock has not
    // reached, and the manager retries it 100 ms later by its clock.
    //
    // Whoever records a transition runs its hook when its statement's reply arrives; the waiter and
    // the events may learn of it sooner, through the change feed (the NOTIFY and a read on another
    // connection) or a read of the row. On a loaded machine the backend that committed the expiry can
    // be descheduled before it replies, so the waiter settles first and the hook runs a little later:
    // this test once checked hooks one tick after the waiter settled and failed under load. Now it
    // waits (bounded) for the hook and the event, and half the trials force that order: the reply of
    // every expiry statement is held until the waiter has settled.
    const variants = ['respond-only', 'timer-first', 'together'] as const;
    const tally = new Map<string, number>();
    const gated = createExpiryReplyGate(createTestPool('hitl_races_gated', { max: 8 }));
    const gatedStore = createPostgresStore({ pool: gated.pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
    let heldReplies = 0;
    let trials = 0;
    const startedAt = Date.now();
    const recentLatencies: number[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...variants),
        fc.integer({ min: -15, max: 15 }),
        fc.boolean(),
        async (variant, offsetMs, slowReply) => {
          trials++;
          const typical =
            recentLatencies.length === 0 ? 5 : [...recentLatencies].sort((x, y) => x - y)[Math.floor(recentLatencies.length / 2)]!;
          const trialStart = Date.now();
          const clock = createManualClock(trialStart + offsetMs + typical - 20);
          const hooks: string[] = [];
          const hookRan = deferred();
          const hook = (name: string) => () => {
            hooks.push(name);
            hookRan.resolve();
          };
          const manager = createManager({
            store: slowReply ? gatedStore : store,
            now: clock.now,
            scheduler: clock,
            timeoutMs: 20,
            hooks: {
              onApprove: hook('approve'),
              onTimeout: hook('timeout'),
              onReject: hook('reject'),
              onCancel: hook('cancel'),
              onError: () => undefined,
            },
          });
          const events: ManagerEvent['type'][] = [];
          const eventSeen = deferred();
          let id = '';
          manager.subscribe((event) => {
            if (event.record.request.id !== id || event.type === 'request-created') return;
            events.push(event.type);
            eventSeen.resolve();
          });
          try {
            const record: ApprovalRecord = await manager.submit({ toolName: 'delete_user', input: { trial: trials } });
            id = record.request.id;
            const waiter = manager.waitFor(id).then(
              (response) => response.decision,
              (error: unknown) => (HitlError.is(error) ? error.code : 'unexpected'),
            );
            if (slowReply) gated.holdUntil(waiter);
            const approve = () =>
              manager.respond(id, { decision: 'approve', respondedBy: 'alice' }).then(
                (decided) => (decided.status === 'approved' ? 'approved' : `unexpected ${decided.status}`),
                (error: unknown) => (HitlError.is(error) ? error.code : 'unexpected'),
              );
            let answer: string;
            if (variant === 'timer-first') {
              clock.advance(20);
              answer = await approve();
            } else if (variant === 'together') {
              const responding = approve();
              clock.advance(20);
              answer = await responding;
            } else {
              answer = await approve();
            }
            recentLatencies.push(Date.now() - trialStart);
            if (recentLatencies.length > 20) recentLatencies.shift();
            const seen = await within(waiter, 10_000, 'the waiter');
            // The hook runs when the recording statement's reply arrives, the event when this manager
            // hears of the change: wait for both (bounded), then one more turn for any duplicate.
            await within(hookRan.promise, 10_000, 'the hook');
            await within(eventSeen.promise, 10_000, 'the event');
            await new Promise((resolve) => setImmediate(resolve));
            const stored = await store.get(id);
            if (stored?.status === 'approved') {
              expect([answer, seen, events, hooks]).toEqual(['approved', 'approve', ['request-decided'], ['approve']]);
            } else {
              expect(stored?.status).toBe('expired');
              expect([answer, seen, events, hooks]).toEqual(['conflict', 'timeout', ['request-expired'], ['timeout']]);
            }
            const key = `${variant}:${stored?.status}`;
            tally.set(key, (tally.get(key) ?? 0) + 1);
          } finally {
            gated.release();
            await manager.close();
          }
        },
      ),
      { numRuns: 1_000 },
    );
    heldReplies = gated.held;
    await gatedStore.close();
    await gated.pool.end();
    expect(trials).toBeGreaterThanOrEqual(1_000);
    const counts = Object.fromEntries([...tally].sort());
    console.info(
      `Postgres expiry instant: ${trials} trials in ${Date.now() - startedAt} ms; ${JSON.stringify(counts)}; ${heldReplies} expiry replies held past the waiter`,
    );
    // The forced order (waiter before the hook's reply) really happened.
    expect(heldReplies).toBeGreaterThan(50);
    // Both outcomes happen, so the race was real.
    expect([...tally].filter(([key]) => key.endsWith(':approved')).reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThan(50);
    expect([...tally].filter(([key]) => key.endsWith(':expired')).reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThan(50);
  });
});

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * A pool whose expiry statements (the store's `UPDATE … SET status = 'expired'`) commit at once but
 * whose replies are held until `holdUntil`'s promise settles (or `release`): a backend descheduled
 * between COMMIT and its reply, on demand. The change feed, on its own connection, is not held.
 */
function createExpiryReplyGate(pool: pg.Pool): {
  pool: pg.Pool;
  held: number;
  holdUntil(promise: Promise<unknown>): void;
  release(): void;
} {
  let gate: Promise<unknown> | undefined;
  let open: (() => void) | undefined;
  const state = {
    pool,
    held: 0,
    holdUntil(promise: Promise<unknown>) {
      const released = new Promise<void>((resolve) => {
        open = resolve;
      });
      gate = Promise.race([promise, released]);
    },
    release() {
      open?.();
      gate = undefined;
    },
  };
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    const config = args[0] as { values?: unknown[] } | undefined;
    const expiry = typeof config === 'object' && config !== null && Array.isArray(config.values) && config.values[2] === 'expired';
    const waitFor = expiry ? gate : undefined;
    const result = await query(...args);
    if (waitFor !== undefined) {
      state.held++;
      await waitFor;
    }
    return result;
  };
  return state;
}

async function statusTally(): Promise<Record<string, number>> {
  const statuses = await admin.query<{ status: string; count: string }>(
    `SELECT status, count(*)::text AS count FROM "${schema}"."${table}" GROUP BY status`,
  );
  return Object.fromEntries(statuses.rows.map((row) => [row.status, Number(row.count)]));
}
