// Four eyes with the PostgreSQL outbox: the approval completing the quorum writes the decision's jobs in the same statement (or
// transaction); the others write request.approval_added (another approver is needed), delivered from any instance.
import { describe, expect, it } from 'vitest';
import { createManager } from '@hitl/core';
import type { ApprovalRecord, Manager, ManagerOptions, NotificationMessage, Notifier } from '@hitl/core';
import { createRecordingLogger, waitUntil } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { createPostgresStore } from './index.js';

const { schema, cleanups } = usePostgresSchema('hitl_four_eyes_outbox');

function start(table: string) {
  const pool = createTestPool(randomName('hitl_fe_outbox'), { max: 4 });
  const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
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
    store,
    logger: createRecordingLogger(),
    timeoutMs: 600_000,
    notifiers: [webhook],
    hooks: { onApprove: (record: ApprovalRecord) => void approved.push(record.request.id) },
    policies: [{ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 }],
  });
  cleanups.push(async () => {
    await manager.close();
    await store.close();
    await pool.end();
  });
  return { manager, approved, messages };
}

/** The jobs of a request other than its creation's. */
const decisionJobs = async (manager: Manager, id: string) =>
  (await manager.listDeliveries({ limit: 500 })).items.filter((job) => job.requestId === id && job.topic !== 'request.created');

describe('four eyes with the PostgreSQL outbox', () => {
  it("the final approval runs onApprove once and writes a request.decided job; the first writes none of the decision's jobs", async () => {
    const { manager, approved, messages } = start('single');
    const { request } = await manager.submit({ toolName: 'transfer_funds', input: { amount: 25_000 }, requestedBy: 'agent' });
    const first = await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    expect(first.status).toBe('pending');
    expect(await decisionJobs(manager, request.id)).toEqual([]);

    const second = await manager.respond(request.id, { decision: 'approve', respondedBy: 'bob' });
    expect(second.status).toBe('approved');
    await waitUntil(() => approved.length === 1 && messages.some((message) => message.type === 'request.decided'), {
      timeoutMs: 10_000,
      what: 'the hook and the webhook',
    });
    expect(approved).toEqual([request.id]);
    const jobs = await waitUntil(
      async () => {
        const found = await decisionJobs(manager, request.id);
        return found.length === 2 && found.every((job) => job.state === 'done') ? found : undefined;
      },
      { timeoutMs: 10_000, what: 'the decision jobs done' },
    );
    expect(jobs.map((job) => job.topic).sort()).toEqual(['onApprove', 'request.decided']);
    expect(messages.filter((message) => message.type === 'request.decided')).toHaveLength(1);
  });

  it('respondMany (one transaction): approval items write the decision jobs only for the request they complete', async () => {
    const { manager, approved } = start('bulk');
    const a = await manager.submit({ toolName: 'transfer_funds', input: { n: 1 }, requestedBy: 'agent' });
    const b = await manager.submit({ toolName: 'transfer_funds', input: { n: 2 }, requestedBy: 'agent' });
    await manager.respond(a.request.id, { decision: 'approve', respondedBy: 'alice' });
    const bulk = await manager.respondMany({ ids: [a.request.id, b.request.id] }, { decision: 'approve', respondedBy: 'bob' });
    expect(bulk.map((record) => record.status)).toEqual(['approved', 'pending']);
    await waitUntil(() => approved.length === 1, { timeoutMs: 10_000, what: 'onApprove of the completed request' });
    expect(approved).toEqual([a.request.id]);
    expect((await decisionJobs(manager, a.request.id)).map((job) => job.topic).sort()).toEqual(['onApprove', 'request.decided']);
    expect(await decisionJobs(manager, b.request.id)).toEqual([]);
  });
});

