// Four eyes with the PostgreSQL outbox: the approval completing the quorum writes the decision's jobs in the same statement (or transaction), the others none.
import { describe, expect, it } from 'vitest';
import { createManager } from '@hitl/core';
import type { ApprovalRecord, Manager, NotificationMessage, Notifier } from '@hitl/core';
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
  it('the final approval runs onApprove once and writes a request.decided job; the first writes none', async () => {
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
