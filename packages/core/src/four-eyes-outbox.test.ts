// Four eyes with the outbox: the approval that completes the quorum writes the decision's jobs (hooks, request.decided);
// the others write request.approval_added (another approver is needed), delivered and retried like every notification.
import { afterEach, describe, expect, it } from 'vitest';
import { createManager } from './approval-manager.js';
import { createMemoryStore } from './memory-store.js';
import { createManualClock, type ManualClock } from './testing.js';
import type { ApprovalRecord, ApprovalStore, Manager, ManagerOptions, Notifier } from './types.js';
import type { NotificationMessage } from './outbox/types.js';

const managers: Manager[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
});

/** Lets promise chains (the outbox's store calls and job runs) go on. */
const settle = async () => {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
};

function setup() {
  const clock = createManualClock();
  const approved: string[] = [];
  const messages: NotificationMessage[] = [];
  const webhook: Notifier = {
    name: 'webhook',
    events: ['request.created', 'request.decided'],
    async notify() {},
    async deliver(message) {
      messages.push(message);
    },
  };
  const manager = createManager({
    timeoutMs: 3_600_000,
    now: clock.now,
    scheduler: clock,
    logger: { warn() {}, error() {} },
    notifiers: [webhook],
    hooks: { onApprove: (record: ApprovalRecord) => void approved.push(record.request.id) },
    policies: [{ name: 'transfers', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 }],
  });
  managers.push(manager);
  return { manager, approved, messages };
}

const decidedJobs = async (manager: Manager, id: string) =>
  (await manager.listDeliveries({ limit: 100 })).items.filter((job) => job.requestId === id && job.topic !== 'request.created');

describe('four eyes with an outbox (memory store)', () => {
  it('runs onApprove and sends request.decided exactly once, after the second approval', async () => {
    const { manager, approved, messages } = setup();
    const record = await manager.submit({ toolName: 'transfer_funds', input: { amount: 25_000 }, requestedBy: 'agent' });
    const id = record.request.id;
    const first = await manager.respond(id, { decision: 'approve', respondedBy: 'alice' });
    await settle();
    expect(first.status).toBe('pending');
    expect(approved).toEqual([]);
    expect(await decidedJobs(manager, id)).toEqual([]);

    const second = await manager.respond(id, { decision: 'approve', respondedBy: 'bob' });
    await settle();
    expect(second.status).toBe('approved');
    expect(approved).toEqual([id]);
    expect(messages.filter((message) => message.type === 'request.decided')).toHaveLength(1);
    const jobs = await decidedJobs(manager, id);
    expect(jobs.map((job) => job.topic).sort()).toEqual(['onApprove', 'request.decided']);
    expect(jobs.every((job) => job.state === 'done')).toBe(true);

    // A late third approver is refused and runs nothing again.
    await expect(manager.respond(id, { decision: 'approve', respondedBy: 'carol' })).rejects.toMatchObject({ code: 'conflict' });
    await settle();
    expect(approved).toEqual([id]);
  });

  it("respondMany: an approval item below the quorum writes none of the decision's jobs; the one completing it does", async () => {
    const { manager, approved } = setup();
    const record = await manager.submit({ toolName: 'transfer_funds', input: { amount: 1 }, requestedBy: 'agent', runId: 'run-1' });
    const id = record.request.id;
    const [first] = await manager.respondMany({ runId: 'run-1' }, { decision: 'approve', respondedBy: 'alice' });
    await settle();
    expect(first?.status).toBe('pending');
    expect(await decidedJobs(manager, id)).toEqual([]);
    expect(approved).toEqual([]);

    const [second] = await manager.respondMany({ ids: [id] }, { decision: 'approve', respondedBy: 'bob' });
    await settle();
    expect(second?.status).toBe('approved');
    expect(approved).toEqual([id]);
    expect((await decidedJobs(manager, id)).map((job) => job.topic).sort()).toEqual(['onApprove', 'request.decided']);
  });
});

