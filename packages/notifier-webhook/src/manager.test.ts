// The webhook notifier with a real manager: a hanging receiver delays nothing, verified payloads, four eyes, drops reported.
import { createManager, HitlError, type Manager, type ManagerEvent } from '@hitl/core';
import { createManualClock, nextEvent, type ManualClock } from '@hitl/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createWebhookNotifier,
  generateWebhookSecret,
  verifyWebhook,
  type WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookPayload,
} from './index.js';
import { createMemoryLogger, settleIo, startReceiver, track, until, type Answer, type Receiver } from './receiver.test-helper.js';

let clock: ManualClock;
let receiver: Receiver | undefined;
let webhook: WebhookNotifier | undefined;
let manager: Manager | undefined;

beforeEach(() => {
  clock = createManualClock(Date.now());
});

afterEach(async () => {
  await manager?.close();
  await webhook?.close({ deadlineMs: 0 });
  await receiver?.close();
  manager = webhook = receiver = undefined;
});

async function setUp(answer: Answer, options: Partial<WebhookNotifierOptions> = {}) {
  receiver = await startReceiver(answer);
  webhook = createWebhookNotifier({ url: receiver.url, now: clock.now, scheduler: clock, logger: createMemoryLogger(), ...options });
  const errors: Error[] = [];
  manager = createManager({
    timeoutMs: 60_000,
    notifiers: [webhook],
    now: clock.now,
    scheduler: clock,
    logger: createMemoryLogger(),
    hooks: { onError: (error) => errors.push(error) },
  });
  return { receiver, webhook, manager, errors };
}

const request = {
  toolName: 'delete_user',
  description: 'Delete user 12345',
  input: { user_id: '12345' },
  riskLevel: 'irreversible',
  confidence: 0.85,
} as const;

