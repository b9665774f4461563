// GET /events (SSE): events with ids, heartbeats, one shared subscription, slow clients dropped, Last-Event-ID resume, authorize.
import http from 'node:http';
import type { ApprovalRecord, Manager, ManagerOptions, Scheduler } from '@hitl/core';
import { createManualClock, createRecordingNotifier, createTestManager, nextEvent, type ManualClock } from '@hitl/core/testing';
import express, { type Request } from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReviewRouter, type ReviewRouterOptions } from './index.js';
import { listen, openEventStream, type EventStreamClient, type RunningServer, type SseFrame } from '@hitl/test-kit';

function headerAuthenticate(httpRequest: Request) {
  const id = httpRequest.get('x-reviewer');
  if (!id) return null;
  return { id, roles: (httpRequest.get('x-roles') ?? '').split(',').filter(Boolean) };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Counts the manager subscriptions that are open, to see the router release its own. */
function countSubscriptions(manager: Manager): { manager: Manager; active: () => number } {
  let active = 0;
  const counted: Manager = {
    ...manager,
    subscribe(listener) {
      active++;
      const unsubscribe = manager.subscribe(listener);
      let done = false;
      return () => {
        if (!done) {
          done = true;
          active--;
        }
        unsubscribe();
      };
    },
  };
  return { manager: counted, active: () => active };
}

interface StreamHarness {
  manager: Manager;
  managerClock: ManualClock;
  /** The router's timers: heartbeats and the resume window. */
  routerClock: ManualClock;
  /** The delay of every timer the router has set, in order. */
  timerDelays: number[];
  server: RunningServer;
  subscriptions: () => number;
  open(reviewer?: string, headers?: Record<string, string>): Promise<EventStreamClient>;
  submit(overrides?: Record<string, unknown>): Promise<ApprovalRecord>;
}

async function setup(
  routerOptions: Partial<ReviewRouterOptions> = {},
  managerOptions: Omit<ManagerOptions, 'now' | 'scheduler'> = {},
): Promise<StreamHarness> {
  const { manager: base, clock: managerClock } = createTestManager({ timeoutMs: 60_000, ...managerOptions });
  const { manager, active } = countSubscriptions(base);
  const routerClock = createManualClock();
  const timerDelays: number[] = [];
  const scheduler: Scheduler = {
    setTimeout(callback, delayMs) {
      timerDelays.push(delayMs);
      return routerClock.setTimeout(callback, delayMs);
    },
    clearTimeout: (handle) => routerClock.clearTimeout(handle),
  };
  const app = express();
  app.use(
    '/hitl',
    createReviewRouter({ manager, authenticate: headerAuthenticate, scheduler, heartbeatMs: 1_000, resumeWindowMs: 0, ...routerOptions }),
  );
  const server = await listen(app);
  const streams: EventStreamClient[] = [];
  cleanups.push(async () => {
    for (const stream of streams) stream.close();
    await server.close();
    await base.close();
  });
  let count = 0;
  return {
    manager: base,
    managerClock,
    routerClock,
    timerDelays,
    server,
    subscriptions: active,
    async open(reviewer = 'alice', headers = {}) {
      const stream = await openEventStream(`${server.url}/hitl/events`, { 'x-reviewer': reviewer, ...headers });
      streams.push(stream);
      return stream;
    },
    submit: (overrides = {}) =>
      base.submit({ toolName: 'delete_user', description: `Delete user ${++count}`, input: { user_id: String(count) }, ...overrides }),
  };
}

const named = (event: string) => (frame: SseFrame) => frame.event === event;
const payload = (frame: SseFrame) => JSON.parse(frame.data ?? 'null') as { type: string; record: ApprovalRecord };
const recordEvents = (frames: SseFrame[]) =>
  frames.filter((frame) => frame.event?.startsWith('request-')).map((frame) => `${frame.event} ${payload(frame).record.request.id}`);

describe('GET /events', () => {
  it('answers 401 as JSON before any stream starts', async () => {
    const { server } = await setup();
    const response = await request(server.url).get('/hitl/events');
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');
  });

  it('streams created, decided, expired and cancelled events with ids, and no notify-failed', async () => {
    const { open, submit, manager, managerClock } = await setup(
      {},
      { notifiers: [createRecordingNotifier({ name: 'broken', fail: new Error('down') })], hooks: { onError: () => undefined } },
    );
    const notifyFailed = nextEvent(manager, 'notify-failed');
    const stream = await open();
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.headers['cache-control']).toMatch(/no-cache/);
    expect((await stream.next()).retry).toBe('3000');
    const ready = await stream.next(named('ready'));
    expect(JSON.parse(ready.data ?? '')).toEqual({ resumed: false });
    expect(ready.id).toMatch(/^[a-z0-9]+-0$/);

    const approved = await submit();
    const created = await stream.next(named('request-created'));
    expect(payload(created)).toMatchObject({
      type: 'request-created',
      record: { status: 'pending', request: { id: approved.request.id } },
    });
    await manager.respond(approved.request.id, { decision: 'approve', respondedBy: 'alice' });
    const decided = payload(await stream.next(named('request-decided')));
    expect(decided.record).toMatchObject({ status: 'approved', response: { respondedBy: 'alice' } });

    const expiring = await submit({ timeoutMs: 1_000 });
    managerClock.advance(1_000);
    expect(payload(await stream.next(named('request-expired'))).record.request.id).toBe(expiring.request.id);

    const cancelled = await submit();
    await manager.cancel(cancelled.request.id, 'agent stopped');
    expect(payload(await stream.next(named('request-cancelled'))).record.closedReason).toBe('agent stopped');

    expect(recordEvents(stream.frames)).toEqual([
      `request-created ${approved.request.id}`,
      `request-decided ${approved.request.id}`,
      `request-created ${expiring.request.id}`,
      `request-expired ${expiring.request.id}`,
      `request-created ${cancelled.request.id}`,
      `request-cancelled ${cancelled.request.id}`,
    ]);
    const ids = stream.frames.filter((frame) => frame.event?.startsWith('request-')).map((frame) => Number(frame.id?.split('-')[1]));
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await notifyFailed).notifier).toBe('broken');
    expect(stream.frames.some((frame) => frame.event === 'notify-failed' || frame.data?.includes('notify-failed'))).toBe(false);
  });

  it('sends a heartbeat comment every heartbeatMs', async () => {
    const { open, routerClock } = await setup({ heartbeatMs: 5_000 });
    const stream = await open();
    await stream.next(named('ready'));
    routerClock.advance(4_999);
    routerClock.advance(1);
    expect((await stream.next((frame) => frame.comment !== undefined)).comment).toBe('heartbeat');
    routerClock.advance(5_000);
    expect((await stream.next((frame) => frame.comment !== undefined)).comment).toBe('heartbeat');
    expect(stream.frames.filter((frame) => frame.comment !== undefined)).toHaveLength(2);
  });

  it('shares one manager subscription and releases it, and the heartbeat timers, when the clients disconnect', async () => {
    const { open, subscriptions, routerClock } = await setup({ resumeWindowMs: 0 });
    expect(subscriptions()).toBe(0);
    const first = await open();
    const second = await open('bob');
    await first.next(named('ready'));
    await second.next(named('ready'));
    expect(subscriptions()).toBe(1);
    expect(routerClock.pendingTimers()).toBe(2);
    first.close();
    await vi.waitFor(() => expect(routerClock.pendingTimers()).toBe(1), { timeout: 5_000, interval: 5 });
    expect(subscriptions()).toBe(1);
    second.close();
    await vi.waitFor(() => expect(subscriptions()).toBe(0), { timeout: 5_000, interval: 5 });
    expect(routerClock.pendingTimers()).toBe(0);
  });

  it('attaches nothing when the client left while authenticate was still running', async () => {
    let entered: () => void = () => undefined;
    const authenticating = new Promise<void>((resolve) => (entered = resolve));
    let answered: () => void = () => undefined;
    const authenticated = new Promise<void>((resolve) => (answered = resolve));
    const { server, subscriptions, routerClock } = await setup({
      authenticate: async (httpRequest) => {
        entered();
        // Answer only once the client has hung up.
        await new Promise((resolve) => httpRequest.socket.once('close', resolve));
        setImmediate(answered);
        return { id: 'alice' };
      },
    });
    const client = http.get(`${server.url}/hitl/events`);
    client.on('error', () => undefined);
    await authenticating;
    client.destroy();
    await authenticated;
    await new Promise((resolve) => setImmediate(resolve));
    expect(subscriptions()).toBe(0);
    expect(routerClock.pendingTimers()).toBe(0);
  });

  it('drops a client that stops reading once more than 1 MiB is queued for it', async () => {
    const { server, submit, subscriptions } = await setup();
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${server.url}/hitl/events`, { headers: { 'x-reviewer': 'alice' } }, resolve).on('error', reject);
    });
    response.pause();
    await vi.waitFor(() => expect(subscriptions()).toBe(1), { timeout: 5_000, interval: 5 });
    // 400 events of ~100 kB: far more than the socket buffers hold while the client does not read.
    const blob = 'x'.repeat(100_000);
    for (let index = 0; index < 400; index++) await submit({ input: { blob, index } });
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.resume();
    await new Promise((resolve) => response.once('end', resolve));
    const delivered = text.split('event: request-created').length - 1;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(400);
    await vi.waitFor(() => expect(subscriptions()).toBe(0), { timeout: 5_000, interval: 5 });
    // 400 submits hash and store 40 MB of input: seconds on a loaded two-core machine.
  }, 60_000);

  it('answers HEAD with the stream headers and no stream', async () => {
    const { server, subscriptions } = await setup();
    const response = await request(server.url).head('/hitl/events').set('x-reviewer', 'alice');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(subscriptions()).toBe(0);
  });

  it('keeps recording for resumeWindowMs after the last client left, then releases the subscription', async () => {
    const { open, submit, subscriptions, routerClock, timerDelays } = await setup({ resumeWindowMs: 30_000 });
    const windows = () => timerDelays.filter((delay) => delay === 30_000).length;
    const stream = await open();
    const ready = await stream.next(named('ready'));
    stream.close();
    // The server notices the disconnect: the heartbeat timer is replaced by the resume-window timer.
    await vi.waitFor(() => expect(windows()).toBe(1), { timeout: 5_000, interval: 5 });
    expect(routerClock.pendingTimers()).toBe(1);
    expect(subscriptions()).toBe(1);
    const missed = await submit();

    const again = await open('alice', { 'last-event-id': ready.id ?? '' });
    const replayed = await again.next(named('request-created'));
    expect(payload(replayed).record.request.id).toBe(missed.request.id);
    expect(JSON.parse((await again.next(named('ready'))).data ?? '')).toEqual({ resumed: true });
    again.close();
    await vi.waitFor(() => expect(windows()).toBe(2), { timeout: 5_000, interval: 5 });
    expect(routerClock.pendingTimers()).toBe(1);
    routerClock.advance(29_999);
    expect(subscriptions()).toBe(1);
    routerClock.advance(1);
    expect(subscriptions()).toBe(0);
    expect(routerClock.pendingTimers()).toBe(0);

    // After the window a client's old id cannot be resumed any more.
    const late = await open('alice', { 'last-event-id': replayed.id ?? '' });
    expect(JSON.parse((await late.next(named('reset'))).data ?? '').reason).toMatch(/not from the current event stream/);
  });

  it('resumes from Last-Event-ID with exactly the missed events, in order', async () => {
    const { open, submit, manager } = await setup();
    const keeper = await open('bob');
    await keeper.next(named('ready'));
    const stream = await open();
    await stream.next(named('ready'));
    const first = await submit();
    const seen = await stream.next(named('request-created'));
    stream.close();
    await stream.ended;

    const second = await submit();
    await manager.respond(first.request.id, { decision: 'reject' });
    const resumed = await open('alice', { 'last-event-id': seen.id ?? '' });
    await resumed.next(named('ready'));
    expect(recordEvents(resumed.frames)).toEqual([`request-created ${second.request.id}`, `request-decided ${first.request.id}`]);
    expect(resumed.frames.some((frame) => frame.event === 'reset')).toBe(false);
    expect(JSON.parse(resumed.frames.find(named('ready'))?.data ?? '')).toEqual({ resumed: true });

    // Live events continue after the replay.
    const third = await submit();
    expect(payload(await resumed.next(named('request-created'))).record.request.id).toBe(third.request.id);
  });

  it('sends a reset when the Last-Event-ID is older than the buffer, unknown or malformed', async () => {
    const { open, submit } = await setup({ eventBufferSize: 3 });
    const keeper = await open('bob');
    const start = await keeper.next(named('ready'));
    for (let index = 0; index < 3; index++) await submit();
    // Buffer holds events 1..3: resuming from 0 still works.
    const fits = await open('alice', { 'last-event-id': start.id ?? '' });
    await fits.next(named('ready'));
    expect(recordEvents(fits.frames)).toHaveLength(3);
    await submit();

    const tooOld = await open('alice', { 'last-event-id': start.id ?? '' });
    const reset = await tooOld.next(named('reset'));
    expect(JSON.parse(reset.data ?? '').reason).toMatch(/older than the 3 events kept/);
    expect(reset.id).toMatch(/-4$/);
    expect(JSON.parse((await tooOld.next(named('ready'))).data ?? '')).toEqual({ resumed: false });
    expect(recordEvents(tooOld.frames)).toEqual([]);

    for (const lastEventId of ['abc123-1', 'garbage', `${start.id?.split('-')[0]}-99`]) {
      const stream = await open('alice', { 'last-event-id': lastEventId });
      expect((await stream.next(named('reset'))).event).toBe('reset');
      await stream.next(named('ready'));
      expect(recordEvents(stream.frames)).toEqual([]);
    }
  });

  it('filters events through authorize, in order, even when it is async', async () => {
    const { open, submit } = await setup({
      authorize: async (reviewer, record, action) => {
        await new Promise((resolve) => setImmediate(resolve));
        return action !== 'view' || record.request.toolName !== 'delete_user' || reviewer.roles?.includes('admin') === true;
      },
    });
    const admin = await open('alice', { 'x-roles': 'admin' });
    const bob = await open('bob');
    await admin.next(named('ready'));
    await bob.next(named('ready'));
    const hidden = await submit();
    const visible = await submit({ toolName: 'send_email' });
    const last = await submit({ toolName: 'send_email' });
    await admin.next((frame) => frame.data?.includes(last.request.id) === true);
    await bob.next((frame) => frame.data?.includes(last.request.id) === true);
    expect(recordEvents(admin.frames)).toEqual([
      `request-created ${hidden.request.id}`,
      `request-created ${visible.request.id}`,
      `request-created ${last.request.id}`,
    ]);
    expect(recordEvents(bob.frames)).toEqual([`request-created ${visible.request.id}`, `request-created ${last.request.id}`]);
  });
});
