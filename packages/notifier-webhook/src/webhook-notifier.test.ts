// The webhook notifier: retries and Retry-After, 410 Gone, the bounded queue, the caller signal, close, request content, options.
import { getEventListeners } from 'node:events';
import { HitlError } from '@hitl/core';
import { createManualClock, type ManualClock } from '@hitl/core/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createWebhookNotifier,
  generateWebhookSecret,
  toWebhookPayload,
  verifyWebhook,
  type WebhookNotifier,
  type WebhookNotifierOptions,
} from './index.js';
import {
  createMemoryLogger,
  deadUrl,
  pendingRecord,
  settleIo,
  startReceiver,
  track,
  until,
  type Answer,
  type Receiver,
} from './receiver.test-helper.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let clock: ManualClock;
const receivers: Receiver[] = [];
const notifiers: WebhookNotifier[] = [];

beforeEach(() => {
  clock = createManualClock(Date.now());
});

afterEach(async () => {
  for (const notifier of notifiers.splice(0)) await notifier.close({ deadlineMs: 0 });
  for (const receiver of receivers.splice(0)) await receiver.close();
  vi.useRealTimers();
});

async function receiver(answer: Answer): Promise<Receiver> {
  const started = await startReceiver(answer);
  receivers.push(started);
  return started;
}

/** A notifier on the test's manual clock, with a silent logger unless one is given. */
function notifier(options: WebhookNotifierOptions): WebhookNotifier {
  const created = createWebhookNotifier({
    now: clock.now,
    scheduler: clock,
    logger: createMemoryLogger(),
    ...options,
  });
  notifiers.push(created);
  return created;
}

function status(code: number, headers: Record<string, string> = {}): Answer {
  return (_request, response) => response.writeHead(code, headers).end();
}

function sequence(...answers: Answer[]): Answer {
  return (request, response) => (answers[request.index] ?? answers[answers.length - 1]!)(request, response);
}

const hang: Answer = () => undefined;

async function rejection(promise: Promise<unknown>): Promise<HitlError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!HitlError.is(error)) throw new Error(`expected a HitlError, got ${String(error)}`);
  return error;
}