describe('with a real manager', () => {
  it('keeps the request pending with its expiry running while the receiver hangs, and reports the final failure as notify-failed', async () => {
    const { receiver, webhook, manager, errors } = await setUp(() => undefined, {
      timeoutMs: 1_000,
      retry: { attempts: 2, baseDelayMs: 1_000 },
      random: () => 0.5,
    });
    const failed = nextEvent(manager, 'notify-failed');

    const waiting = track(manager.requestInteraction(request));
    await until(() => receiver.requests.length === 1, 'the first attempt');
    const [record] = (await manager.list({ status: 'pending' })).items;
    expect(record?.expiresAt).toBe(new Date(clock.now() + 60_000).toISOString());

    clock.advance(1_000); // attempt 1 times out
    await until(() => webhook.stats().retrying === 1, 'the retry wait');
    clock.advance(500); // 0.5 * 1000
    await until(() => receiver.requests.length === 2, 'the second attempt');
    clock.advance(1_000); // attempt 2 times out
    const event = await failed;

    expect(event.notifier).toBe('webhook');
    expect(event.record.request.id).toBe(record!.request.id);
    expect(HitlError.is(event.error, 'notify_failed')).toBe(true);
    expect(event.error.message).toBe(
      `webhook notification for request '${record!.request.id}' to ${receiver.url} failed after 2 attempts: got no answer within 1000 ms (attempt aborted)`,
    );
    expect(errors).toEqual([event.error]);
    expect((await manager.get(record!.request.id))?.status).toBe('pending');
    expect(waiting.state).toBe('pending');

    const expired = nextEvent(manager, 'request-expired');
    clock.advance(60_000 - 2_500);
    expect((await expired).record.request.id).toBe(record!.request.id);
    await until(() => waiting.state !== 'pending', 'the waiter');
    expect(HitlError.is(waiting.error, 'timeout')).toBe(true);
  });

  it('lets a reviewer decide while the receiver still hangs', async () => {
    const { receiver, manager } = await setUp(() => undefined);

    const waiting = manager.requestInteraction(request);
    await until(() => receiver.requests.length === 1, 'the notification');
    const id = String((JSON.parse(receiver.requests[0]!.body.toString('utf8')) as WebhookPayload).id);
    await manager.respond(id, { decision: 'approve', respondedBy: 'alice' });

    await expect(waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    expect(receiver.hanging.size).toBe(1);
  });

  it('delivers a payload the receiver verifies and can act on', async () => {
    const secret = generateWebhookSecret();
    const seen: WebhookPayload[] = [];
    const { manager } = await setUp(
      (received, response) => {
        try {
          seen.push(verifyWebhook<WebhookPayload>({ secret, headers: received.headers, rawBody: received.body, now: clock.now }));
          response.writeHead(204).end();
        } catch (error) {
          response.writeHead(HitlError.is(error, 'forbidden') ? 401 : 400).end();
        }
      },
      { secret },
    );

    const record = await manager.submit(request);
    await until(() => seen.length === 1, 'the verified notification');

    expect(seen[0]).toEqual({
      id: record.request.id,
      type: 'approval',
      toolName: 'delete_user',
      description: 'Delete user 12345',
      input: { user_id: '12345' },
      riskLevel: 'irreversible',
      confidence: 0.85,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
    });
  });

  it('four eyes: tells the receiver again after a partial approval that another approver is needed, under a new webhook-id', async () => {
    const secret = generateWebhookSecret();
    const seen: Array<{ id: string; payload: WebhookPayload }> = [];
    const { manager } = await setUp(
      (received, response) => {
        seen.push({
          id: String(received.headers['webhook-id']),
          payload: verifyWebhook<WebhookPayload>({ secret, headers: received.headers, rawBody: received.body, now: clock.now }),
        });
        response.writeHead(204).end();
      },
      { secret },
    );
    manager.addPolicy({ name: 'dual-control', toolPattern: 'delete_*', requireExplicit: true, approvals: 2 });
    const record = await manager.submit(request);
    await until(() => seen.length === 1, 'the first notification');
    expect(seen[0]?.payload).toMatchObject({ id: record.request.id, approvalsRequired: 2, approvals: [], approvalsRemaining: 2 });

    const partly = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' });
    await until(() => seen.length === 2, 'the notification that another approver is needed');
    expect(seen[1]?.payload).toMatchObject({
      approvalsRequired: 2,
      approvals: [{ by: 'alice', at: partly.approvals?.[0]?.at }],
      approvalsRemaining: 1,
    });
    expect(seen[1]?.id).not.toBe(seen[0]?.id);

    // The last approval decides: nobody needs telling any more.
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    await settleIo();
    expect(seen).toHaveLength(2);
  });

  it('reports deliveries dropped from a full queue as notify-failed events', async () => {
    const { webhook, manager } = await setUp((_request, response) => response.writeHead(503).end(), {
      maxQueue: 2,
      retry: { baseDelayMs: 10_000 },
      random: () => 0.5,
    });
    const events: Array<Extract<ManagerEvent, { type: 'notify-failed' }>> = [];
    manager.subscribe((event) => {
      if (event.type === 'notify-failed') events.push(event);
    });

    const records = [];
    for (let index = 0; index < 6; index += 1) records.push(await manager.submit({ ...request, input: { user_id: String(index) } }));
    await until(() => events.length === 4, 'four notify-failed events');
    await settleIo();

    // Which four are dropped depends on which were in flight at each overflow (never dropped then).
    const droppedIds = events.map((event) => event.record.request.id);
    expect(new Set(droppedIds).size).toBe(4);
    expect(records.map((record) => record.request.id)).toEqual(expect.arrayContaining(droppedIds));
    for (const event of events) expect(event.error.message).toContain('the queue is full (maxQueue 2)');
    expect(webhook.stats()).toMatchObject({ pending: 2, dropped: 4 });
    const pending = await manager.list({ status: 'pending' });
    expect(pending.items).toHaveLength(6);
  });
});
