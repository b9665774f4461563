// Webhook events through the outbox: signed request.created and request.decided, retries under one webhook-id, 410 and redelivery.
import { createManager, HitlError, type Manager } from '@hitl/core';
import { createManualClock, type ManualClock } from '@hitl/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookNotifier,
  generateWebhookSecret,
  verifyWebhook,
  webhookIdOf,
  type WebhookEvent,
  type WebhookNotifierOptions,
} from './index.js';
import { createMemoryLogger, startReceiver, until, type Answer, type Receiver } from './receiver.test-helper.js';

let receiver: Receiver | undefined;
let manager: Manager | undefined;

afterEach(async () => {
  await manager?.close();
  await receiver?.close();
  manager = receiver = undefined;
});

const secret = generateWebhookSecret();
const request = { toolName: 'delete_user', input: { user_id: '12345' }, riskLevel: 'irreversible', confidence: 0.85 } as const;

async function setUp(answer: Answer, options: Partial<WebhookNotifierOptions> = {}, clock: ManualClock = createManualClock(Date.now())) {
  receiver = await startReceiver(answer);
  const webhook = createWebhookNotifier({
    url: receiver.url,
    secret,
    now: clock.now,
    logger: createMemoryLogger(),
    events: ['request.created', 'request.decided'],
    ...options,
  });
  manager = createManager({
    timeoutMs: 600_000,
    notifiers: [webhook],
    now: clock.now,
    scheduler: clock,
    logger: createMemoryLogger(),
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
    outbox: { backoff: (attempt) => 1_000 * attempt, maxAttempts: 4 },
  });
  return { receiver, webhook, manager, clock };
}

const events = (target: Receiver, now: () => number) =>
  target.requests.map((received) => ({
    id: received.headers['webhook-id'],
    event: verifyWebhook<WebhookEvent>({ secret, headers: received.headers as Record<string, string>, rawBody: received.body, now }),
  }));

describe('webhook events through the outbox', () => {
  it('sends request.created and request.decided as signed Standard Webhooks messages with the outbox job id as webhook-id', async () => {
    const { receiver, manager, clock } = await setUp((_, response) => response.writeHead(204).end());
    const record = await manager.submit(request);
    await until(() => receiver.requests.length === 1, 'the created event');
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' });
    await until(() => receiver.requests.length === 2, 'the decided event');
    const seen = events(receiver, clock.now);
    expect(seen.map(({ event }) => event.type)).toEqual(['request.created', 'request.decided']);
    expect(seen[1]?.event.data).toMatchObject({
      id: record.request.id,
      status: 'approved',
      response: { decision: 'approve', respondedBy: 'alice' },
    });
    expect(seen.map(({ id }) => id)).toEqual([
      webhookIdOf(`${record.request.id}:request.created:webhook`),
      webhookIdOf(`${record.request.id}:request.decided:webhook`),
    ]);
    for (let turn = 0; turn < 100 && (await manager.listDeliveries({ state: 'done' })).items.length < 2; turn++)
      await new Promise((resolve) => setImmediate(resolve));
    const done = await manager.listDeliveries({ state: 'done', requestId: record.request.id });
    expect(done.items.map((job) => job.topic).sort()).toEqual(['request.created', 'request.decided']);
  });

  it('retries a receiver that is down with backoff, with the same webhook-id, and loses nothing', async () => {
    let failures = 2;
    const { receiver, manager, clock } = await setUp((_, response) => {
      if (failures-- > 0) response.writeHead(503).end();
      else response.writeHead(200).end();
    });
    const record = await manager.submit(request);
    await until(() => receiver.requests.length === 1, 'the first attempt');
    // The request's expiry timer, then the outbox's retry timer.
    await until(() => clock.pendingTimers() === 2, 'the retry timer');
    clock.advance(999);
    expect(receiver.requests).toHaveLength(1);
    clock.advance(1);
    await until(() => receiver.requests.length === 2, 'the second attempt');
    await until(() => clock.pendingTimers() === 2, 'the second retry timer');
    clock.advance(1_999);
    expect(receiver.requests).toHaveLength(2);
    clock.advance(1);
    await until(() => receiver.requests.length === 3, 'the third attempt');
    const ids = new Set(receiver.requests.map((received) => received.headers['webhook-id']));
    expect([...ids]).toEqual([webhookIdOf(`${record.request.id}:request.created:webhook`)]);
    const done = async () => (await manager.listDeliveries({ state: 'done', requestId: record.request.id })).items;
    for (let turn = 0; turn < 100 && (await done()).length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(await done()).toMatchObject([{ attempts: 3, lastError: expect.stringContaining('503') }]);
  });

  it('stops sending to a receiver that answers 410: the job is dead, later events too, and a dead job can be redelivered', async () => {
    let gone = true;
    const { receiver, webhook, manager } = await setUp((_, response) => response.writeHead(gone ? 410 : 200).end());
    const first = await manager.submit(request);
    await until(() => receiver.requests.length === 1, 'the first attempt');
    const deadFirst = async () => (await manager.listDeliveries({ state: 'dead', requestId: first.request.id })).items;
    for (let turn = 0; turn < 100 && (await deadFirst()).length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect((await deadFirst()).map((job) => job.id)).toEqual([`${first.request.id}:request.created:webhook`]);
    expect(webhook.stats().disabled).toBe(true);

    const second = await manager.submit(request);
    const deadSecond = async () => (await manager.listDeliveries({ state: 'dead', requestId: second.request.id })).items;
    for (let turn = 0; turn < 100 && (await deadSecond()).length === 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(await deadSecond()).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);

    gone = false;
    const redelivered = await manager.redeliver(`${first.request.id}:request.created:webhook`);
    expect(redelivered).toMatchObject({ state: 'pending', attempts: 0 });
    await expect(manager.redeliver('no-such-delivery')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends request.approval_added after an approval that leaves a four-eyes request pending: who approved and how many remain', async () => {
    const { receiver, manager, clock } = await setUp((_, response) => response.writeHead(204).end(), {
      events: ['request.created', 'request.approval_added', 'request.decided'],
    });
    manager.addPolicy({ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 });
    const record = await manager.submit({ toolName: 'transfer_funds', input: { amount: 25_000 }, requestedBy: 'agent-7' });
    await until(() => receiver.requests.length === 1, 'the created event');
    const first = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' });
    await until(() => receiver.requests.length === 2, 'the approval event');
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    await until(() => receiver.requests.length === 3, 'the decided event');
    const seen = events(receiver, clock.now);
    expect(seen.map(({ event }) => event.type)).toEqual(['request.created', 'request.approval_added', 'request.decided']);
    expect(seen[1]?.event.data).toMatchObject({
      id: record.request.id,
      status: 'pending',
      approval: { by: 'alice', at: first.approvals?.[0]?.at },
      approvals: [{ by: 'alice', at: first.approvals?.[0]?.at }],
      approvalsRequired: 2,
      approvalsRemaining: 1,
    });
    const [job] = (await manager.listDeliveries({ requestId: record.request.id })).items.filter(
      (item) => item.topic === 'request.approval_added',
    );
    expect(seen[1]?.id).toBe(webhookIdOf(job?.id ?? ''));
    expect(seen[2]?.event.data).toMatchObject({ status: 'approved', approvalsRemaining: 0 });
  });

  it('refuses an events list with an unknown event, naming the option', () => {
    expect(() => createWebhookNotifier({ url: 'http://127.0.0.1:9/hooks', events: ['request.updated' as never] })).toThrow(HitlError);
    expect(() => createWebhookNotifier({ url: 'http://127.0.0.1:9/hooks', events: [] })).toThrow(/events/);
  });
});