describe('delivery and retries', () => {
  it('retries 500, 500 and delivers once on attempt 3 with a stable webhook-id and a fresh timestamp and signature each time', async () => {
    const hook = await receiver(sequence(status(500), status(500), status(200)));
    const webhook = notifier({
      url: hook.url,
      secret: SECRET,
      retry: { attempts: 5, baseDelayMs: 2_000, maxDelayMs: 30_000 },
      random: () => 0.5,
    });
    const record = pendingRecord(clock.now());

    const delivery = track(webhook.notify(record, { signal: new AbortController().signal }));
    await until(() => hook.requests.length === 1 && webhook.stats().retrying === 1, 'the first retry wait');
    clock.advance(1_000); // 0.5 * 2000
    await until(() => hook.requests.length === 2 && webhook.stats().retrying === 1, 'the second retry wait');
    clock.advance(2_000); // 0.5 * 4000
    await delivery.promise;

    expect(hook.requests).toHaveLength(3);
    expect(webhook.stats()).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
    const ids = new Set(hook.requests.map((request) => request.headers['webhook-id']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^msg_[0-9a-f]{32}$/);
    const timestamps = hook.requests.map((request) => Number(request.headers['webhook-timestamp']));
    expect(timestamps[1]! - timestamps[0]!).toBeGreaterThanOrEqual(1);
    expect(timestamps[2]! - timestamps[1]!).toBeGreaterThanOrEqual(2);
    const signatures = new Set(hook.requests.map((request) => request.headers['webhook-signature']));
    expect(signatures.size).toBe(3);

    const independent = new Webhook(SECRET);
    for (const request of hook.requests) {
      expect(request.method).toBe('POST');
      expect(request.headers['content-type']).toBe('application/json');
      const payload = verifyWebhook({ secret: SECRET, headers: request.headers, rawBody: request.body, now: clock.now });
      expect(payload).toEqual(JSON.parse(JSON.stringify(toWebhookPayload(record))));
      expect(independent.verify(request.body.toString('utf8'), request.headers as Record<string, string>)).toEqual(payload);
    }
  });

  it('waits at least the Retry-After seconds of a 429 before the next attempt', async () => {
    const hook = await receiver(sequence(status(429, { 'retry-after': '1' }), status(200)));
    const webhook = notifier({ url: hook.url, secret: SECRET, random: () => 0 });
    const startedAt = clock.now();

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    await until(() => webhook.stats().retrying === 1, 'the retry wait');
    clock.advance(999);
    await settleIo();
    expect(hook.requests).toHaveLength(1);
    expect(webhook.stats().retrying).toBe(1);
    clock.advance(1);
    await delivery.promise;

    expect(hook.requests).toHaveLength(2);
    expect(clock.now() - startedAt).toBe(1_000);
    const [first, second] = hook.requests.map((request) => Number(request.headers['webhook-timestamp']));
    expect(second! - first!).toBeGreaterThanOrEqual(1);
  });

  it('waits for Retry-After with vitest fake timers and the default clock', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
    const hook = await receiver(sequence(status(429, { 'retry-after': '1' }), status(200)));
    const webhook = createWebhookNotifier({ url: hook.url, random: () => 0, logger: createMemoryLogger() });
    notifiers.push(webhook);

    const delivery = track(webhook.notify(pendingRecord(Date.now()), { signal: new AbortController().signal }));
    await until(() => webhook.stats().retrying === 1, 'the retry wait');
    await vi.advanceTimersByTimeAsync(999);
    await settleIo();
    expect(hook.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => delivery.state !== 'pending', 'the delivery');

    expect(delivery.state).toBe('resolved');
    expect(hook.requests).toHaveLength(2);
  });

  it('honours a Retry-After HTTP date and caps any Retry-After at maxDelayMs', async () => {
    const retryAt = new Date(Math.floor(clock.now() / 1000) * 1000 + 3_000).toUTCString();
    const hook = await receiver(sequence(status(503, { 'retry-after': retryAt }), status(503, { 'retry-after': '3600' }), status(204)));
    const logger = createMemoryLogger();
    const webhook = notifier({ url: hook.url, logger, random: () => 0, retry: { maxDelayMs: 5_000 } });

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    await until(() => webhook.stats().retrying === 1, 'the first retry wait');
    const firstWait = Number(/retrying in (\d+) ms/.exec(logger.lines.at(-1)!.message)![1]);
    expect(firstWait).toBeGreaterThan(2_000);
    expect(firstWait).toBeLessThanOrEqual(3_000);
    clock.advance(firstWait);
    await until(() => hook.requests.length === 2 && webhook.stats().retrying === 1, 'the second retry wait');
    expect(logger.lines.at(-1)!.message).toMatch(/answered 503 Service Unavailable; retrying in 5000 ms$/);
    clock.advance(5_000);
    await delivery.promise;
    expect(hook.requests).toHaveLength(3);
  });

  it('treats a 302 as a failure and does not follow it', async () => {
    const hook = await receiver((request, response) => {
      if (request.path === '/elsewhere') response.writeHead(200).end();
      else response.writeHead(302, { location: '/elsewhere' }).end();
    });
    const webhook = notifier({ url: hook.url, random: () => 0 });

    const error = await rejection(webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));

    expect(error.code).toBe('notify_failed');
    expect(error.message).toContain(hook.url);
    expect(error.message).toContain('failed after 1 attempt: answered 302 Found');
    expect(hook.requests.map((request) => request.path)).toEqual(['/hooks/hitl']);
  });

  it('treats other 4xx answers as final and retries 408', async () => {
    const bad = await receiver((_request, response) => response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload'));
    const badHook = notifier({ url: bad.url, random: () => 0 });
    const error = await rejection(badHook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    expect(error.message).toContain('failed after 1 attempt: answered 400 Bad Request ("invalid_payload")');
    expect(bad.requests).toHaveLength(1);

    const slow = await receiver(sequence(status(408), status(202)));
    const slowHook = notifier({ url: slow.url, random: () => 0 });
    const delivery = track(slowHook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    await until(() => slowHook.stats().retrying === 1, 'the retry wait');
    clock.advance(0);
    await delivery.promise;
    expect(slow.requests).toHaveLength(2);
  });

  it('retries network errors and names the URL, the error and the attempts when it gives up', async () => {
    const url = await deadUrl();
    const logger = createMemoryLogger();
    const webhook = notifier({ url, logger, retry: { attempts: 3 }, random: () => 0 });

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    for (let wait = 1; wait <= 2; wait += 1) {
      await until(() => logger.lines.filter((line) => line.message.includes('retrying in')).length === wait, `retry wait ${wait}`);
      clock.advance(0);
    }
    const error = await rejection(delivery.promise);

    expect(error.code).toBe('notify_failed');
    expect(error.message).toContain(`to ${url} failed after 3 attempts: could not be sent: fetch failed`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('aborts an attempt that gets no answer at timeoutMs', async () => {
    const hook = await receiver(hang);
    const webhook = notifier({ url: hook.url, timeoutMs: 2_000, retry: { attempts: 1 } });

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    await until(() => hook.requests.length === 1, 'the request');
    clock.advance(1_999);
    await settleIo();
    expect(delivery.state).toBe('pending');
    expect(webhook.stats().sending).toBe(1);
    clock.advance(1);
    const error = await rejection(delivery.promise);

    expect(error.message).toContain('failed after 1 attempt: got no answer within 2000 ms (attempt aborted)');
    expect(await hook.requests[0]!.aborted).toBe(true);
    expect(webhook.stats()).toMatchObject({ sending: 0, pending: 0, failed: 1 });
  });

  it('stops retrying when the signal aborts', async () => {
    const hook = await receiver(status(500));
    const webhook = notifier({ url: hook.url, random: () => 0.5 });
    const controller = new AbortController();

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal: controller.signal }));
    await until(() => webhook.stats().retrying === 1, 'the retry wait');
    controller.abort();
    const error = await rejection(delivery.promise);
    clock.advance(60_000);
    await settleIo();

    expect(error.message).toContain('stopped after 1 attempt: the signal was aborted');
    expect(hook.requests).toHaveLength(1);
    await expect(webhook.notify(pendingRecord(clock.now()), { signal: controller.signal })).rejects.toThrow(/signal was already aborted/);
  });

  it('stops retrying when the next attempt would come after the request expires', async () => {
    const hook = await receiver(status(503));
    const webhook = notifier({ url: hook.url, retry: { baseDelayMs: 2_000 }, random: () => 1 });

    const error = await rejection(
      webhook.notify(pendingRecord(clock.now(), { expiresInMs: 1_500 }), { signal: new AbortController().signal }),
    );

    expect(error.message).toContain(
      'failed after 1 attempt: answered 503 Service Unavailable; the request expires before the next attempt',
    );
    expect(hook.requests).toHaveLength(1);
  });
});

describe('410 Gone', () => {
  it('disables the endpoint: no more attempts, later notifications fail at once, logged once', async () => {
    const hook = await receiver(sequence(status(500), status(410)));
    const logger = createMemoryLogger();
    const webhook = notifier({ url: hook.url, logger, random: () => 0.5 });
    const signal = new AbortController().signal;

    const retrying = track(webhook.notify(pendingRecord(clock.now(), { id: 'first' }), { signal }));
    await until(() => webhook.stats().retrying === 1, 'the retry wait');
    const goneError = await rejection(webhook.notify(pendingRecord(clock.now(), { id: 'second' }), { signal }));
    const abandoned = await rejection(retrying.promise);
    const later = await rejection(webhook.notify(pendingRecord(clock.now(), { id: 'third' }), { signal }));
    await rejection(webhook.notify(pendingRecord(clock.now(), { id: 'fourth' }), { signal }));
    clock.advance(60_000);
    await settleIo();

    expect(goneError.message).toContain("request 'second'");
    expect(goneError.message).toContain('answered 410 Gone; the endpoint is now disabled');
    expect(abandoned.message).toContain("request 'first'");
    expect(abandoned.message).toContain('the endpoint answered 410 Gone earlier and is disabled');
    expect(later.message).toContain('the endpoint answered 410 Gone earlier and is disabled');
    expect(hook.requests).toHaveLength(2);
    expect(webhook.stats().disabled).toBe(true);
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: `webhook notifier 'webhook': ${hook.url} answered 410 Gone; the endpoint is disabled and nothing more is sent to it`,
      },
    ]);
  });
});

