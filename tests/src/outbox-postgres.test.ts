// The outbox on the real PostgreSQL, in process: reminders on an injected clock across a restart, a
// receiver that is down for a while, one that answers 410, and dead deliveries redelivered.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManager, type Manager, type ManagerOptions, type NotificationMessage, type Notifier } from '@hitl/core';
import { createManualClock } from '@hitl/core/testing';
import { createWebhookNotifier } from '@hitl/notifier-webhook';
import { createPostgresStore, type PostgresStore } from '@hitl/store-postgres';
import { waitUntil } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { describe, expect, it } from 'vitest';

const database = usePostgresSchema('hitl_outbox');
const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const policies = [{ name: 'payments', toolPattern: 'pay_*', requireExplicit: true, remind: { everyMs: 60_000, times: 3 } }];

function openStore(table: string): PostgresStore {
  const pool = createTestPool(randomName('hitl_outbox'), { max: 4 });
  const store = createPostgresStore({
    pool,
    schema: database.schema,
    table,
    logger: quiet,
    sweepIntervalMs: Infinity,
    outboxPollIntervalMs: 50,
  });
  database.cleanups.push(async () => {
    await store.close();
    await pool.end();
  });
  return store;
}

function openManager(store: PostgresStore, options: ManagerOptions): Manager {
  const manager = createManager({ store, logger: quiet, timeoutMs: 3_600_000, policies, ...options });
  database.cleanups.push(() => manager.close());
  return manager;
}

