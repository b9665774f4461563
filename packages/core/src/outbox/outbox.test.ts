// The outbox in the manager: reminders and escalation as durable timers, hooks and notifications as jobs, retries and dead jobs.
import { afterEach, describe, expect, it } from 'vitest';
import { createManager } from '../approval-manager.js';
import { HitlError } from '../hitl-error.js';
import { createMemoryStore } from '../memory-store.js';
import { createManualClock, type ManualClock } from '../testing.js';
import type { ApprovalRecord, ApprovalStore, Manager, ManagerOptions, Notifier } from '../types.js';
import type { NotificationMessage } from './types.js';

const managers: Manager[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
});

/** Lets promise chains (the outbox's store calls) run. */
const settle = async () => {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
};

function recorder(name: string, events?: Notifier['events']) {
  const messages: NotificationMessage[] = [];
  const notifier: Notifier = {
    name,
    ...(events ? { events } : {}),
    async notify() {},
    async deliver(message) {
      messages.push(message);
    },
  };
  return { notifier, messages };
}

function setup(options: ManagerOptions & { clock?: ManualClock } = {}) {
  const clock = options.clock ?? createManualClock();
  const manager = createManager({
    timeoutMs: 3_600_000,
    now: clock.now,
    scheduler: clock,
    logger: { warn() {}, error() {} },
    policies: [
      { name: 'payments', toolPattern: 'pay_*', requireExplicit: true, remind: { everyMs: 60_000, times: 3 } },
      { name: 'forever', toolPattern: 'wait_*', requireExplicit: true, timeoutMs: Infinity, remind: { everyMs: 86_400_000 } },
      { name: 'deploys', toolPattern: 'deploy_*', requireExplicit: true, escalate: { afterMs: 900_000, notifiers: ['oncall'] } },
      { name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' },
    ],
    ...options,
  });
  managers.push(manager);
  return { manager, clock };
}

describe('reminders and escalation (durable timers in the outbox)', () => {
  it('sends 3 reminders at everyMs, then stops', async () => {
    const reviewers = recorder('reviewers');
    const { manager, clock } = setup({ notifiers: [reviewers.notifier] });
    const record = await manager.submit({ toolName: 'pay_invoice', input: { amount: 10 } });
    await settle();
    expect(reviewers.messages.map((message) => message.type)).toEqual(['request.created']);
    for (const expected of [1, 2, 3]) {
      clock.advance(59_999);
      await settle();
      expect(reviewers.messages).toHaveLength(expected);
      clock.advance(1);
      await settle();
      expect(reviewers.messages.at(-1)).toMatchObject({
        type: 'request.reminder',
        reminder: expected,
        record: { request: { id: record.request.id } },
      });
    }
    clock.advance(600_000);
    await settle();
    expect(reviewers.messages).toHaveLength(4);
  });

  it('keeps reminding a request that waits forever, and stops once it is decided', async () => {
    const reviewers = recorder('reviewers');
    const { manager, clock } = setup({ notifiers: [reviewers.notifier] });
    const record = await manager.submit({ toolName: 'wait_for_signoff' });
    expect(record.expiresAt).toBeUndefined();
    for (let day = 1; day <= 5; day++) {
      clock.advance(86_400_000);
      await settle();
    }
    expect(reviewers.messages.filter((message) => message.type === 'request.reminder').map((message) => message.reminder)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    await manager.respond(record.request.id, { decision: 'approve' });
    clock.advance(3 * 86_400_000);
    await settle();
    expect(reviewers.messages.filter((message) => message.type === 'request.reminder')).toHaveLength(5);
  });

  it('escalates to the named notifier after afterMs, whatever events it takes, and not once decided', async () => {
    const reviewers = recorder('reviewers');
    const oncall = recorder('oncall', ['request.decided']);
    const { manager, clock } = setup({ notifiers: [reviewers.notifier, oncall.notifier] });
    const waiting = await manager.submit({ toolName: 'deploy_api' });
    const answered = await manager.submit({ toolName: 'deploy_web' });
    await manager.respond(answered.request.id, { decision: 'reject' });
    clock.advance(900_000);
    await settle();
    expect(oncall.messages.map((message) => [message.type, message.record.request.id])).toEqual([
      ['request.decided', answered.request.id],
      ['request.escalated', waiting.request.id],
    ]);
  });

  it('refuses malformed remind and escalate, naming the field', () => {
    const { manager } = setup();
    expect(() => manager.addPolicy({ name: 'bad', toolPattern: 'x', requireExplicit: true, remind: { everyMs: 0 } })).toThrow(
      /remind\.everyMs/,
    );
    expect(() => manager.addPolicy({ name: 'bad', toolPattern: 'x', requireExplicit: true, remind: { everyMs: 10, times: 1.5 } })).toThrow(
      /remind\.times/,
    );
    expect(() =>
      manager.addPolicy({ name: 'bad', toolPattern: 'x', requireExplicit: true, escalate: { afterMs: 10, notifiers: [] } }),
    ).toThrow(/escalate\.notifiers/);
  });
});

describe('hooks and notifications as outbox jobs', () => {
  it('runs each decision hook exactly once, before respond returns, and records the job as done', async () => {
    const approved: string[] = [];
    const { manager } = setup({ hooks: { onApprove: (record) => void approved.push(record.request.id) } });
    const record = await manager.submit({ toolName: 'pay_invoice' });
    await manager.respond(record.request.id, { decision: 'approve' });
    expect(approved).toEqual([record.request.id]);
    await settle();
    expect(approved).toEqual([record.request.id]);
    const { items } = await manager.listDeliveries({ requestId: record.request.id });
    expect(items).toMatchObject([{ kind: 'hook', topic: 'onApprove', state: 'done', attempts: 1 }]);
  });

  it('runs the hook of a transition whose manager died: another manager claims the job once its lease ends', async () => {
    const store = createMemoryStore();
    const clock = createManualClock();
    const approved: string[] = [];
    const record: ApprovalRecord = {
      request: { id: 'orphan-1', type: 'approval', toolName: 'pay_invoice' },
      status: 'pending',
      evaluation: { outcome: 'review', reason: 'test' },
      inputHash: 'a'.repeat(64),
      createdAt: new Date(clock.now()).toISOString(),
    };
    await store.create(record);
    // A manager that wrote the decision with its hook job claimed, then died before running it.
    const respondedAt = new Date(clock.now()).toISOString();
    await store.decide(
      'orphan-1',
      'pending',
      { status: 'approved', closedAt: respondedAt, response: { requestId: 'orphan-1', decision: 'approve', respondedAt } },
      {
        jobs: [
          {
            id: 'orphan-1:hook:onApprove',
            kind: 'hook',
            requestId: 'orphan-1',
            topic: 'onApprove',
            dueAt: respondedAt,
            maxAttempts: 8,
            claim: { owner: 'dead-manager', leaseUntil: new Date(clock.now() + 30_000).toISOString() },
          },
        ],
      },
    );
    setup({ store, clock, hooks: { onApprove: (found) => void approved.push(found.request.id) } });
    await settle();
    expect(approved).toEqual([]);
    clock.advance(30_000);
    await settle();
    expect(approved).toEqual(['orphan-1']);
  });

  it('calls notify for a notifier without deliver, and sends a policy-approved call to nobody', async () => {
    const notified: string[] = [];
    const plain: Notifier = { name: 'plain', notify: async (record) => void notified.push(record.request.id) };
    const { manager } = setup({ notifiers: [plain] });
    const pending = await manager.submit({ toolName: 'pay_invoice' });
    await manager.submit({ toolName: 'get_balance', riskLevel: 'read_only', confidence: 1 });
    await settle();
    expect(notified).toEqual([pending.request.id]);
  });

  it('moves a delivery that keeps failing to dead after maxAttempts, with backoff between attempts', async () => {
    let calls = 0;
    const failing: Notifier = {
      name: 'failing',
      notify: async () => undefined,
      deliver: async () => {
        calls += 1;
        throw new Error('503');
      },
    };
    const { manager, clock } = setup({ notifiers: [failing], outbox: { maxAttempts: 3, backoff: (attempt) => attempt * 10_000 } });
    const record = await manager.submit({ toolName: 'pay_invoice' });
    await settle();
    expect(calls).toBe(1);
    clock.advance(9_999);
    await settle();
    expect(calls).toBe(1);
    clock.advance(1);
    await settle();
    expect(calls).toBe(2);
    clock.advance(20_000);
    await settle();
    expect(calls).toBe(3);
    const { items } = await manager.listDeliveries({ state: 'dead', requestId: record.request.id });
    expect(items).toMatchObject([{ topic: 'request.created', target: 'failing', attempts: 3, lastError: expect.stringContaining('503') }]);
  });

  it('keeps the in-process path for a store without an outbox, and says so from listDeliveries', async () => {
    const memory = createMemoryStore();
    const plainStore: ApprovalStore = {
      create: (record) => memory.create(record),
      get: (id) => memory.get(id),
      list: (query) => memory.list(query),
      decide: (id, status, patch) => memory.decide(id, status, patch),
      subscribe: (listener) => memory.subscribe(listener),
    };
    const cancelled: string[] = [];
    const { manager } = setup({ store: plainStore, hooks: { onCancel: (record) => void cancelled.push(record.request.id) } });
    const record = await manager.submit({ toolName: 'pay_invoice' });
    await manager.cancel(record.request.id);
    expect(cancelled).toEqual([record.request.id]);
    await expect(manager.listDeliveries()).rejects.toSatisfy((error) => HitlError.is(error, 'invalid_input'));
    await expect(manager.redeliver('x')).rejects.toSatisfy((error) => HitlError.is(error, 'invalid_input'));
  });
});