describe('the queue', () => {
  it('keeps at most maxQueue deliveries while the receiver is down and reports the dropped ones', async () => {
    const hook = await receiver(status(503));
    const logger = createMemoryLogger();
    const webhook = notifier({ url: hook.url, logger, maxQueue: 5, concurrency: 2, random: () => 0.5, retry: { baseDelayMs: 10_000 } });
    const signal = new AbortController().signal;

    const deliveries = [];
    let largest = 0;
    for (let index = 0; index < 40; index += 1) {
      deliveries.push(track(webhook.notify(pendingRecord(clock.now(), { id: `request-${index}` }), { signal })));
      largest = Math.max(largest, webhook.stats().pending);
      if (index % 10 === 9) await settleIo(5);
    }
    await settleIo();

    expect(largest).toBe(5);
    expect(webhook.stats()).toMatchObject({ pending: 5, dropped: 35 });
    // Which five survive depends on which were in flight at each overflow (those are never dropped).
    const rejected = deliveries.filter((delivery) => delivery.state === 'rejected');
    expect(rejected).toHaveLength(35);
    expect(deliveries.filter((delivery) => delivery.state === 'pending')).toHaveLength(5);
    for (const delivery of rejected) {
      expect(HitlError.is(delivery.error, 'notify_failed')).toBe(true);
      expect((delivery.error as HitlError).message).toMatch(
        /request 'request-\d+' to .* was dropped (after \d attempts?|before its first attempt): the queue is full \(maxQueue 5\)/,
      );
    }
    // Only waiting deliveries were dropped: every request that reached the receiver got its answer.
    expect(await Promise.all(hook.requests.map((request) => request.aborted))).not.toContain(true);
    expect(logger.lines.filter((line) => line.message.includes('queue full'))).toHaveLength(1);
    expect(hook.requests.length).toBeLessThanOrEqual(40);

    const { abandoned } = await webhook.close({ deadlineMs: 0 });
    expect(abandoned).toBe(5);
    await settleIo();
    expect(deliveries.every((delivery) => delivery.state === 'rejected')).toBe(true);
  });

  it('keeps at most `concurrency` sockets open at a receiver that never answers, through a burst of 20,000 notifications', async () => {
    // Dropping the oldest delivery used to abort the one in flight, and its slot started the next
    // fetch at once: 20,000 submits left ~19,000 sockets open and ~490 MB of heap.
    let open = 0;
    let largestOpen = 0;
    let accepted = 0;
    const hook = await receiver(hang);
    const server = hook.server;
    server.on('connection', (socket) => {
      accepted += 1;
      open += 1;
      largestOpen = Math.max(largestOpen, open);
      socket.on('close', () => {
        open -= 1;
      });
    });
    const concurrency = 8;
    const maxQueue = 1_000;
    const webhook = notifier({ url: hook.url, concurrency, maxQueue });
    const signal = new AbortController().signal;
    const heapBefore = process.memoryUsage().heapUsed;

    const outcomes = { rejected: 0, dropped: 0 };
    for (let index = 0; index < 20_000; index += 1) {
      webhook.notify(pendingRecord(clock.now(), { id: `burst-${index}` }), { signal }).catch((error: unknown) => {
        outcomes.rejected += 1;
        if (HitlError.is(error, 'notify_failed') && /queue is full/.test(error.message)) outcomes.dropped += 1;
      });
      if (index % 1_000 === 999) await settleIo(2);
    }
    // Bounded waits on events, never sleeps: every slot's request arrived, every drop settled.
    await until(() => hook.requests.length >= concurrency, `${concurrency} requests at the receiver`);
    await until(() => outcomes.rejected === 20_000 - maxQueue, 'the dropped deliveries to settle');
    await settleIo(200);

    expect(outcomes.dropped).toBe(20_000 - maxQueue);
    expect(webhook.stats()).toMatchObject({ pending: maxQueue, sending: concurrency, dropped: 20_000 - maxQueue });
    expect(hook.requests).toHaveLength(concurrency);
    expect(largestOpen).toBeLessThanOrEqual(concurrency);
    expect(accepted).toBe(concurrency);
    expect(open).toBe(concurrency);
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    console.info(
      `webhook burst: 20000 notifications, ${accepted} sockets accepted, at most ${largestOpen} open, heap +${heapGrowthMb.toFixed(1)} MB`,
    );
    // Bounded by maxQueue, not by the burst: 1,000 held deliveries and garbage not yet collected.
    expect(heapGrowthMb).toBeLessThan(150);
  });

  it('sends at most `concurrency` requests at once', async () => {
    const hook = await receiver(hang);
    const webhook = notifier({ url: hook.url, concurrency: 2 });
    const signal = new AbortController().signal;

    const deliveries = [0, 1, 2, 3].map((index) =>
      track(webhook.notify(pendingRecord(clock.now(), { id: `request-${index}` }), { signal })),
    );
    await until(() => hook.requests.length === 2, 'two requests');
    await settleIo();
    expect(hook.requests).toHaveLength(2);
    expect(webhook.stats()).toMatchObject({ sending: 2, pending: 4 });

    hook.hanging.get(0)!.writeHead(200).end();
    await until(() => hook.requests.length === 3, 'the third request');
    expect(deliveries[0]!.state).toBe('resolved');
    expect(JSON.parse(hook.requests[2]!.body.toString('utf8'))).toMatchObject({ id: 'request-2' });
  });
});

