// Four eyes with the outbox: the approval that completes the quorum writes the decision's jobs (hooks, request.decided), the others none.
import { afterEach, describe, expect, it } from 'vitest';
import { createManager } from './approval-manager.js';
import { createManualClock } from './testing.js';
import type { ApprovalRecord, Manager, Notifier } from './types.js';
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

  it('respondMany: an approval item below the quorum writes no jobs; the one completing it does', async () => {
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
