// Several instances on one PostgreSQL table: changes reported once each, racing responds, LISTEN reconnects and heartbeats, sweepers.
import { createServer } from 'node:net';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { HitlError, createManager } from '@hitl/core';
import type { ApprovalStore, InteractionResponse, Manager, ManagerEvent, ManagerOptions, StoreChange } from '@hitl/core';
import { createPostgresStore } from './index.js';
import type { PostgresStore, PostgresStoreSettings } from './index.js';
import { createRecordingLogger, waitUntil, within, type RecordingLogger } from '@hitl/test-kit';
import { createTestPool, databaseUrl, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { errorOf, createFreezableProxy, createRuntimeRole, pendingRecord } from './test-support.js';

const database = usePostgresSchema('hitl_multi');
const { schema, cleanups } = database;

/** One "server instance": its own pool, store and manager on the shared table. */
interface Instance {
  applicationName: string;
  pool: pg.Pool;
  store: PostgresStore;
  manager: Manager;
  logger: RecordingLogger;
  /** What the store told its subscribers. */
  changes: StoreChange[];
  /** What the manager told its subscribers. */
  events: ManagerEvent[];
  stop(): Promise<void>;
}

let table = '';
let tableCounter = 0;

/** Every test gets its own table, hence its own NOTIFY channel. */
function nextTable(): void {
  table = `requests_${++tableCounter}`;
}

function startInstance(
  name: string,
  {
    manager: managerOptions = {},
    store: storeOptions = {},
    pool: poolConfig = {},
  }: { manager?: ManagerOptions; store?: PostgresStoreSettings; pool?: pg.PoolConfig } = {},
): Instance {
  const applicationName = randomName(`hitl_${name}`);
  const pool = createTestPool(applicationName, poolConfig);
  const logger = createRecordingLogger();
  const store = createPostgresStore({
    pool,
    schema,
    table,
    logger,
    sweepIntervalMs: Infinity,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...storeOptions,
  });
  const changes: StoreChange[] = [];
  store.subscribe((change) => changes.push(change));
  const manager = createManager({ store, logger, ...managerOptions });
  const events: ManagerEvent[] = [];
  manager.subscribe((event) => events.push(event));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await manager.close();
    await store.close();
    await pool.end();
  };
  cleanups.push(stop);
  return { applicationName, pool, store, manager, logger, changes, events, stop };
}

/** The pid of an instance's LISTEN connection, once it is connected. */
async function listenerPid(instance: Instance): Promise<number | undefined> {
  const result = await database.admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
    `${instance.applicationName} hitl-listener`,
  ]);
  return result.rows[0]?.pid;
}

const kindsFor = (instance: Instance, id: string) =>
  instance.changes.filter((change) => change.record.request.id === id).map((change) => change.type);
const eventsFor = (instance: Instance, id: string) =>
  instance.events.filter((event) => event.record.request.id === id).map((event) => event.type);

/**
 * What one instance's store reported about a request that was created and then decided: its creation
 * once and its decision once. An instance that decides (or sweeps) a request before it has heard of
 * its creation reports both in one `created` change carrying the decided record.
 */
function reportedOnce(instance: Instance, id: string): string {
  const changes = instance.changes.filter((change) => change.record.request.id === id);
  return changes.map((change) => `${change.type}:${change.record.status === 'pending' ? 'pending' : 'final'}`).join(',');
}
const ONCE = ['created:pending,decided:final', 'created:final'];

/**
 * Submits a marker on every instance and waits until every other instance has seen it. NOTIFY keeps
 * commit order on a channel, so once an instance has seen the others' markers, any duplicate of an
 * earlier change would have reached it too.
 */
async function settle(instances: Instance[]): Promise<void> {
  for (const from of instances) {
    const marker = await from.manager.submit({ toolName: 'marker' });
    for (const instance of instances) {
      await waitUntil(() => kindsFor(instance, marker.request.id).length > 0, { what: `the marker to reach ${instance.applicationName}` });
    }
  }
}

