// Writes that commit while their reply is lost, found by postgres-faults.test.ts: the instance that
// made the write still wakes its waiters, announces the change once, notifies reviewers and runs
// its hooks once; and the sweeper only backs up a live manager's own expiry.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRecordingNotifier } from '@hitl/core/testing';
import { within } from '@hitl/test-kit';
import { connectAdmin, databaseAddress, testSchema } from '@hitl/test-kit/postgres';
import { createInstances, errorOf, finalEventsFor, hooksFor, settle } from './postgres-support-instances.js';
import { lostReplyFaults, observeWaiter, runLostDecideTrials } from './postgres-support-lost-reply.js';
import { createPostgresProxy } from './postgres-support-proxy.js';
import type { PostgresProxy } from './postgres-support-proxy.js';

const { schema, drop } = testSchema('hitl_pending');
let admin: pg.Client;
let proxy: PostgresProxy;
let tableCounter = 0;
const cleanups: (() => Promise<unknown>)[] = [];

function nextTable() {
  const table = `requests_${++tableCounter}`;
  const instances = createInstances({ schema, table });
  cleanups.push(() => instances.stopAll());
  return { tableName: `"${schema}"."${table}"`, instances };
}

beforeAll(async () => {
  admin = await connectAdmin();
  proxy = await createPostgresProxy(databaseAddress());
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await proxy.close();
  await drop(admin);
  await admin.end();
});

describe('lost replies on the Postgres store: the writer still follows up', () => {
  it('D1, D2: after a decide whose reply was lost, the deciding instance wakes its waiter, announces the decision once and runs onApprove once (12 trials)', async () => {
    const { tableName, instances } = nextTable();
    // A's clock jumps 60 s between the lost write and its retry: a lease longer than that keeps the
    // hook job A wrote claimed by A, so it runs once (a lease that ran out would let it run again).
    const a = instances.start('a', {
      port: proxy.port,
      manualTime: true,
      pool: { query_timeout: 1_500 },
      manager: { outbox: { leaseMs: 600_000 } },
    });
    const b = instances.start('b');
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const trials = await runLostDecideTrials({ a, b, admin, proxy, tableName, faults: lostReplyFaults(12) });
    for (const { id, response, waiterOnA, retriedAt, fault } of trials) {
      // D1: A's store drops the NOTIFY of its own (lost) write, so its waiter is never woken.
      const onA = await within(
        waiterOnA,
        Math.max(retriedAt + 2_000 - Date.now(), 0) + 50,
        `A's waiter on ${id} (${JSON.stringify(fault)})`,
      );
      expect(onA.outcome).toEqual(response);
    }
    await settle(b, [a, b]);
    for (const { id } of trials) {
      expect(finalEventsFor(a, id), `A's events for ${id}`).toEqual(['request-decided']);
      // D2: the retry that finds its own decision recorded returns it without running the hook.
      expect(hooksFor([a, b], id), `hooks for ${id}`).toEqual(['approve']);
    }
  });

  it('D1, D4: after a create whose reply was lost, the re-submit returns the stored request and reviewers are notified once', async () => {
    const { instances } = nextTable();
    const notifier = createRecordingNotifier();
    const a = instances.start('a', { port: proxy.port, manager: { notifiers: [notifier] } });
    const b = instances.start('b');
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const request = { id: 'lost-create-1', toolName: 'delete_user', input: { user_id: '42' }, timeoutMs: Infinity };
    const trapped = proxy.trapNext('create', { kind: 'drop-reply', keepBytes: 0 });
    expect((await errorOf(a.manager.submit(request))).code).toBe('store_unavailable');
    expect((await within(trapped, 10_000, 'the trapped create')).outcome).toMatch(/^(INSERT 0 1|SELECT 1)$/);
    const again = await a.manager.submit(request);
    expect(again).toMatchObject({ status: 'pending', request: { id: 'lost-create-1' } });
    const waiting = observeWaiter(a.manager.waitFor(request.id));
    await b.manager.respond(request.id, { decision: 'approve', respondedBy: 'bob' });
    expect((await within(waiting, 5_000, "A's waiter")).outcome).toMatchObject({ decision: 'approve' });
    await settle(b, [a, b]);
    expect(b.events.filter((event) => event.record.request.id === request.id).map((event) => event.type)).toEqual([
      'request-created',
      'request-decided',
    ]);
    // D1: A never announces the creation it made; D4: nobody is ever asked to review the request.
    expect(a.events.filter((event) => event.record.request.id === request.id).map((event) => event.type)).toEqual([
      'request-created',
      'request-decided',
    ]);
    expect(notifier.records.map((record) => record.request.id)).toEqual([request.id]);
  });

  it('D3: with a live manager, its own timer expires the request before the sweeper does, and onTimeout runs once', async () => {
    const { instances } = nextTable();
    // The sweeper runs every 20 ms but leaves a request alone until it is sweepGraceMs (2 s by
    // default) past its deadline: the manager's own expiry, which runs the hook, goes first.
    const a = instances.start('a', { store: { sweepIntervalMs: 20 } });
    await a.store.migrate();
    const record = await a.manager.submit({ toolName: 'delete_user', timeoutMs: 50 });
    const waiting = observeWaiter(a.manager.waitFor(record.request.id));
    expect((await within(waiting, 5_000, "A's waiter")).outcome).toBe('timeout');
    await settle(a, [a]);
    expect(finalEventsFor(a, record.request.id)).toEqual(['request-expired']);
    expect(hooksFor([a], record.request.id)).toEqual(['timeout']);
  });
});