describe('the caller signal', () => {
  it('gets one abort listener however many deliveries share it, removed when they settle; aborting stops them all', async () => {
    const hook = await receiver(hang);
    const webhook = notifier({ url: hook.url, concurrency: 4 });
    const controller = new AbortController();

    const shared = Array.from({ length: 50 }, (_, index) =>
      track(webhook.notify(pendingRecord(clock.now(), { id: `request-${index}` }), { signal: controller.signal })),
    );
    await until(() => hook.requests.length === 4, 'four requests');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    await settleIo();

    expect(shared.every((delivery) => delivery.state === 'rejected')).toBe(true);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(await Promise.all(hook.requests.map((request) => request.aborted))).toEqual([true, true, true, true]);

    const quiet = new AbortController();
    const one = track(webhook.notify(pendingRecord(clock.now(), { id: 'quiet' }), { signal: quiet.signal }));
    await until(() => hook.requests.length === 5, 'the fifth request');
    hook.hanging.get(4)!.writeHead(200).end();
    await one.promise;
    expect(getEventListeners(quiet.signal, 'abort')).toHaveLength(0);
  });
});

describe('close', () => {
  it('waits for pending deliveries up to the deadline', async () => {
    const hook = await receiver(hang);
    const webhook = notifier({ url: hook.url });
    const signal = new AbortController().signal;

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal }));
    await until(() => hook.requests.length === 1, 'the request');
    const closing = track(webhook.close({ deadlineMs: 5_000 }));
    await settleIo();
    expect(closing.state).toBe('pending');
    await expect(webhook.notify(pendingRecord(clock.now(), { id: 'late' }), { signal })).rejects.toThrow(
      /was not sent: the notifier is closed/,
    );
    hook.hanging.get(0)!.writeHead(204).end();

    await expect(closing.promise).resolves.toEqual({ abandoned: 0 });
    expect(delivery.state).toBe('resolved');
  });

  it('abandons what is still pending at the deadline', async () => {
    const hook = await receiver(hang);
    const webhook = notifier({ url: hook.url });

    const delivery = track(webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal }));
    await until(() => hook.requests.length === 1, 'the request');
    const closing = webhook.close({ deadlineMs: 1_000 });
    clock.advance(1_000);

    await expect(closing).resolves.toEqual({ abandoned: 1 });
    const error = await rejection(delivery.promise);
    expect(error.message).toContain('was abandoned after 1 attempt: the notifier closed first');
    expect(await hook.requests[0]!.aborted).toBe(true);
  });
});