/** A notifier that records what it is sent: `deliver` when it takes `events`, else `notify` alone. */
function recorder(name: string, events?: Notifier['events'], deliver?: (message: NotificationMessage) => Promise<void>) {
  const messages: NotificationMessage[] = [];
  const notified: ApprovalRecord[] = [];
  const notifier: Notifier = {
    name,
    async notify(record) {
      notified.push(record);
    },
    ...(events === undefined
      ? {}
      : {
          events,
          async deliver(message: NotificationMessage) {
            messages.push(message);
            await deliver?.(message);
          },
        }),
  };
  return { notifier, messages, notified };
}

function quorumManager(notifiers: Notifier[], options: Partial<ManagerOptions> & { clock?: ManualClock } = {}) {
  const clock = options.clock ?? createManualClock();
  const manager = createManager({
    timeoutMs: 3_600_000,
    now: clock.now,
    scheduler: clock,
    logger: { warn() {}, error() {} },
    notifiers,
    policies: [{ name: 'transfers', toolPattern: 'transfer_*', requireExplicit: true, approvals: 3 }],
    ...options,
  });
  managers.push(manager);
  return { manager, clock };
}

const approvalJobs = async (manager: Manager, id: string) =>
  (await manager.listDeliveries({ requestId: id, limit: 100 })).items.filter((job) => job.topic === 'request.approval_added');

