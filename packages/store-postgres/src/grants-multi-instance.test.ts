// Grants over three PostgreSQL instances: maxUses held exactly, revocation, grants heard through the change feed, database-clock expiry.
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createManager, type Manager, type ManagerHooks, type PolicyCall } from '@hitl/core';
import { createPostgresStore, type PostgresStore } from './index.js';
import { createRecordingLogger, waitUntil } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';

const database = usePostgresSchema('hitl_grants');
const { schema } = database;

interface Instance {
  manager: Manager;
  store: PostgresStore;
  pool: pg.Pool;
}

let tableCounter = 0;
const running: Instance[] = [];

afterEach(async () => {
  for (const instance of running.splice(0)) {
    await instance.manager.close();
    await instance.store.close();
    await instance.pool.end();
  }
});

/** Three "server instances" (own pool, store, manager) on one new table. */
async function startInstances(count = 3, hooks: ManagerHooks = {}): Promise<Instance[]> {
  const table = `grants_${++tableCounter}`;
  const instances: Instance[] = [];
  for (let index = 0; index < count; index++) {
    const pool = createTestPool(randomName(`hitl_grants_${index}`));
    const logger = createRecordingLogger();
    const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger });
    await store.migrate();
    const manager = createManager({ store, logger, hooks });
    manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
    const instance = { manager, store, pool };
    running.push(instance);
    instances.push(instance);
  }
  return instances;
}

const email = (threadId = 'thread-a') => ({
  toolName: 'send_email',
  input: { to: 'bob@example.com' },
  riskLevel: 'data_modification' as const,
  threadId,
});
const call: PolicyCall = {
  toolName: 'send_email',
  input: { to: 'bob@example.com' },
  confidence: 1,
  riskLevel: 'data_modification',
  threadId: 'thread-a',
};

describe('grants across PostgreSQL instances', () => {
  it('maxUses 3 and 20 concurrent calls over 3 instances: exactly 3 approved by the grant, 17 go to review', async () => {
    const instances = await startInstances();
    const heard = instances.map(() => new Set<string>());
    instances.forEach((instance, index) => instance.manager.subscribeGrants((change) => heard[index]!.add(change.grant.id)));
    const grant = await instances[0]!.manager.grant({
      effect: 'approve',
      toolPattern: 'send_email',
      scope: { threadId: 'thread-a' },
      maxUses: 3,
      grantedBy: 'alice',
    });
    // Every instance learns of the grant through the change feed, so each one races for it.
    await waitUntil(() => heard.every((ids) => ids.has(grant.id)));
    const records = await Promise.all(Array.from({ length: 20 }, (_, index) => instances[index % 3]!.manager.submit(email())));
    const byGrant = records.filter((record) => record.status === 'approved' && record.evaluation.grant === grant.id);
    expect(byGrant).toHaveLength(3);
    expect(records.filter((record) => record.status === 'pending')).toHaveLength(17);
    const stored = await instances[2]!.manager.listGrants({ active: false });
    expect(stored.items.find((item) => item.id === grant.id)?.uses).toBe(3);
  });

  it('maxUses 3 while vetoed calls give their uses back: never more than 3 approved by the grant, uses equal to them', async () => {
    // Every other call is vetoed after its use was counted; the use goes back as other calls race for it.
    const instances = await startInstances(3, { onRequest: (request) => request.input?.to !== 'eve@evil.test' });
    const heard = instances.map(() => new Set<string>());
    instances.forEach((instance, index) => instance.manager.subscribeGrants((change) => heard[index]!.add(change.grant.id)));
    const grant = await instances[0]!.manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 3, grantedBy: 'alice' });
    await waitUntil(() => heard.every((ids) => ids.has(grant.id)));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) =>
        instances[index % 3]!.manager.submit({ ...email(), input: { to: index % 2 === 0 ? 'eve@evil.test' : 'bob@example.com' } }),
      ),
    );
    expect(results.filter((result) => result.status === 'rejected')).toHaveLength(10);
    const byGrant = results.filter((result) => result.status === 'fulfilled' && result.value.evaluation.grant === grant.id);
    expect(byGrant.length).toBeLessThanOrEqual(3);
    const stored = await instances[1]!.manager.getGrant(grant.id);
    expect(stored?.uses).toBe(byGrant.length);
  });

  it('once revokeGrant has returned, no instance approves by it', async () => {
    const instances = await startInstances();
    const grant = await instances[0]!.manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    // Every instance has used the grant once: each has it indexed.
    for (const instance of instances) await waitUntil(async () => (await instance.manager.submit(email())).evaluation.grant === grant.id);
    await instances[1]!.manager.revokeGrant(grant.id, { revokedBy: 'bob' });
    // Straight after the revoke, before any change feed could have told the others.
    const after = await Promise.all(
      instances.flatMap((instance) => [instance.manager.submit(email()), instance.manager.submit(email('thread-b'))]),
    );
    expect(after.map((record) => record.status)).toEqual(Array(6).fill('pending'));
    for (const instance of instances) expect(instance.manager.evaluate(call).outcome).toBe('review');
  });

  it('an instance learns of a new grant through the change feed and decides by it on submit, never on the sync path', async () => {
    const [first, second] = await startInstances(2);
    const grant = await first!.manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    await waitUntil(async () => (await second!.manager.listGrants({ active: true })).items.length === 1);
    const decided = await waitUntil(async () => {
      const record = await second!.manager.submit(email());
      return record.status === 'approved' ? record : undefined;
    });
    expect(decided.response?.metadata).toEqual({ cause: 'grant', grant: grant.id });
    // The sync path cannot confirm a use with a shared store: it leaves the call to submit.
    expect(second!.manager.evaluate(call).outcome).toBe('review');
  });

  it('an expired grant never applies: the database clock decides', async () => {
    const [instance] = await startInstances(1);
    const grant = await instance!.manager.grant({ effect: 'approve', toolPattern: 'send_email', ttlMs: 60_000, grantedBy: 'alice' });
    expect((await instance!.manager.submit(email())).evaluation.grant).toBe(grant.id);
    await database.admin.query(
      `UPDATE "${schema}"."grants_${tableCounter}_grants" SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [grant.id],
    );
    expect((await instance!.manager.submit(email())).status).toBe('pending');
  });

  it('respond with remember stores the decision and the grant in one transaction; respondMany decides a run all or nothing', async () => {
    const [one, two] = await startInstances(2);
    const first = await one!.manager.submit({ ...email(), runId: 'run-1' });
    const second = await one!.manager.submit({ ...email(), runId: 'run-2' });
    const third = await one!.manager.submit({ ...email(), runId: 'run-2' });
    const decided = await two!.manager.respond(first.request.id, { decision: 'reject', respondedBy: 'alice', remember: { scope: 'run' } });
    expect(decided.response?.grantId).toMatch(/^grant-/);
    const stored = await one!.manager.listGrants();
    expect(stored.items.map((item) => [item.id, item.effect, item.scope.runId])).toEqual([[decided.response?.grantId, 'deny', 'run-1']]);

    await two!.manager.respond(third.request.id, { decision: 'approve', respondedBy: 'alice' });
    const refused = await one!.manager
      .respondMany({ ids: [second.request.id, third.request.id] }, { decision: 'approve', respondedBy: 'bob' })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'conflict', details: { ids: [third.request.id] } });
    expect((await one!.manager.get(second.request.id))?.status).toBe('pending');
    const many = await one!.manager.respondMany({ runId: 'run-2' }, { decision: 'reject', respondedBy: 'bob' });
    expect(many.map((record) => [record.request.id, record.status])).toEqual([[second.request.id, 'rejected']]);
  });
});