describe('request content', () => {
  it('sends the default body, extra headers, and no signature without a secret', async () => {
    const hook = await receiver(status(200));
    const webhook = notifier({ url: hook.url, headers: { Authorization: 'Bearer t0ken', 'X-Team': 'payments' } });
    const record = pendingRecord(clock.now());

    await webhook.notify(record, { signal: new AbortController().signal });

    const [request] = hook.requests;
    expect(JSON.parse(request!.body.toString('utf8'))).toEqual({
      id: record.request.id,
      type: 'approval',
      toolName: 'delete_user',
      description: 'Delete user 12345 and all their data',
      input: { user_id: '12345' },
      riskLevel: 'irreversible',
      confidence: 0.85,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      metadata: { tenant: 'acme' },
    });
    expect(request!.headers).toMatchObject({ authorization: 'Bearer t0ken', 'x-team': 'payments', 'content-type': 'application/json' });
    expect(request!.headers['webhook-id']).toMatch(/^msg_/);
    expect(request!.headers['webhook-timestamp']).toBe(String(Math.floor(clock.now() / 1000)));
    expect(request!.headers['webhook-signature']).toBeUndefined();
  });

  it("sends a custom body such as the seed's PascalCase shape", async () => {
    const hook = await receiver(status(200));
    const webhook = notifier({
      url: hook.url,
      body: ({ request }) => ({
        ID: request.id,
        Type: request.type,
        ToolName: request.toolName,
        Description: request.description,
        RiskLevel: request.riskLevel,
        Confidence: request.confidence,
      }),
    });

    await webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal });

    expect(JSON.parse(hook.requests[0]!.body.toString('utf8'))).toEqual({
      ID: 'hitl-4f1c2a9e-delete-user',
      Type: 'approval',
      ToolName: 'delete_user',
      Description: 'Delete user 12345 and all their data',
      RiskLevel: 'irreversible',
      Confidence: 0.85,
    });
  });

  it('fails at once, sending nothing, when body() throws or returns nothing JSON can hold', async () => {
    const hook = await receiver(status(200));
    const signal = new AbortController().signal;
    const throwing = notifier({
      url: hook.url,
      body: () => {
        throw new Error('no template for delete_user');
      },
    });
    const empty = notifier({ url: hook.url, body: () => undefined });
    const asynchronous = notifier({ url: hook.url, body: async () => ({}) });

    await expect(throwing.notify(pendingRecord(clock.now()), { signal })).rejects.toThrow(
      /body\(record\) failed: no template for delete_user/,
    );
    await expect(empty.notify(pendingRecord(clock.now()), { signal })).rejects.toThrow(/returned undefined, which has no JSON form/);
    await expect(asynchronous.notify(pendingRecord(clock.now()), { signal })).rejects.toThrow(/returned a Promise/);
    expect(hook.requests).toHaveLength(0);
  });

  it('signs with every secret of a rotation; either verifies on its own', async () => {
    const hook = await receiver(status(200));
    const newSecret = generateWebhookSecret();
    const webhook = notifier({ url: hook.url, secret: [newSecret, SECRET] });

    await webhook.notify(pendingRecord(clock.now()), { signal: new AbortController().signal });

    const [request] = hook.requests;
    const entries = String(request!.headers['webhook-signature']).split(' ');
    expect(entries).toHaveLength(2);
    expect(entries.every((entry) => entry.startsWith('v1,'))).toBe(true);
    for (const secret of [newSecret, SECRET]) {
      expect(verifyWebhook({ secret, headers: request!.headers, rawBody: request!.body, now: clock.now })).toMatchObject({
        toolName: 'delete_user',
      });
      expect(new Webhook(secret).verify(request!.body.toString('utf8'), request!.headers as Record<string, string>)).toMatchObject({
        toolName: 'delete_user',
      });
    }
    expect(() =>
      verifyWebhook({ secret: generateWebhookSecret(), headers: request!.headers, rawBody: request!.body, now: clock.now }),
    ).toThrow(/no v1 signature matches/);
  });
});

