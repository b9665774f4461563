// Faults on the PostgreSQL store through a TCP proxy: lost decide replies, killed LISTEN connections, the database unreachable or lost.
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManager, HitlError } from '@hitl/core';
import type { InteractionResponse } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { closedPort, createRecordingLogger, waitUntil, within } from '@hitl/test-kit';
import { connectAdmin, databaseAddress, testSchema } from '@hitl/test-kit/postgres';
import { percentile, watchUnhandledRejections } from './postgres-support.js';
import {
  countDecidedNotifications,
  createInstances,
  errorOf,
  finalEventsFor,
  hooksFor,
  listenerPid,
  settle,
} from './postgres-support-instances.js';
import { lostReplyFaults, observeWaiter, runLostDecideTrials } from './postgres-support-lost-reply.js';
import { createPostgresProxy } from './postgres-support-proxy.js';
import type { CutMode, PostgresProxy } from './postgres-support-proxy.js';

const { schema, drop } = testSchema('hitl_faults');
let admin: pg.Client;
let proxy: PostgresProxy;
let unhandled: ReturnType<typeof watchUnhandledRejections>;
/** Every test has its own table, hence its own NOTIFY channel. */
let tableCounter = 0;
const cleanups: (() => Promise<unknown>)[] = [];

function nextTable(): { table: string; tableName: string; channel: string; instances: ReturnType<typeof createInstances> } {
  const table = `requests_${++tableCounter}`;
  const instances = createInstances({ schema, table });
  cleanups.push(() => instances.stopAll());
  return { table, tableName: `"${schema}"."${table}"`, channel: `hitl:${schema}.${table}`, instances };
}

beforeAll(async () => {
  admin = await connectAdmin();
  proxy = await createPostgresProxy(databaseAddress());
});

beforeEach(() => {
  unhandled = watchUnhandledRejections();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await proxy.restore();
  // Nothing a test provoked may surface as an unhandled rejection, even while it shuts down.
  expect(unhandled.stop()).toEqual([]);
});

afterAll(async () => {
  await proxy.close();
  await drop(admin);
  await admin.end();
});

