// Four eyes under contention: reviewers racing on 2-approval requests across three instances (separate pools, stores and managers on one table).
import { describe, expect, it } from 'vitest';
import { createManager, HitlError } from '@hitl/core';
import type { ApprovalRecord, InteractionResponse, Manager, StoreChange } from '@hitl/core';
import { createRecordingLogger, waitUntil, within } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { createPostgresStore } from './index.js';

const { schema, cleanups } = usePostgresSchema('hitl_four_eyes');

/** Rounds of the race; `HITL_FOUR_EYES_ROUNDS` raises or lowers it (see RELIABILITY.md). */
const ROUNDS = Number(process.env.HITL_FOUR_EYES_ROUNDS ?? 200);
const REVIEWERS = 10;

interface Instance {
  manager: Manager;
  /**
   * The ids of the changes this instance's store delivered with the record approved: `decided`, or
   * `created` when the feed first read the row after it was approved (a feed reports each row's
   * latest state once).
   */
  decidedChanges: string[];
  /** How many `request-decided` events this manager emitted, per request id. */
  decidedEvents: Map<string, number>;
}

function startInstance(name: string, table: string): Instance {
  const pool = createTestPool(randomName(`hitl_${name}`), { max: 6 });
  const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
  const decidedChanges: string[] = [];
  store.subscribe((change: StoreChange) => {
    if (change.record.status === 'approved') decidedChanges.push(change.record.request.id);
  });
  const manager = createManager({
    store,
    logger: createRecordingLogger(),
    timeoutMs: 600_000,
    policies: [{ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 }],
  });
  const decidedEvents = new Map<string, number>();
  manager.subscribe((event) => {
    if (event.type === 'request-decided') decidedEvents.set(event.record.request.id, (decidedEvents.get(event.record.request.id) ?? 0) + 1);
  });
  cleanups.push(async () => {
    await manager.close();
    await store.close();
    await pool.end();
  });
  return { manager, decidedChanges, decidedEvents };
}