describe('the notice that another approver is needed, as outbox jobs (memory store)', () => {
  it('a partial approval writes one request.approval_added job per notifier that takes it, each delivered once', async () => {
    const webhook = recorder('webhook', ['request.created', 'request.approval_added', 'request.decided']);
    const plain = recorder('plain');
    const decisionsOnly = recorder('decisions', ['request.decided']);
    const { manager } = quorumManager([webhook.notifier, plain.notifier, decisionsOnly.notifier]);
    const { request } = await manager.submit({ toolName: 'transfer_funds', input: { amount: 25_000 }, requestedBy: 'agent' });
    const first = await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    expect(first.status).toBe('pending');
    await settle();

    const jobs = await approvalJobs(manager, request.id);
    expect(jobs.map((job) => [job.target, job.state, job.attempts, job.payload]).sort()).toEqual([
      ['plain', 'done', 1, { by: 'alice' }],
      ['webhook', 'done', 1, { by: 'alice' }],
    ]);
    const [message] = webhook.messages.filter((sent) => sent.type === 'request.approval_added');
    expect(message).toMatchObject({
      id: jobs.find((job) => job.target === 'webhook')?.id,
      approval: { by: 'alice', at: first.approvals?.[0]?.at },
      record: { status: 'pending', approvalsRequired: 3, approvals: [{ by: 'alice' }] },
    });
    // A notifier without deliver is called with the record, as before: it says "1 of 3 approvals (alice)".
    expect(plain.notified.map((record) => record.approvals?.map((approval) => approval.by))).toEqual([[], ['alice']]);
    expect(decisionsOnly.messages).toEqual([]);

    // The second approver gets a job of their own (a new id); the third decides, and no notice follows.
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'bob' });
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'carol' });
    await settle();
    const all = await approvalJobs(manager, request.id);
    expect(all).toHaveLength(4);
    expect(new Set(all.map((job) => job.id)).size).toBe(4);
    expect(webhook.messages.map((sent) => `${sent.type}:${sent.approval?.by ?? ''}`)).toEqual([
      'request.created:',
      'request.approval_added:alice',
      'request.approval_added:bob',
      'request.decided:',
    ]);
  });

  it('retries a failed notice with backoff under the same id, and drops it once the request is decided', async () => {
    let failures = 1;
    const flaky = recorder('webhook', ['request.approval_added'], async () => {
      if (failures-- > 0) throw new Error('503 Service Unavailable');
    });
    const { manager, clock } = quorumManager([flaky.notifier], { outbox: { backoff: () => 10_000 } });
    const { request } = await manager.submit({ toolName: 'transfer_funds', input: { amount: 1 }, requestedBy: 'agent' });
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    await settle();
    expect(await approvalJobs(manager, request.id)).toMatchObject([
      { state: 'pending', attempts: 1, lastError: expect.stringContaining('503') },
    ]);
    clock.advance(10_000);
    await settle();
    expect(flaky.messages.map((sent) => [sent.id, sent.attempt])).toEqual([
      [flaky.messages[0]?.id, 1],
      [flaky.messages[0]?.id, 2],
    ]);
    expect(await approvalJobs(manager, request.id)).toMatchObject([{ state: 'done', attempts: 2 }]);

    // A notice whose request is decided before it goes out is done without being sent.
    failures = 1;
    const other = await manager.submit({ toolName: 'transfer_funds', input: { amount: 2 }, requestedBy: 'agent' });
    await manager.respond(other.request.id, { decision: 'approve', respondedBy: 'alice' });
    await settle();
    await manager.respond(other.request.id, { decision: 'reject', respondedBy: 'bob', feedback: 'no' });
    const sent = flaky.messages.length;
    clock.advance(10_000);
    await settle();
    expect(flaky.messages).toHaveLength(sent);
    expect(await approvalJobs(manager, other.request.id)).toMatchObject([{ state: 'done', attempts: 2 }]);
  });

  it('a manager that dies after the approval leaves its notice to another manager, which sends it once the lease ends', async () => {
    const store = createMemoryStore();
    const clock = createManualClock();
    // The first manager's delivery never finishes: it is gone before it could mark the job done.
    const hung = recorder('webhook', ['request.approval_added'], () => new Promise<void>(() => {}));
    const { manager: dying } = quorumManager([hung.notifier], { store, clock });
    const { request } = await dying.submit({ toolName: 'transfer_funds', input: { amount: 3 }, requestedBy: 'agent' });
    await dying.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    await settle();
    expect(hung.messages).toHaveLength(1);
    await dying.close();
    const [left] =
      (await store.outbox?.list({ requestId: request.id }))?.items.filter((job) => job.topic === 'request.approval_added') ?? [];
    expect(left).toMatchObject({ state: 'claimed', attempts: 1, payload: { by: 'alice' } });

    const survivor = recorder('webhook', ['request.approval_added']);
    const { manager } = quorumManager([survivor.notifier], { store, clock });
    await settle();
    expect(survivor.messages).toEqual([]);
    clock.advance(30_000);
    await settle();
    expect(survivor.messages).toMatchObject([{ id: left?.id, type: 'request.approval_added', attempt: 2, approval: { by: 'alice' } }]);
    expect(await approvalJobs(manager, request.id)).toMatchObject([{ state: 'done', attempts: 2 }]);
  });

  it('respondMany and a new grant write the notice with the approvals they add', async () => {
    const webhook = recorder('webhook', ['request.approval_added']);
    const { manager } = quorumManager([webhook.notifier]);
    const bulk = await manager.submit({ toolName: 'transfer_funds', input: { amount: 4 }, requestedBy: 'agent', runId: 'run-9' });
    await manager.respondMany({ runId: 'run-9' }, { decision: 'approve', respondedBy: 'alice' });
    const granted = await manager.submit({ toolName: 'transfer_funds', input: { amount: 5 }, requestedBy: 'agent', threadId: 'chat-9' });
    await manager.grant({ effect: 'approve', toolPattern: 'transfer_*', scope: { threadId: 'chat-9' }, grantedBy: 'dave' });
    await settle();
    expect(webhook.messages.map((sent) => [sent.record.request.id, sent.approval?.by]).sort()).toEqual(
      [
        [bulk.request.id, 'alice'],
        [granted.request.id, 'dave'],
      ].sort(),
    );
  });

  it('without an outbox in the store, the reviewers are notified in process as before', async () => {
    const memory = createMemoryStore();
    const plainStore: ApprovalStore = {
      create: (record) => memory.create(record),
      get: (id) => memory.get(id),
      list: (query) => memory.list(query),
      decide: (id, status, patch) => memory.decide(id, status, patch),
      addApproval: (id, input) => memory.addApproval?.(id, input) as Promise<ApprovalRecord>,
      subscribe: (listener) => memory.subscribe(listener),
    };
    const plain = recorder('plain');
    const { manager } = quorumManager([plain.notifier], { store: plainStore });
    const { request } = await manager.submit({ toolName: 'transfer_funds', input: { amount: 6 }, requestedBy: 'agent' });
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    await settle();
    expect(plain.notified.map((record) => record.approvals?.length)).toEqual([0, 1]);
  });
});