describe('several instances on one table', () => {
  it('a request submitted on A and decided through B wakes A and C, each change reported once per instance', async () => {
    nextTable();
    const [a, b, c] = ['a', 'b', 'c'].map((name) => startInstance(name)) as [Instance, Instance, Instance];
    await Promise.all([a, b, c].map((instance) => instance.store.migrate()));

    const record = await a.manager.submit({
      toolName: 'delete_user',
      input: { user_id: '12345' },
      riskLevel: 'irreversible',
      confidence: 0.85,
    });
    expect(record.status).toBe('pending');
    const id = record.request.id;
    const waiting = a.manager.waitFor(id);
    await waitUntil(() => eventsFor(c, id).includes('request-created'), { what: 'C to see the new request' });

    const decided = await b.manager.respond(id, { decision: 'approve', respondedBy: 'reviewer', feedback: 'ok' });
    const response = await within(waiting, 10_000, "A's waitFor");
    expect(response).toEqual(decided.response);
    expect(response).toMatchObject({ decision: 'approve', respondedBy: 'reviewer', feedback: 'ok' });
    await waitUntil(() => eventsFor(c, id).includes('request-decided'), { what: 'C to see the decision' });
    const seenByC = c.events.find((event) => event.type === 'request-decided' && event.record.request.id === id);
    expect(seenByC?.record).toEqual(decided);

    await settle([a, b, c]);
    for (const instance of [a, b, c]) {
      expect(ONCE).toContain(reportedOnce(instance, id));
      expect(eventsFor(instance, id)).toEqual(['request-created', 'request-decided']);
    }
  });

  it('an instance that decides a request before hearing of it reports the creation too', async () => {
    nextTable();
    const a = startInstance('a');
    // B's LISTEN connection points at a closed port: B hears of nothing, it only sees its own changes.
    const b = startInstance('b', { store: { listenerConfig: { host: '127.0.0.1', port: await closedPort(), database: 'test' } } });
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const { request } = await a.manager.submit({ toolName: 'delete_user' });
    const decided = await b.manager.respond(request.id, { decision: 'approve' });
    expect(b.changes.filter((change) => change.record.request.id === request.id)).toEqual([{ type: 'created', record: decided }]);
    expect(eventsFor(b, request.id)).toEqual(['request-created', 'request-decided']);
  });

  it('50 concurrent responds over three instances: exactly one wins, 49 conflict, one row', async () => {
    nextTable();
    const instances = ['a', 'b', 'c'].map((name) => startInstance(name));
    const [a] = instances as [Instance];
    await Promise.all(instances.map((instance) => instance.store.migrate()));
    const { request } = await a.manager.submit({ toolName: 'transfer_money', input: { amount: 100 } });

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, index) =>
        (instances[index % 3] as Instance).manager.respond(request.id, {
          decision: index % 2 === 0 ? 'approve' : 'reject',
          respondedBy: `reviewer-${index}`,
        }),
      ),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    const losers = results.filter((result) => result.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    expect(losers.every((result) => HitlError.is(result.reason, 'conflict'))).toBe(true);

    const winner = (winners[0] as PromiseFulfilledResult<Awaited<ReturnType<Manager['respond']>>>).value;
    const rows = await database.admin.query(`SELECT status, response->>'respondedBy' AS by FROM "${schema}"."${table}" WHERE id = $1`, [
      request.id,
    ]);
    expect(rows.rows).toEqual([{ status: winner.status, by: winner.response?.respondedBy }]);

    await settle(instances);
    for (const instance of instances) {
      expect(ONCE).toContain(reportedOnce(instance, request.id));
      expect(eventsFor(instance, request.id)).toEqual(['request-created', 'request-decided']);
    }
  });

  it('a killed LISTEN connection reconnects and the waiter still resolves', async () => {
    nextTable();
    const a = startInstance('a');
    const b = startInstance('b');
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const { request } = await a.manager.submit({ toolName: 'delete_user' });
    const waiting = a.manager.waitFor(request.id);
    const pid = await waitUntil(() => listenerPid(a), { what: "A's listener" });

    await database.admin.query('SELECT pg_terminate_backend($1)', [pid]);
    const decided = await b.manager.respond(request.id, { decision: 'reject', feedback: 'no' });
    const newPid = await waitUntil(
      async () => {
        const current = await listenerPid(a);
        return current !== undefined && current !== pid ? current : undefined;
      },
      { what: "A's listener to come back" },
    );
    const reconnectedAt = Date.now();
    expect(newPid).not.toBe(pid);
    const response = await within(waiting, 2_000, "A's waitFor after the reconnect");
    const afterReconnect = Date.now() - reconnectedAt;
    console.info(
      `killed listener: waiter resolved ${afterReconnect} ms after the new listener was seen (negative: before the poll saw it)`,
    );
    expect(afterReconnect).toBeLessThan(2_000);
    expect(response).toEqual(decided.response);
    expect(a.logger.messages('warn').some((message) => message.includes('is down; reconnecting'))).toBe(true);
  });

  it('a decision made while the listener cannot reconnect is caught up within 2 s of the reconnect', async () => {
    nextTable();
    const b = startInstance('b');
    await b.store.migrate();
    const { role, connectionString, drop } = await createRuntimeRole(database.admin, schema, table);
    cleanups.push(drop);
    const a = startInstance('a', { pool: { connectionString, min: 1, idleTimeoutMillis: 0 } });
    await a.store.migrate();
    const { request } = await b.manager.submit({ toolName: 'delete_user' });
    let settled = false;
    const waiting = a.manager.waitFor(request.id).finally(() => {
      settled = true;
    });
    expect((await a.manager.get(request.id))?.status).toBe('pending');
    const pid = await waitUntil(() => listenerPid(a), { what: "A's listener" });

    // The database now refuses A's new connections: its listener stays down until we allow them again.
    await database.admin.query(`ALTER ROLE "${role}" NOLOGIN`);
    await database.admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await waitUntil(() => a.logger.messages('warn').filter((message) => message.includes('is down; reconnecting')).length >= 2, {
      what: 'a failed reconnect attempt',
    });
    const decided = await b.manager.respond(request.id, { decision: 'approve', respondedBy: 'reviewer' });
    await settle([b]);
    expect(settled).toBe(false);
    expect(await listenerPid(a)).toBeUndefined();

    await database.admin.query(`ALTER ROLE "${role}" LOGIN`);
    const allowedAt = Date.now();
    const response = await within(waiting, 5_000, "A's waitFor after the reconnect");
    const latency = Date.now() - allowedAt;
    console.info(`decision made while the listener was down: waiter resolved ${latency} ms after logins were allowed again`);
    expect(latency).toBeLessThan(2_000);
    expect(response).toEqual(decided.response);
    expect(a.logger.messages('info').some((message) => message.includes('is back after'))).toBe(true);
    await a.stop();
  });

  it('a silent LISTEN connection (a network partition) is found by the heartbeat and replaced', async () => {
    nextTable();
    const url = new URL(databaseUrl);
    const proxy = await createFreezableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    cleanups.push(() => proxy.close());
    const listenerName = randomName('hitl_proxied');
    const b = startInstance('b');
    const a = startInstance('a', {
      store: {
        listenerConfig: {
          host: '127.0.0.1',
          port: proxy.port,
          user: url.username,
          database: url.pathname.slice(1),
          application_name: listenerName,
        },
        reconnect: { initialDelayMs: 20, maxDelayMs: 200, heartbeatIntervalMs: 200 },
      },
    });
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const { request } = await a.manager.submit({ toolName: 'delete_user' });
    const waiting = a.manager.waitFor(request.id);
    await waitUntil(
      async () =>
        (await database.admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [`${listenerName} hitl-listener`]))
          .rowCount === 1,
      { what: "A's listener through the proxy" },
    );

    proxy.freezeExisting();
    const decided = await b.manager.respond(request.id, { decision: 'approve' });
    const response = await within(waiting, 10_000, "A's waitFor after the partition");
    expect(response).toEqual(decided.response);
    expect(
      a.logger.entries.some(
        (entry) => entry.level === 'warn' && String(entry.details[0]).includes('no answer to a heartbeat within 200 ms'),
      ),
    ).toBe(true);
  });

  it('after a restart, waitFor on a new instance picks up an old request and resolves when it is decided', async () => {
    nextTable();
    const first = startInstance('first');
    const { request } = await first.manager.submit({ toolName: 'send_email', input: { to: 'zoe@example.com' } });
    await first.stop();

    const restarted = startInstance('restarted');
    const reviewer = startInstance('reviewer');
    await reviewer.store.migrate();
    const again = await restarted.manager.submit({ id: request.id, toolName: 'send_email', input: { to: 'zoe@example.com' } });
    expect(again.createdAt).toBe((await reviewer.manager.get(request.id))?.createdAt);
    const waiting = restarted.manager.waitFor(request.id);
    const decided = await reviewer.manager.respond(request.id, { decision: 'modify', modified: { to: 'zoe@example.org' } });
    const response = await within(waiting, 10_000, "the restarted instance's waitFor");
    expect(response).toEqual(decided.response);
    expect(response.modified).toEqual({ to: 'zoe@example.org' });
  });
});