describe('faults on the Postgres store', () => {
  it('the decide commits but the client loses its reply: a retry with the same key returns that decision, never a second (60 trials)', async () => {
    const started = Date.now();
    const { tableName, channel, instances } = nextTable();
    // A reaches PostgreSQL through the proxy; its pool gives up on a silent reply after 1.5 s.
    const a = instances.start('a', { port: proxy.port, manualTime: true, pool: { query_timeout: 1_500 } });
    const b = instances.start('b');
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const notifications = await countDecidedNotifications(channel);
    const faults = lostReplyFaults(60);

    const trials = await runLostDecideTrials({ a, b, admin, proxy, tableName, faults });

    // One decision per request reached PostgreSQL's channel; no instance announced it or ran a
    // hook twice. (That A itself announces it, and that its hook runs, is defect D1/D2 in
    // /tmp/hitl-core-requests/postgres-defects.md, checked by postgres-faults.pending.ts.)
    await settle(b, [a, b]);
    for (const { id } of trials) {
      expect(notifications.decided.get(id), `decided notifications of ${id}`).toBe(1);
      expect(finalEventsFor(b, id), `B's events for ${id}`).toEqual(['request-decided']);
      expect(finalEventsFor(a, id).length, `A's events for ${id}`).toBeLessThanOrEqual(1);
      // Hooks are outbox jobs, run at least once: A wrote its job claimed under its manual clock, so
      // B may take it over when that lease looks ended by B's clock while A's retry runs it too.
      // One re-run is what at-least-once allows here; a third run would be a defect.
      expect(hooksFor([a, b], id).length, `hooks for ${id}`).toBeLessThanOrEqual(2);
    }
    await notifications.stop();
    expect(trials).toHaveLength(60);
    const tally = new Map<string, number>();
    for (const { fault } of trials) tally.set(fault.kind, (tally.get(fault.kind) ?? 0) + 1);
    console.info(
      `decide committed, reply lost: ${trials.length} trials ${JSON.stringify(Object.fromEntries(tally))} in ${Date.now() - started} ms`,
    );
  });

  it('the LISTEN connection killed at random points over 500 trials: no waiter blocked past reconnect + 2 s', async () => {
    const started = Date.now();
    const { instances } = nextTable();
    const reconnect = { initialDelayMs: 5, maxDelayMs: 50 };
    const a = instances.start('a', { store: { reconnect } });
    const b = instances.start('b', { store: { reconnect } });
    const c = instances.start('c', { store: { reconnect } });
    await Promise.all([a, b, c].map((instance) => instance.store.migrate()));
    const points = ['before-submit', 'between-submit-and-decide', 'right-after-decide', 'during-reconnect'] as const;
    /** Per trial: ms from the later of (decision, A's last reconnect) to A's waiter resolving; negative when it resolved before A reconnected. */
    const afterReconnect: number[] = [];
    const afterDecision: number[] = [];
    const controlLatencies: number[] = [];
    const tally = new Map<string, number>();
    let trials = 0;

    const kill = async (pid: number) => {
      const result = await admin.query<{ killed: boolean }>('SELECT pg_terminate_backend($1) AS killed', [pid]);
      return result.rows[0]?.killed === true;
    };
    const yieldTimes = async (count: number) => {
      for (let index = 0; index < count; index++) await new Promise((resolve) => setImmediate(resolve));
    };

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...points), fc.nat(6), async (point, jitter) => {
        trials++;
        const what = `trial ${trials} (${point}, jitter ${jitter})`;
        // A's listener is up (reconnected after the previous trial's kill).
        const pid = await waitUntil(() => listenerPid(admin, a), { what: `A's listener before ${what}` });
        const logMark = a.logger.entries.length;
        const killed: number[] = [];
        let lastKillAt = 0;
        const killNow = async (target: number) => {
          lastKillAt = Date.now();
          if (await kill(target)) killed.push(target);
        };

        if (point === 'before-submit') await killNow(pid);
        const { request } = await c.manager.submit({ toolName: 'delete_user', input: { trial: trials }, timeoutMs: Infinity });
        const id = request.id;
        const waiterOnA = observeWaiter(a.manager.waitFor(id));
        const waiterOnC = observeWaiter(c.manager.waitFor(id));
        if (point === 'between-submit-and-decide') {
          await yieldTimes(jitter);
          await killNow(pid);
        }
        let deciding: Promise<InteractionResponse | undefined> | undefined;
        let decidedAt = 0;
        const decide = () => {
          deciding = b.manager.respond(id, { decision: 'approve', respondedBy: 'bob' }).then((record) => {
            decidedAt = Date.now();
            return record.response;
          });
          return deciding;
        };
        if (point === 'right-after-decide') {
          await decide();
          await yieldTimes(jitter);
          await killNow(pid);
        } else if (point === 'during-reconnect') {
          // Kill, decide while A reconnects, then kill A's new listener as soon as it shows up
          // (while it re-reads what it missed, or just after), so it reconnects a second time.
          await killNow(pid);
          await yieldTimes(jitter);
          void decide();
          const second = await waitUntil(
            async () => {
              const current = await listenerPid(admin, a);
              return current !== undefined && current !== pid ? current : undefined;
            },
            { intervalMs: 1, what: `A's new listener in ${what}` },
          );
          await killNow(second);
        } else {
          await decide();
        }
        if (deciding === undefined) throw new Error(`no decision in ${what}`);
        const decided = await within(deciding, 10_000, `the decision in ${what}`);

        // A's listener comes back: the first "is back" after the last kill (bounded).
        let reconnectedAt = Number.POSITIVE_INFINITY;
        if (killed.length > 0) {
          const back = await waitUntil(
            () =>
              a.logger.entries
                .slice(logMark)
                .find((entry) => entry.level === 'info' && entry.message.includes('is back') && entry.at >= lastKillAt),
            { timeoutMs: 10_000, what: `A's listener to come back in ${what}` },
          );
          reconnectedAt = back.at;
        }
        const bound = Math.max(decidedAt, Number.isFinite(reconnectedAt) ? reconnectedAt : decidedAt) + 2_000;
        const onA = await within(waiterOnA, Math.max(bound - Date.now(), 0) + 50, `A's waiter in ${what}`);
        const onC = await within(waiterOnC, 5_000, `C's waiter in ${what}`);
        expect(onA.outcome, what).toEqual(decided);
        expect(onC.outcome, what).toEqual(decided);
        expect(onA.at, `${what}: A's waiter resolved after its bound`).toBeLessThanOrEqual(bound);
        afterReconnect.push(onA.at - Math.max(decidedAt, Number.isFinite(reconnectedAt) ? reconnectedAt : decidedAt));
        afterDecision.push(onA.at - decidedAt);
        controlLatencies.push(onC.at - decidedAt);
        const key = `${point}${killed.length === 0 ? ':nothing-killed' : ''}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }),
      { numRuns: 500 },
    );
    expect(trials).toBeGreaterThanOrEqual(500);
    // Every kind of point was hit and the kills were real.
    for (const point of points) expect(tally.get(point) ?? 0).toBeGreaterThan(50);

    await settle(c, [a, b, c]);
    const ids = new Set(
      c.events
        .filter((event) => event.type === 'request-created' && event.record.request.toolName === 'delete_user')
        .map((event) => event.record.request.id),
    );
    expect(ids.size).toBe(trials);
    for (const id of ids) {
      for (const instance of [a, b, c])
        expect(finalEventsFor(instance, id), `${instance.applicationName} events for ${id}`).toEqual(['request-decided']);
      expect(hooksFor([a, b, c], id)).toEqual(['approve']);
    }
    const summary = (values: number[]) =>
      `p50 ${percentile(values, 50)} ms, p99 ${percentile(values, 99)} ms, max ${Math.max(...values)} ms`;
    console.info(
      `LISTEN killed: ${trials} trials ${JSON.stringify(Object.fromEntries(tally))} in ${Date.now() - started} ms; ` +
        `A's waiter after max(decision, reconnect): ${summary(afterReconnect)}; after the decision: ${summary(afterDecision)}; ` +
        `control waiter on C: ${summary(controlLatencies)}; reconnects logged by A: ${a.logger.messages('info').filter((message) => message.includes('is back')).length}`,
    );
  });

  it('a database unreachable from the start: every manager call rejects with store_unavailable', async () => {
    const { table } = nextTable();
    const port = await closedPort();
    const logger = createRecordingLogger();
    const store = createPostgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
      schema,
      table,
      logger,
      sweepIntervalMs: 20,
      reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
    });
    const manager = createManager({ store, logger, timeoutMs: 60_000 });
    cleanups.push(async () => {
      await manager.close();
      await store.close();
    });
    const calls: [string, () => Promise<unknown>][] = [
      ['submit', () => manager.submit({ toolName: 'delete_user', input: { user_id: '1' } })],
      ['submit with an id', () => manager.submit({ id: 'known-id', toolName: 'delete_user' })],
      ['requestInteraction', () => manager.requestInteraction({ toolName: 'delete_user' })],
      ['respond', () => manager.respond('known-id', { decision: 'approve', idempotencyKey: 'k' })],
      ['cancel', () => manager.cancel('known-id')],
      ['get', () => manager.get('known-id')],
      ['list', () => manager.list({ status: 'pending' })],
      ['waitFor', () => manager.waitFor('known-id')],
      ['store.migrate', () => store.migrate()],
      ['store.sweep', () => store.sweep()],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [name, call] of calls) {
        const error = await within(errorOf(call()), 15_000, name);
        expect([name, error.code]).toEqual([name, 'store_unavailable']);
      }
    }
    expect(logger.messages('warn').some((message) => message.includes('could not start'))).toBe(true);
  });

  it('the database lost mid-flight (refused, reset or silent), 60 trials: calls reject with store_unavailable, then recover', async () => {
    const started = Date.now();
    const { instances } = nextTable();
    // D reaches PostgreSQL through the proxy; a silent database is given up on after 1 s.
    const d = instances.start('d', {
      port: proxy.port,
      pool: { connectionTimeoutMillis: 1_000, query_timeout: 1_000 },
      store: { sweepIntervalMs: 20, reconnect: { initialDelayMs: 5, maxDelayMs: 50, heartbeatIntervalMs: 200 } },
    });
    const e = instances.start('e');
    await Promise.all([d.store.migrate(), e.store.migrate()]);
    const tally = new Map<string, number>();
    const recoveries: number[] = [];
    let trials = 0;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom<CutMode>('refuse', 'reset', 'black-hole'), fc.nat(10), async (mode, statements) => {
        trials++;
        const what = `trial ${trials} (${mode} after ${statements} statements)`;
        await proxy.restore();
        // The store is healthy again: a call goes through (bounded).
        const restoredAt = Date.now();
        await waitUntil(
          () =>
            d.manager.list({ limit: 1 }).then(
              () => true,
              () => false,
            ),
          { what: `D to recover before ${what}` },
        );
        recoveries.push(Date.now() - restoredAt);
        const pending = await Promise.all(
          [0, 1, 2].map((index) => d.manager.submit({ toolName: 'delete_user', input: { index }, timeoutMs: Infinity })),
        );
        const ids = pending.map((record) => record.request.id);
        const waiters = ids.map((id) => observeWaiter(d.manager.waitFor(id)));
        // Those waiters have read their request (D's pool has nothing in flight once their reads
        // have been issued): they are waiting.
        await new Promise((resolve) => setImmediate(resolve));
        await waitUntil(() => d.pool.idleCount === d.pool.totalCount && d.pool.waitingCount === 0, {
          intervalMs: 1,
          what: `D's pool to be idle in ${what}`,
        });
        const key = `cut-${ids[0]}`;

        // In flight when the database goes (after a random number of the statements that follow):
        // every call ends with its result or store_unavailable.
        const cutting = proxy.cutAfter(statements, mode);
        const inFlight: [string, Promise<unknown>][] = [
          ['respond', d.manager.respond(ids[0]!, { decision: 'approve', respondedBy: 'alice', idempotencyKey: key })],
          ['cancel', d.manager.cancel(ids[1]!)],
          ['get', d.manager.get(ids[2]!)],
          ['list', d.manager.list({ status: 'pending' })],
          ['submit', d.manager.submit({ toolName: 'delete_user', timeoutMs: Infinity })],
        ];
        // A waitFor whose first read is in flight: store_unavailable, or it waits like the others.
        waiters.push(observeWaiter(d.manager.waitFor(ids[2]!)));
        const settled = Promise.all(inFlight.map(([name, call]) => outcomeOf(name, call)));
        await cutting;
        const cutAt = Date.now();

        // After the cut: every call rejects with store_unavailable, within the pool's timeouts.
        const afterCut: [string, () => Promise<unknown>][] = [
          ['submit', () => d.manager.submit({ toolName: 'delete_user' })],
          ['submit with an id', () => d.manager.submit({ id: ids[0]!, toolName: 'delete_user', input: { index: 0 } })],
          ['requestInteraction', () => d.manager.requestInteraction({ toolName: 'delete_user' })],
          ['respond', () => d.manager.respond(ids[2]!, { decision: 'reject' })],
          ['cancel', () => d.manager.cancel(ids[2]!)],
          ['get', () => d.manager.get(ids[2]!)],
          ['list', () => d.manager.list()],
          ['waitFor', () => d.manager.waitFor(ids[2]!)],
        ];
        const codes = await within(
          Promise.all(afterCut.map(([name, call]) => errorOf(call()).then((error) => `${name}:${error.code}`))),
          20_000,
          `the calls after the cut in ${what}`,
        );
        expect(codes, what).toEqual(afterCut.map(([name]) => `${name}:store_unavailable`));
        const failedWithin = Date.now() - cutAt;

        const outcomes = await within(settled, 20_000, `the calls in flight in ${what}`);
        for (const outcome of outcomes) {
          expect(['ok', 'store_unavailable'], `${what}: ${outcome.name}`).toContain(outcome.code);
          tally.set(`${outcome.name}:${outcome.code}`, (tally.get(`${outcome.name}:${outcome.code}`) ?? 0) + 1);
        }
        tally.set(`cut:${mode}`, (tally.get(`cut:${mode}`) ?? 0) + 1);
        expect(failedWithin, `${what}: the calls after the cut took too long`).toBeLessThan(15_000);

        // Back again: the interrupted decision is retried with its key, the rest decided on E,
        // and every waiter D had open resolves with what the row holds.
        await proxy.restore();
        const retried = await waitUntil(
          () =>
            d.manager.respond(ids[0]!, { decision: 'approve', respondedBy: 'alice', idempotencyKey: key }).then(
              (record) => record,
              (error: unknown) => (HitlError.is(error, 'store_unavailable') ? undefined : Promise.reject(error)),
            ),
          { what: `the retried decision in ${what}` },
        );
        expect(retried.response?.decisionId, what).toBe(key);
        for (const id of ids.slice(1))
          await e.manager.respond(id, { decision: 'reject', respondedBy: 'erin' }).catch((error: unknown) => {
            if (!HitlError.is(error, 'conflict')) throw error;
          });
        const seen = await within(Promise.all(waiters), 10_000, `D's waiters after the restore in ${what}`);
        for (const [index, waiter] of seen.entries()) {
          const id = ids[Math.min(index, 2)]!;
          const row = await e.manager.get(id);
          const expected = row?.status === 'cancelled' ? 'cancelled' : row?.response;
          if (index === 3 && waiter.outcome === 'store_unavailable') {
            tally.set('waitFor:store_unavailable', (tally.get('waitFor:store_unavailable') ?? 0) + 1);
            continue;
          }
          expect(waiter.outcome, `${what}: a waiter on ${id} (${row?.status})`).toEqual(expected);
        }
      }),
      { numRuns: 60 },
    );
    expect(trials).toBeGreaterThanOrEqual(60);
    console.info(
      `database lost mid-flight: ${trials} trials in ${Date.now() - started} ms; outcomes ${JSON.stringify(Object.fromEntries([...tally].sort()))}; ` +
        `recovery after restore p50 ${percentile(recoveries, 50)} ms, max ${Math.max(...recoveries)} ms`,
    );
  });
});

async function outcomeOf(name: string, call: Promise<unknown>): Promise<{ name: string; code: string }> {
  try {
    await call;
    return { name, code: 'ok' };
  } catch (error) {
    return { name, code: HitlError.is(error) ? error.code : `not a HitlError: ${String(error)}` };
  }
}