/** A receiver on 127.0.0.1 whose answer the test sets; it counts posts per webhook-id. */
async function startReceiver() {
  const state = { status: 204, posts: [] as string[] };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      state.posts.push(String(request.headers['webhook-id']));
      response.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  database.cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` };
}

describe('the outbox on PostgreSQL', () => {
  it('sends 3 reminders at everyMs on an injected clock, across a restart in the middle', async () => {
    const table = 'reminders';
    const clock = createManualClock(Date.now());
    const reminders: NotificationMessage[] = [];
    const notifier: Notifier = {
      name: 'reviewers',
      events: ['request.reminder'],
      async notify() {},
      async deliver(message) {
        reminders.push(message);
      },
    };
    const first = openManager(openStore(table), { notifiers: [notifier], now: clock.now, scheduler: clock });
    const record = await first.submit({ toolName: 'pay_invoice', input: { amount: 120 } });
    const pendingReminder = async (number: number) =>
      (await first.listDeliveries({ requestId: record.request.id, state: 'pending' })).items.some(
        (job) => job.payload?.reminder === number,
      );

    clock.advance(59_999);
    await waitUntil(() => pendingReminder(1), { what: 'reminder 1 pending' });
    expect(reminders).toHaveLength(0);
    clock.advance(1);
    await waitUntil(() => reminders.length === 1, { what: 'reminder 1' });
    await waitUntil(() => pendingReminder(2), { what: 'reminder 2 written' });
    await first.close();

    // A new process: a new store and manager on the same table and clock.
    const second = openManager(openStore(table), { notifiers: [notifier], now: clock.now, scheduler: clock });
    clock.advance(60_000);
    await waitUntil(() => reminders.length === 2, { what: 'reminder 2 after the restart' });
    await waitUntil(async () => (await second.listDeliveries({ requestId: record.request.id, state: 'pending' })).items.length === 1, {
      what: 'reminder 3 written',
    });
    clock.advance(60_000);
    await waitUntil(() => reminders.length === 3, { what: 'reminder 3' });
    await waitUntil(async () => (await second.listDeliveries({ requestId: record.request.id, state: 'pending' })).items.length === 0, {
      what: 'no reminder 4',
    });
    clock.advance(600_000);
    expect(reminders.map((message) => [message.reminder, message.id])).toEqual(
      [1, 2, 3].map((number) => [number, `${record.request.id}:request.reminder:${number}:reviewers`]),
    );
  });

  it("runs onTimeout for an expiry made by another instance's sweeper, on the manager that claims it", async () => {
    const table = 'swept';
    const timeouts: string[] = [];
    const webhookEvents: string[] = [];
    const witness: Notifier = {
      name: 'witness',
      events: ['request.expired'],
      async notify() {},
      async deliver(message) {
        webhookEvents.push(`${message.type}:${message.record.request.id}`);
      },
    };
    // The instance that made the request is gone before its own expiry timer fires.
    const gone = openManager(openStore(table), { timeoutMs: 50 });
    const record = await gone.submit({ toolName: 'pay_invoice' });
    await gone.close();
    const survivorStore = openStore(table);
    openManager(survivorStore, { notifiers: [witness], hooks: { onTimeout: (expired) => void timeouts.push(expired.request.id) } });
    await waitUntil(async () => (await survivorStore.sweep()) === 1, { what: 'the sweeper expiring the request' });
    await waitUntil(() => timeouts.length === 1 && webhookEvents.length === 1, { what: 'the hook and the event of the swept expiry' });
    expect(timeouts).toEqual([record.request.id]);
    expect(webhookEvents).toEqual([`request.expired:${record.request.id}`]);
  });

  it('resumes deliveries with backoff when a receiver comes back, losing none', async () => {
    const receiver = await startReceiver();
    receiver.state.status = 503;
    const webhook = createWebhookNotifier({ url: receiver.url, logger: quiet, events: ['request.created'] });
    const manager = openManager(openStore('down'), {
      notifiers: [webhook],
      outbox: { backoff: (attempt) => 20 * attempt, maxAttempts: 50 },
    });
    const ids = [];
    for (let index = 0; index < 10; index++) ids.push((await manager.submit({ toolName: 'pay_invoice', input: { index } })).request.id);
    await waitUntil(() => new Set(receiver.state.posts).size === 10 && receiver.state.posts.length >= 20, {
      what: 'every delivery tried at least twice',
    });
    receiver.state.status = 204;
    await waitUntil(async () => (await manager.listDeliveries({ state: 'done', limit: 100 })).items.length === 10, {
      what: 'every delivery done',
    });
    const done = (await manager.listDeliveries({ state: 'done', limit: 100 })).items;
    expect(done.map((job) => job.requestId).sort()).toEqual([...ids].sort());
    for (const job of done) expect(job).toMatchObject({ lastError: expect.stringContaining('503') });
    expect(done.every((job) => job.attempts >= 2)).toBe(true);
  });

  it('stops sending to a receiver that answers 410, and lists and redelivers dead deliveries', async () => {
    const receiver = await startReceiver();
    receiver.state.status = 410;
    const gone = createWebhookNotifier({ url: receiver.url, logger: quiet, events: ['request.created'], name: 'gone' });
    const store = openStore('gone');
    const manager = openManager(store, { notifiers: [gone] });
    const first = await manager.submit({ toolName: 'pay_invoice' });
    await waitUntil(async () => (await manager.listDeliveries({ state: 'dead' })).items.length === 1, { what: 'the first delivery dead' });
    const second = await manager.submit({ toolName: 'pay_invoice' });
    await waitUntil(async () => (await manager.listDeliveries({ state: 'dead' })).items.length === 2, { what: 'the second delivery dead' });
    expect(receiver.state.posts).toHaveLength(1);
    const dead = (await manager.listDeliveries({ state: 'dead' })).items;
    expect(dead.map((job) => job.requestId).sort()).toEqual([first.request.id, second.request.id].sort());
    expect(dead[0]?.lastError).toContain('410');

    // A receiver failing with 500 until its last attempt: dead, then redelivered once it works.
    const flaky = await startReceiver();
    flaky.state.status = 500;
    const webhook = createWebhookNotifier({ url: flaky.url, logger: quiet, events: ['request.created'], name: 'flaky' });
    const other = openManager(openStore('redeliver'), { notifiers: [webhook], outbox: { maxAttempts: 2, backoff: () => 10 } });
    const third = await other.submit({ toolName: 'pay_invoice' });
    await waitUntil(async () => (await other.listDeliveries({ state: 'dead' })).items.length === 1, { what: 'the flaky delivery dead' });
    expect(flaky.state.posts).toHaveLength(2);
    flaky.state.status = 204;
    const [job] = (await other.listDeliveries({ state: 'dead' })).items;
    expect(job).toMatchObject({ requestId: third.request.id, attempts: 2 });
    await other.redeliver(job!.id);
    await waitUntil(async () => (await other.listDeliveries({ state: 'done' })).items.length === 1, { what: 'the redelivery' });
    expect(flaky.state.posts).toHaveLength(3);
    expect(new Set(flaky.state.posts).size).toBe(1);
  });
});
