// Four eyes with grants on PostgreSQL: a grant is one approval of a quorum, or the whole decision when the policy has grantCoversQuorum.
import { describe, expect, it } from 'vitest';
import { createManager } from '@hitl/core';
import { createRecordingLogger } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { createPostgresStore } from './index.js';

const { schema, cleanups } = usePostgresSchema('hitl_four_eyes_grants');

function start(table: string) {
  const pool = createTestPool(randomName('hitl_fe_grants'), { max: 4 });
  const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
  const manager = createManager({
    store,
    logger: createRecordingLogger(),
    timeoutMs: 600_000,
    policies: [
      { name: 'payouts', toolPattern: 'payout_*', requireExplicit: true, approvals: 2, grantCoversQuorum: true },
      { name: 'transfers', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 },
    ],
  });
  cleanups.push(async () => {
    await manager.close();
    await store.close();
    await pool.end();
  });
  return manager;
}

const call = (toolName: string, threadId: string) => ({ toolName, input: { amount: 25_000 }, threadId, requestedBy: 'agent-7' });

describe('four eyes with grants on PostgreSQL', () => {
  it('with grantCoversQuorum a covering grant approves the call outright and counts one use; without it, it is one approval', async () => {
    const manager = start('covered');
    const grant = await manager.grant({ effect: 'approve', toolPattern: '*', scope: { threadId: 'chat-1' }, grantedBy: 'alice' });
    const payout = await manager.submit(call('payout_vendor', 'chat-1'));
    expect(payout).toMatchObject({
      status: 'approved',
      evaluation: { outcome: 'approve', grant: grant.id },
      response: { automatic: true, metadata: { cause: 'grant', grant: grant.id } },
    });
    const transfer = await manager.submit(call('transfer_funds', 'chat-1'));
    expect(transfer).toMatchObject({
      status: 'pending',
      approvalsRequired: 2,
      approvals: [{ by: 'alice' }],
      evaluation: { grant: grant.id },
    });
    expect((await manager.getGrant(grant.id))?.uses).toBe(2);
    expect(await manager.get(payout.request.id)).toEqual(payout);
  });

  it('a new grant decides a pending grantCoversQuorum request it covers, and adds one approval to the others', async () => {
    const manager = start('pending');
    const payout = await manager.submit(call('payout_vendor', 'chat-2'));
    const transfer = await manager.submit(call('transfer_funds', 'chat-2'));
    expect(payout).toMatchObject({ status: 'pending', evaluation: { approvals: 2, grantCoversQuorum: true } });
    const grant = await manager.grant({ effect: 'approve', toolPattern: '*', scope: { threadId: 'chat-2' }, grantedBy: 'alice' });
    expect(await manager.get(payout.request.id)).toMatchObject({
      status: 'approved',
      response: { metadata: { cause: 'grant', grant: grant.id } },
    });
    expect(await manager.get(transfer.request.id)).toMatchObject({ status: 'pending', approvals: [{ by: 'alice' }] });
  });
});