/** A manager on table `table` with its own pool and store, and `notifiers`. */
function instance(table: string, notifiers: Notifier[], options: Partial<ManagerOptions> = {}) {
  const pool = createTestPool(randomName('hitl_fe_notice'), { max: 4 });
  const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
  const manager = createManager({
    store,
    logger: createRecordingLogger(),
    timeoutMs: 600_000,
    notifiers,
    policies: [{ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 }],
    ...options,
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await manager.close();
    await store.close();
    await pool.end();
  };
  cleanups.push(close);
  return { manager, store, close };
}

function recorder(name: string, events: Notifier['events'], deliver?: () => Promise<void>) {
  const messages: NotificationMessage[] = [];
  const notifier: Notifier = {
    name,
    events,
    async notify() {},
    async deliver(message) {
      messages.push(message);
      await deliver?.();
    },
  };
  return { notifier, messages };
}

const noticeJobs = async (manager: Manager, id: string) =>
  (await manager.listDeliveries({ requestId: id, limit: 500 })).items.filter((job) => job.topic === 'request.approval_added');

describe('the notice that another approver is needed, on the PostgreSQL outbox', () => {
  it('a partial approval writes one request.approval_added job per notifier in the same statement, and each is delivered', async () => {
    const webhook = recorder('webhook', ['request.created', 'request.approval_added', 'request.decided']);
    const pager = recorder('pager', ['request.approval_added']);
    const { manager } = instance('notice', [webhook.notifier, pager.notifier]);
    const { request } = await manager.submit({ toolName: 'transfer_funds', input: { amount: 25_000 }, requestedBy: 'agent' });
    const first = await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    expect(first.status).toBe('pending');
    const jobs = await waitUntil(
      async () => {
        const found = await noticeJobs(manager, request.id);
        return found.length === 2 && found.every((job) => job.state === 'done') ? found : undefined;
      },
      { timeoutMs: 10_000, what: 'both notices done' },
    );
    expect(jobs.map((job) => [job.target, job.attempts, job.payload]).sort()).toEqual([
      ['pager', 1, { by: 'alice' }],
      ['webhook', 1, { by: 'alice' }],
    ]);
    for (const { messages } of [webhook, pager]) {
      expect(messages.filter((message) => message.type === 'request.approval_added')).toMatchObject([
        { approval: { by: 'alice' }, record: { status: 'pending', approvals: [{ by: 'alice' }], approvalsRequired: 2 } },
      ]);
    }

    // The approval completing the quorum writes the decision's jobs and no notice.
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'bob' });
    await waitUntil(() => webhook.messages.some((message) => message.type === 'request.decided'), {
      timeoutMs: 10_000,
      what: 'request.decided',
    });
    expect(await noticeJobs(manager, request.id)).toHaveLength(2);
  });

  it('respondMany (one transaction) writes the notice of an approval item that leaves its request pending', async () => {
    const pager = recorder('pager', ['request.approval_added']);
    const { manager } = instance('notice_bulk', [pager.notifier]);
    const a = await manager.submit({ toolName: 'transfer_funds', input: { n: 1 }, requestedBy: 'agent' });
    const b = await manager.submit({ toolName: 'transfer_funds', input: { n: 2 }, requestedBy: 'agent' });
    await manager.respond(a.request.id, { decision: 'approve', respondedBy: 'alice' });
    await manager.respondMany({ ids: [a.request.id, b.request.id] }, { decision: 'approve', respondedBy: 'bob' });
    await waitUntil(() => pager.messages.length === 2, { timeoutMs: 10_000, what: 'two notices' });
    expect(pager.messages.map((message) => [message.record.request.id, message.approval?.by])).toEqual([
      [a.request.id, 'alice'],
      [b.request.id, 'bob'],
    ]);
    expect(await noticeJobs(manager, a.request.id)).toHaveLength(1);
  });

  it('a manager that dies after the approval leaves its notice in the outbox; another instance sends it once the lease ends', async () => {
    // The first instance's delivery never finishes: it is gone before it could mark the job done.
    const hung = recorder('webhook', ['request.approval_added'], () => new Promise<void>(() => {}));
    const dying = instance('notice_crash', [hung.notifier]);
    const { request } = await dying.manager.submit({ toolName: 'transfer_funds', input: { amount: 3 }, requestedBy: 'agent' });
    await dying.manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    await waitUntil(() => hung.messages.length === 1, { timeoutMs: 10_000, what: 'the first attempt' });
    await dying.close();

    // Another instance, its clock past the dead instance's lease (30 s), claims the job and delivers it.
    const survivor = recorder('webhook', ['request.approval_added']);
    const { manager } = instance('notice_crash', [survivor.notifier], { now: () => Date.now() + 60_000 });
    await waitUntil(() => survivor.messages.length === 1, { timeoutMs: 10_000, what: 'the notice from the surviving instance' });
    expect(survivor.messages[0]).toMatchObject({ id: hung.messages[0]?.id, attempt: 2, approval: { by: 'alice' } });
    const [job] = await waitUntil(
      async () => {
        const found = await noticeJobs(manager, request.id);
        return found[0]?.state === 'done' ? found : undefined;
      },
      { timeoutMs: 10_000, what: 'the notice done' },
    );
    expect(job).toMatchObject({ target: 'webhook', attempts: 2 });
  });
});