describe('expiry by the database clock', () => {
  it('the sweeper expires a request whose instance is gone; waiters elsewhere get their timeout outcome', async () => {
    nextTable();
    const creator = startInstance('creator', { manager: { timeoutMs: 200 } });
    const { request } = await creator.manager.submit({ toolName: 'delete_user' });
    await creator.stop();

    // Both waiters' clocks run an hour behind, so their own expiry timers would not fire for an hour:
    // only the sweeper (database clock) can expire the request in time.
    const behind = () => Date.now() - 3_600_000;
    const sweeper = startInstance('sweeper', { manager: { now: behind, onTimeout: 'error' }, store: { sweepIntervalMs: 50 } });
    const rejecter = startInstance('rejecter', { manager: { now: behind, onTimeout: 'reject' } });
    await Promise.all([sweeper.store.migrate(), rejecter.store.migrate()]);
    const timedOut = errorOf(sweeper.manager.waitFor(request.id));
    const rejected = rejecter.manager.waitFor(request.id);

    const error = await within(timedOut, 10_000, 'the waiter with onTimeout error');
    expect(error.code).toBe('timeout');
    const response: InteractionResponse = await within(rejected, 10_000, 'the waiter with onTimeout reject');
    expect(response).toMatchObject({ requestId: request.id, decision: 'reject', automatic: true });

    const stored = await rejecter.manager.get(request.id);
    expect(stored).toMatchObject({ status: 'expired', closedReason: `no decision before ${stored?.expiresAt}` });
    expect(stored?.response).toBeUndefined();
    expect(Date.parse(stored?.closedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(stored?.expiresAt ?? ''));
    expect(eventsFor(rejecter, request.id)).toContain('request-expired');
  });

  it('several sweepers expire each overdue request exactly once', async () => {
    nextTable();
    const instances = ['a', 'b', 'c'].map((name) => startInstance(name, { store: { sweepBatchSize: 7 } }));
    await Promise.all(instances.map((instance) => instance.store.migrate()));
    const [a] = instances as [Instance];
    const past = Date.now() - 10_000;
    for (let index = 0; index < 30; index++) {
      await a.store.create(
        pendingRecord(`overdue-${index}`, { createdAt: new Date(past - 1_000).toISOString(), expiresAt: new Date(past).toISOString() }),
      );
    }
    await a.store.create(pendingRecord('still-open'));
    const counts = await Promise.all(instances.map((instance) => instance.store.sweep()));
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(30);
    const statuses = await database.admin.query(
      `SELECT status, count(*)::int AS count FROM "${schema}"."${table}" GROUP BY status ORDER BY status`,
    );
    expect(statuses.rows).toEqual([
      { status: 'expired', count: 30 },
      { status: 'pending', count: 1 },
    ]);
    await settle(instances);
    for (const instance of instances) {
      for (let index = 0; index < 30; index++) {
        expect(ONCE).toContain(reportedOnce(instance, `overdue-${index}`));
        expect(eventsFor(instance, `overdue-${index}`)).toEqual(['request-created', 'request-expired']);
      }
    }
  });

  it('an instance whose clock runs ahead cannot expire a request early, and the database decides what is open', async () => {
    nextTable();
    const honest = startInstance('honest');
    const applicationName = randomName('hitl_ahead');
    const pool = createTestPool(applicationName);
    const store = createPostgresStore({ pool, schema, table, logger: createRecordingLogger(), sweepIntervalMs: Infinity });
    // The real store, with its decisions written down: how the test sees the refused expiry.
    const attempts: { status: string; outcome: string }[] = [];
    const watched: ApprovalStore = {
      create: (record) => store.create(record),
      get: (id) => store.get(id),
      list: (query) => store.list(query),
      subscribe: (listener) => store.subscribe(listener),
      async decide(id, expected, patch) {
        try {
          const record = await store.decide(id, expected, patch);
          attempts.push({ status: patch.status, outcome: record.status });
          return record;
        } catch (error) {
          attempts.push({ status: patch.status, outcome: HitlError.is(error) ? error.message : String(error) });
          throw error;
        }
      },
    };
    const ahead = createManager({ store: watched, now: () => Date.now() + 3_600_000, logger: createRecordingLogger() });
    cleanups.push(async () => {
      await ahead.close();
      await store.close();
      await pool.end();
    });

    const { request } = await honest.manager.submit({ toolName: 'delete_user', timeoutMs: 60_000 });
    // To the instance ahead the deadline has passed: waiting arms its expiry at once. The database refuses it.
    const waiting = ahead.waitFor(request.id);
    await waitUntil(() => attempts.length > 0, { what: 'the early expiry attempt' });
    expect(attempts[0]).toEqual({
      status: 'expired',
      outcome: expect.stringMatching(/has not expired yet by the database clock/) as unknown as string,
    });
    expect((await honest.manager.get(request.id))?.status).toBe('pending');

    const decided = await honest.manager.respond(request.id, { decision: 'approve', respondedBy: 'reviewer' });
    expect(await within(waiting, 10_000, "the instance ahead's waitFor")).toEqual(decided.response);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