describe('four eyes on PostgreSQL', () => {
  it(`${REVIEWERS} reviewers racing on a 2-approval request across 3 instances, ${ROUNDS} rounds: 2 approvals, one approved transition, every waiter woken once alike`, async () => {
    const table = 'race';
    const instances = ['a', 'b', 'c'].map((name) => startInstance(name, table));
    await Promise.all(instances.map((instance) => instance.manager.list({ limit: 1 })));
    const at = (index: number) => instances[index % instances.length] as Instance;

    for (let round = 0; round < ROUNDS; round++) {
      const { request } = await at(round).manager.submit({
        id: `transfer-${round}`,
        toolName: 'transfer_funds',
        input: { round },
        requestedBy: 'agent',
      });
      const id = request.id;
      // Two waiters per instance; each counts how often it was woken.
      const wakeUps: number[] = [];
      const waiters = instances.flatMap((instance, index) =>
        [0, 1].map((slot) => {
          const position = index * 2 + slot;
          wakeUps[position] = 0;
          return instance.manager.waitFor(id).then((response) => {
            wakeUps[position] = (wakeUps[position] ?? 0) + 1;
            return response;
          });
        }),
      );
      const attempts = await Promise.allSettled(
        Array.from({ length: REVIEWERS }, (_, reviewer) =>
          at(reviewer + round).manager.respond(id, { decision: 'approve', respondedBy: `Reviewer-${reviewer}` }),
        ),
      );
      const accepted = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
      expect(accepted, `round ${round}`).toHaveLength(2);
      expect(
        accepted.filter((record: ApprovalRecord) => record.status === 'approved'),
        `round ${round}`,
      ).toHaveLength(1);
      for (const attempt of attempts) {
        if (attempt.status === 'rejected') expect(HitlError.is(attempt.reason, 'conflict'), String(attempt.reason)).toBe(true);
      }
      const final = await at(round + 1).manager.get(id);
      expect(final?.status).toBe('approved');
      expect(final?.approvals).toHaveLength(2);
      expect(new Set(final?.approvals?.map((approval) => approval.by)).size).toBe(2);

      const responses: InteractionResponse[] = await within(Promise.all(waiters), 10_000, `the waiters of round ${round}`);
      for (const response of responses) expect(response).toEqual(final?.response);
      expect(wakeUps).toEqual([1, 1, 1, 1, 1, 1]);
    }

    // Every store delivered each request's approved transition exactly once; every manager emitted one request-decided.
    for (const instance of instances) {
      expect(instance.decidedChanges).toHaveLength(ROUNDS);
      expect(new Set(instance.decidedChanges).size).toBe(ROUNDS);
      expect([...instance.decidedEvents.values()].every((count) => count === 1)).toBe(true);
      expect(instance.decidedEvents.size).toBe(ROUNDS);
    }
  }, 120_000);

  it('with grants and respondMany across instances: a grant is one approval, never the quorum; a bulk approve is one approval each, all or nothing', async () => {
    const [a, b, c] = ['ga', 'gb', 'gc'].map((name) => startInstance(name, 'grants')) as [Instance, Instance, Instance];
    await a.manager.grant({ effect: 'approve', toolPattern: 'transfer_*', scope: { threadId: 'chat-9' }, grantedBy: 'alice' });
    // Submitted on B: the grant (confirmed by the database) is its first approval, by alice.
    const first = await waitUntil(
      async () => {
        const record = await b.manager.submit({
          toolName: 'transfer_funds',
          input: { n: Math.random() },
          threadId: 'chat-9',
          requestedBy: 'agent',
        });
        if (record.approvals?.length === 1) return record;
        await b.manager.cancel(record.request.id);
        return undefined;
      },
      { timeoutMs: 10_000, what: "B to see A's grant" },
    );
    expect(first).toMatchObject({ status: 'pending', approvalsRequired: 2, approvals: [{ by: 'alice' }] });
    // Alice cannot add the second approval herself, on any instance: the database refuses her key.
    await expect(c.manager.respond(first.request.id, { decision: 'approve', respondedBy: 'ALICE' })).rejects.toMatchObject({
      code: 'conflict',
    });

    const second = await b.manager.submit({ toolName: 'transfer_funds', input: { n: 2 }, threadId: 'chat-10', requestedBy: 'agent' });
    const refused = await c.manager
      .respondMany({ ids: [first.request.id, second.request.id] }, { decision: 'approve', respondedBy: 'alice' })
      .catch((error: unknown) => error);
    expect(HitlError.is(refused, 'conflict')).toBe(true);
    expect((refused as HitlError).details?.ids).toEqual([first.request.id]);
    expect((await a.manager.get(second.request.id))?.approvals).toEqual([]);

    const bulk = await c.manager.respondMany({ ids: [first.request.id, second.request.id] }, { decision: 'approve', respondedBy: 'bob' });
    expect(bulk.map((record) => [record.status, record.approvals?.map((approval) => approval.by)])).toEqual([
      ['approved', ['alice', 'bob']],
      ['pending', ['bob']],
    ]);
  });

  it('expiry with 1 of 2 approvals in: expired (by the manager timer or the sweeper), and the partial approval stays', async () => {
    const instance = startInstance('expiry', 'expiry');
    const store = createPostgresStore({
      pool: createTestPool(randomName('hitl_sweep'), { max: 2 }),
      schema,
      table: 'expiry',
      sweepIntervalMs: Infinity,
      logger: createRecordingLogger(),
    });
    cleanups.push(() => store.close());
    const { request } = await instance.manager.submit({ toolName: 'transfer_funds', input: { amount: 1 }, timeoutMs: 300 });
    const waiting = instance.manager.waitFor(request.id).catch((error: unknown) => error);
    await instance.manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    // Whichever comes first once the deadline passed: the manager's timer, or another store's sweeper.
    await waitUntil(async () => (await store.sweep()) > 0 || (await store.get(request.id))?.status === 'expired', {
      timeoutMs: 10_000,
      what: 'the expiry',
    });
    const expired = await store.get(request.id);
    expect(expired?.status).toBe('expired');
    expect(expired?.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect(HitlError.is(await waiting, 'timeout')).toBe(true);
    await expect(instance.manager.respond(request.id, { decision: 'approve', respondedBy: 'bob' })).rejects.toMatchObject({
      code: 'conflict',
    });
  });
});
