// Grants on PostgreSQL through submit (the store confirms each use): what must hold (deny policies,
// grants: false, scope) and a use counted only when the grant decides the call.
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createManager, type Manager, type ManagerOptions, type PolicyCall } from '@hitl/core';
import { createPostgresStore } from './index.js';
import { errorOf } from './test-support.js';
import { createRecordingLogger } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';

const database = usePostgresSchema('hitl_grant_rules');
const { schema } = database;

let tableCounter = 0;
const running: { manager: Manager; close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const instance of running.splice(0)) {
    await instance.manager.close();
    await instance.close();
  }
});

const policies: NonNullable<ManagerOptions['policies']> = [
  { name: 'no-drops', toolPattern: 'drop_*', deny: true },
  { name: 'transfers', toolPattern: 'transfer_money', requireExplicit: true, grants: false },
  { name: 'dual-control', toolPattern: 'wire_*', requireExplicit: true, approvals: 2 },
  { name: 'email', toolPattern: 'send_email', requireExplicit: true },
];

/** One manager on a new PostgreSQL table; `hooks` as the manager's. */
async function start(hooks: ManagerOptions['hooks'] = {}): Promise<{ manager: Manager; pool: pg.Pool; table: string }> {
  const table = `grant_rules_${++tableCounter}`;
  const pool = createTestPool(randomName('hitl_grant_rules'));
  const logger = createRecordingLogger();
  const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger });
  await store.migrate();
  const manager = createManager({ store, logger, policies, hooks });
  running.push({
    manager,
    async close() {
      await store.close();
      await pool.end();
    },
  });
  return { manager, pool, table };
}

const email = (threadId?: string, to = 'bob@example.com') => ({
  toolName: 'send_email',
  input: { to },
  riskLevel: 'data_modification' as const,
  requestedBy: 'agent-7',
  ...(threadId === undefined ? {} : { threadId }),
});
const call = (toolName: string, threadId?: string): PolicyCall => ({
  toolName,
  input: {},
  confidence: 1,
  riskLevel: 'data_modification',
  ...(threadId === undefined ? {} : { threadId }),
});

async function usesOf(manager: Manager, id: string): Promise<number | undefined> {
  return (await manager.getGrant(id))?.uses;
}

describe('grants on PostgreSQL: what must hold', () => {
  it('a grant never overrides a deny policy, and counts no use', async () => {
    const { manager } = await start();
    const grant = await manager.grant({ effect: 'approve', toolPattern: '*', grantedBy: 'alice' });
    const record = await manager.submit({ toolName: 'drop_table', input: { table: 'users' } });
    expect(record.status).toBe('rejected');
    expect(record.evaluation).toMatchObject({ outcome: 'deny', policy: 'no-drops' });
    expect(record.evaluation.grant).toBeUndefined();
    expect(manager.evaluate(call('drop_table')).outcome).toBe('deny');
    expect(await usesOf(manager, grant.id)).toBe(0);
  });

  it('a grants: false policy is never satisfied by a grant', async () => {
    const { manager } = await start();
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'transfer_money', grantedBy: 'alice' });
    const record = await manager.submit({ toolName: 'transfer_money', input: { amount: 10 } });
    expect(record.status).toBe('pending');
    expect(record.evaluation).toMatchObject({ outcome: 'review', policy: 'transfers' });
    expect(record.evaluation.grant).toBeUndefined();
    expect(await usesOf(manager, grant.id)).toBe(0);
  });

  it('a thread-A grant never applies in thread B or to a call without a thread', async () => {
    const { manager } = await start();
    const grant = await manager.grant({
      effect: 'approve',
      toolPattern: 'send_email',
      scope: { threadId: 'thread-a' },
      grantedBy: 'alice',
    });
    expect((await manager.submit(email('thread-b'))).status).toBe('pending');
    expect((await manager.submit(email())).status).toBe('pending');
    expect(await usesOf(manager, grant.id)).toBe(0);
    const covered = await manager.submit(email('thread-a'));
    expect(covered).toMatchObject({ status: 'approved', evaluation: { grant: grant.id } });
    expect(covered.response?.metadata).toEqual({ cause: 'grant', grant: grant.id });
    expect(await usesOf(manager, grant.id)).toBe(1);
  });
});

describe('grants on PostgreSQL: a use counts only when the grant decides the call', () => {
  it('a maxUses 1 grant made by the requester, on a 2-approval policy, gives no approval and counts no use', async () => {
    const { manager } = await start();
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'wire_*', maxUses: 1, grantedBy: 'Agent-7' });
    const own = await manager.submit({ toolName: 'wire_funds', input: { amount: 25_000 }, requestedBy: 'agent-7' });
    expect(own).toMatchObject({ status: 'pending', approvals: [] });
    expect(await usesOf(manager, grant.id)).toBe(0);
    const other = await manager.submit({ toolName: 'wire_funds', input: { amount: 25_000 }, requestedBy: 'agent-8' });
    expect(other.approvals?.map((approval) => approval.by)).toEqual(['Agent-7']);
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('a call the onRequest hook vetoes gives its use back', async () => {
    const { manager } = await start({ onRequest: (request) => request.input?.to !== 'eve@evil.test' });
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 1, grantedBy: 'alice' });
    expect((await errorOf(manager.submit(email(undefined, 'eve@evil.test')))).code).toBe('forbidden');
    expect(await usesOf(manager, grant.id)).toBe(0);
    expect(await manager.submit(email())).toMatchObject({ status: 'approved', evaluation: { grant: grant.id } });
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('a call the database refused to store gives its use back', async () => {
    const { manager, table } = await start();
    const refuse = `"${schema}"."${table}_refuse"`;
    await database.admin.query(`CREATE FUNCTION ${refuse}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.request->'input'->>'to' = 'full@example.com' THEN RAISE EXCEPTION 'disk full'; END IF;
  RETURN NEW;
END $$`);
    await database.admin.query(`CREATE TRIGGER refuse BEFORE INSERT ON "${schema}"."${table}" FOR EACH ROW EXECUTE FUNCTION ${refuse}()`);
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 1, grantedBy: 'alice' });
    expect((await errorOf(manager.submit(email(undefined, 'full@example.com')))).code).toBe('store_unavailable');
    expect(await usesOf(manager, grant.id)).toBe(0);
    expect(await manager.submit(email())).toMatchObject({ status: 'approved', evaluation: { grant: grant.id } });
    expect(await usesOf(manager, grant.id)).toBe(1);
  });
});
