// Found by the chaos run: a first attempt or a retry held back by busy slots (`concurrency`) must not
// be sent once its request has expired, whatever the backoff said when it was scheduled.
import { createManager, type Manager, type ManagerEvent } from '@hitl/core';
import { createWebhookNotifier, type WebhookNotifier } from '@hitl/notifier-webhook';
import { afterEach, describe, expect, it } from 'vitest';
import { createSteppingClock, startChaosReceiver, type ChaosReceiver, type SteppingClock } from './webhook-chaos-support.js';

const START = Date.UTC(2026, 0, 1, 9, 0, 0, 0);
const silent = { warn: () => undefined, error: () => undefined };

let receiver: ChaosReceiver | undefined;
let webhook: WebhookNotifier | undefined;
let manager: Manager | undefined;

afterEach(async () => {
  await webhook?.close({ deadlineMs: 0 });
  await manager?.close();
  await receiver?.close();
  receiver = webhook = manager = undefined;
});

/** Turns the event loop until `condition` holds; fails after 10 s of real time. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > 10_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One slot; `hold-*` requests hang and keep it; `retry-me` answers 503 + Retry-After: 1 once, then 204. */
async function setUp(clock: SteppingClock) {
  receiver = await startChaosReceiver({
    now: clock.now,
    choose: ({ requestId, number }) => {
      if (requestId.startsWith('hold-')) return { kind: 'hang' };
      if (requestId === 'retry-me' && number === 1) return { kind: 'answer', status: 503, retryAfter: { form: 'seconds', seconds: 1 } };
      return { kind: 'answer', status: 204 };
    },
  });
  webhook = createWebhookNotifier({
    url: receiver.url(0),
    concurrency: 1,
    timeoutMs: 5_000,
    retry: { attempts: 3 },
    now: clock.now,
    scheduler: clock,
    logger: silent,
  });
  manager = createManager({ notifiers: [webhook], now: clock.now, scheduler: clock, logger: silent, hooks: { onError: () => undefined } });
  const failures: Array<Extract<ManagerEvent, { type: 'notify-failed' }>> = [];
  manager.subscribe((event) => {
    if (event.type === 'notify-failed') failures.push(event);
  });
  return { receiver, webhook, manager, failures };
}

describe('webhook delivery held back by busy slots', () => {
  it('does not send a first attempt after the request expired', async () => {
    const clock = createSteppingClock(START);
    const { receiver, webhook, manager, failures } = await setUp(clock);
    await manager.submit({ id: 'hold-1', toolName: 'delete_user', timeoutMs: 60_000 });
    await manager.submit({ id: 'short-lived', toolName: 'delete_user', timeoutMs: 1_000 });
    await until(() => receiver.attempts.length === 1 && webhook.stats().sending === 1, 'the hang to take the only slot');

    clock.advance(1_000); // short-lived expires while it waits for the slot
    expect((await manager.get('short-lived'))?.status).toBe('expired');
    clock.advance(4_000); // the hang times out: the slot frees
    await until(() => webhook.stats().pending === 1, 'short-lived to settle');

    expect((receiver.byRequestId.get('short-lived') ?? []).map((attempt) => attempt.at - START)).toEqual([]);
    expect(failures.map((event) => event.record.request.id)).toEqual(['short-lived']);
  });

  it('does not send a retry after the request expired', async () => {
    const clock = createSteppingClock(START);
    const { receiver, webhook, manager, failures } = await setUp(clock);
    await manager.submit({ id: 'retry-me', toolName: 'delete_user', timeoutMs: 3_000 });
    await until(() => webhook.stats().retrying === 1, 'the Retry-After wait'); // due at +1 s, before the expiry at +3 s
    clock.advance(500);
    await manager.submit({ id: 'hold-1', toolName: 'delete_user', timeoutMs: 60_000 });
    await until(() => receiver.attempts.length === 2 && webhook.stats().sending === 1, 'the hang to take the only slot');

    clock.advance(500); // the retry falls due and waits for the slot
    clock.advance(2_000); // retry-me expires at +3 s
    expect((await manager.get('retry-me'))?.status).toBe('expired');
    clock.advance(2_500); // the hang times out at +5.5 s: the slot frees
    await until(() => webhook.stats().pending === 1, 'retry-me to settle');

    expect((receiver.byRequestId.get('retry-me') ?? []).map((attempt) => attempt.at - START)).toEqual([0]);
    expect(failures.map((event) => event.record.request.id)).toEqual(['retry-me']);
  });
});
