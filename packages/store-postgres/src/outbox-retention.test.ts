// Outbox retention on PostgreSQL: a sweep deletes finished jobs older than outboxRetentionMs and keeps dead, pending and recent ones.
import { describe, expect, it } from 'vitest';
import { HitlError, type ApprovalRecord, type OutboxJobInput } from '@hitl/core';
import { createRecordingLogger, waitUntil } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { createPostgresStore } from './index.js';

const { schema, cleanups } = usePostgresSchema('hitl_outbox_retention');

function start(table: string, outboxRetentionMs?: number) {
  const pool = createTestPool(randomName('hitl_retention'), { max: 4 });
  const store = createPostgresStore({
    pool,
    schema,
    table,
    sweepIntervalMs: Infinity,
    logger: createRecordingLogger(),
    ...(outboxRetentionMs === undefined ? {} : { outboxRetentionMs }),
  });
  cleanups.push(async () => {
    await store.close();
    await pool.end();
  });
  return store;
}

function pendingRecord(id: string): ApprovalRecord {
  return {
    request: { id, type: 'approval', toolName: 'delete_user', input: { user_id: id } },
    status: 'pending',
    evaluation: { outcome: 'review', reason: 'test' },
    inputHash: 'a'.repeat(64),
    createdAt: new Date().toISOString(),
  };
}

const job = (id: string, requestId: string): OutboxJobInput => ({
  id,
  kind: 'retention-test',
  requestId,
  topic: 'request.created',
  target: 'webhook',
  dueAt: new Date(Date.now() - 1_000).toISOString(),
  maxAttempts: 3,
});

/** Writes three jobs for one request: one finished, one dead, one left pending. */
async function finishedDeadAndPending(store: ReturnType<typeof start>, id: string) {
  const outbox = store.outbox;
  await store.create(pendingRecord(id), { jobs: [job(`${id}:done`, id), job(`${id}:dead`, id)] });
  const claimed = await outbox.claim({
    owner: 'worker',
    limit: 10,
    leaseMs: 60_000,
    now: new Date().toISOString(),
    kinds: ['retention-test'],
  });
  expect(claimed.map((item) => item.id).sort()).toEqual([`${id}:dead`, `${id}:done`]);
  expect(await outbox.complete(`${id}:done`, 'worker')).toBe(true);
  expect(await outbox.dead(`${id}:dead`, 'worker', 'HTTP 500')).toBe(true);
  await store.decide(
    id,
    'pending',
    {
      status: 'cancelled',
      closedAt: new Date().toISOString(),
      closedReason: 'test',
    },
    { jobs: [{ ...job(`${id}:later`, id), dueAt: new Date(Date.now() + 3_600_000).toISOString() }] },
  );
  return outbox;
}

const statesOf = async (store: ReturnType<typeof start>, id: string) =>
  (await store.outbox.list({ requestId: id })).items.map((item) => `${item.id.slice(id.length + 1)}:${item.state}`).sort();

describe('outbox retention (PostgreSQL)', () => {
  it('a sweep deletes finished jobs past the retention and keeps dead and pending ones', async () => {
    const store = start('short', 1);
    await finishedDeadAndPending(store, 'retention-1');
    // The retention is counted by the database clock from the job's finish: sweep until it has passed.
    await waitUntil(
      async () => {
        await store.sweep();
        return (await statesOf(store, 'retention-1')).every((state) => !state.endsWith(':done'));
      },
      { timeoutMs: 5_000, what: 'the finished job deleted' },
    );
    expect(await statesOf(store, 'retention-1')).toEqual(['dead:dead', 'later:pending']);
  });

  it('keeps finished jobs within the default retention (7 days)', async () => {
    const store = start('default');
    await finishedDeadAndPending(store, 'retention-2');
    await store.sweep();
    expect(await statesOf(store, 'retention-2')).toEqual(['dead:dead', 'done:done', 'later:pending']);
  });

  it('refuses a retention that is not a positive number of ms, naming the option', () => {
    for (const value of [0, -1, Number.NaN, '7d']) {
      let error: unknown;
      try {
        createPostgresStore({ connectionString: 'postgres://127.0.0.1:1/none', outboxRetentionMs: value as number });
      } catch (caught) {
        error = caught;
      }
      expect(HitlError.is(error, 'invalid_input')).toBe(true);
      expect((error as Error).message).toContain('options.outboxRetentionMs');
    }
  });
});