describe('options', () => {
  const invalid: Array<[string, unknown, RegExp]> = [
    ['no options', undefined, /options undefined must be an object/],
    ['a missing url', {}, /url undefined must be a string or a URL/],
    ['a relative url', { url: '/hooks' }, /url '\/hooks' is not a valid absolute URL/],
    ['an ftp url', { url: 'ftp://example.com/x' }, /url must use http: or https:, not 'ftp:'/],
    ['credentials in the url', { url: 'https://user:pw@example.com/x' }, /url must not hold credentials/],
    [
      'a secret without prefix',
      { url: 'https://example.com', secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
      /secret must start with 'whsec_'/,
    ],
    ['a short secret', { url: 'https://example.com', secret: 'whsec_c2hvcnQ=' }, /secret decodes to 5 bytes/],
    ['a secret that is not base64', { url: 'https://example.com', secret: 'whsec_not base64!' }, /secret is not valid base64/],
    ['an empty rotation', { url: 'https://example.com', secret: [] }, /secret must not be an empty list/],
    ['timeoutMs 0', { url: 'https://example.com', timeoutMs: 0 }, /timeoutMs 0 must be a number of ms from 1/],
    ['attempts 0', { url: 'https://example.com', retry: { attempts: 0 } }, /retry.attempts 0 must be an integer from 1 to 100/],
    ['a negative baseDelayMs', { url: 'https://example.com', retry: { baseDelayMs: -1 } }, /retry.baseDelayMs -1 must be a number of ms/],
    ['maxQueue 0', { url: 'https://example.com', maxQueue: 0 }, /maxQueue 0 must be an integer from 1/],
    [
      'a reserved header',
      { url: 'https://example.com', headers: { 'Webhook-Signature': 'v1,x' } },
      /headers.Webhook-Signature is reserved/,
    ],
    ['a header that is not a string', { url: 'https://example.com', headers: { 'x-n': 1 } }, /headers.x-n 1 must be a string/],
    ['a body that is not a function', { url: 'https://example.com', body: {} }, /body a object must be a function/],
    ['an empty name', { url: 'https://example.com', name: ' ' }, /name ' ' must be a non-empty string/],
  ];
  it.each(invalid)('refuses %s with invalid_input', (_label, options, message) => {
    let caught: unknown;
    try {
      createWebhookNotifier(options as WebhookNotifierOptions);
    } catch (error) {
      caught = error;
    }
    expect(HitlError.is(caught, 'invalid_input')).toBe(true);
    expect((caught as Error).message).toMatch(message);
    // The field is data too, and it is the one the message names.
    expect((caught as HitlError).details?.field, 'details.field').toEqual(expect.any(String));
    expect((caught as Error).message).toContain((caught as HitlError).details?.field);
  });

  it('never shows the secret in its error messages', () => {
    const secret = 'whsec_c2hvcnQ=';
    expect(() => createWebhookNotifier({ url: 'https://example.com', secret })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('c2hvcnQ') }),
    );
  });

  it('rejects a notify call without a record', async () => {
    const webhook = notifier({ url: 'http://127.0.0.1:9/hooks' });
    const error = await rejection(webhook.notify({} as never, { signal: new AbortController().signal }));
    expect(error.code).toBe('invalid_input');
    expect(webhook.name).toBe('webhook');
  });
});
