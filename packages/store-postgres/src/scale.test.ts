// The PostgreSQL store at scale: 200 cross-instance wake-ups, 1,500 concurrent decisions over three instances, listing 100,000 rows.
import { describe, expect, it } from 'vitest';
import { createManager } from '@hitl/core';
import type { DecidePatch, Manager, StoreChange } from '@hitl/core';
import { createPostgresStore } from './index.js';
import type { PostgresStore } from './index.js';
import { createRecordingLogger, waitUntil, within } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { pendingRecord } from './test-support.js';

const database = usePostgresSchema('hitl_perf');
const { schema, cleanups } = database;

// Behaviour at scale, without timing assertions: the speed targets (wake-up latency, decisions per
// second, list p99) are measured side by side with baselines by the repo's `pnpm bench`.

interface Instance {
  store: PostgresStore;
  manager: Manager;
  changes: StoreChange[];
  applicationName: string;
}

function startInstance(name: string, table: string, poolSize = 4): Instance {
  const applicationName = randomName(`hitl_${name}`);
  const pool = createTestPool(applicationName, { max: poolSize });
  const store = createPostgresStore({ pool, schema, table, logger: createRecordingLogger(), sweepIntervalMs: Infinity });
  const changes: StoreChange[] = [];
  store.subscribe((change) => changes.push(change));
  const manager = createManager({ store, logger: createRecordingLogger() });
  cleanups.push(async () => {
    await manager.close();
    await store.close();
    await pool.end();
  });
  return { store, manager, changes, applicationName };
}

async function listening(instance: Instance): Promise<void> {
  await waitUntil(
    async () =>
      (
        await database.admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [
          `${instance.applicationName} hitl-listener`,
        ])
      ).rowCount === 1,
    { what: 'the listener' },
  );
}

const approve = (id: string): DecidePatch => {
  const at = new Date().toISOString();
  return { status: 'approved', closedAt: at, response: { requestId: id, decision: 'approve', respondedAt: at } };
};

describe('performance', () => {
  it('wakes a waiter on another instance for each of 200 decisions', async () => {
    const a = startInstance('a', 'latency');
    const b = startInstance('b', 'latency');
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    await Promise.all([listening(a), listening(b)]);

    let woken = 0;
    for (let round = 0; round < 200; round++) {
      const id = `latency-${round}`;
      await b.store.create(pendingRecord(id));
      const waiting = a.manager.waitFor(id);
      await a.store.get(id);
      await b.store.decide(id, 'pending', approve(id));
      const response = await within(waiting, 10_000, `the waiter of ${id}`);
      expect(response.decision).toBe('approve');
      woken++;
    }
    expect(woken).toBe(200);
  });

  it('delivers 1,500 decisions made concurrently over three instances to all three, once each', async () => {
    const instances = ['a', 'b', 'c'].map((name) => startInstance(name, 'throughput', 8));
    await Promise.all(instances.map((instance) => instance.store.migrate()));
    await Promise.all(instances.map(listening));
    const [first] = instances as [Instance];
    const total = 1_500;
    const ids = Array.from({ length: total }, (_, index) => `tp-${index}`);
    for (let start = 0; start < total; start += 100) {
      await Promise.all(ids.slice(start, start + 100).map((id) => first.store.create(pendingRecord(id))));
    }

    await Promise.all(
      instances.map(async (instance, which) => {
        const mine = ids.filter((_, index) => index % 3 === which);
        const workers = Array.from({ length: 8 }, async (_, worker) => {
          for (let index = worker; index < mine.length; index += 8) {
            const id = mine[index] as string;
            await instance.store.decide(id, 'pending', approve(id));
          }
        });
        await Promise.all(workers);
      }),
    );
    for (const instance of instances) {
      await waitUntil(() => instance.changes.filter((change) => change.type === 'decided').length >= total, {
        what: 'every decision to reach every instance',
        timeoutMs: 20_000,
      });
    }
    for (const instance of instances) {
      const decided = instance.changes.filter((change) => change.type === 'decided');
      expect(decided).toHaveLength(total);
      expect(new Set(decided.map((change) => change.record.request.id)).size).toBe(total);
    }
  });

  it('lists pending requests from 100 000 rows through the index', async () => {
    const instance = startInstance('list', 'big');
    await instance.store.migrate();
    const qualified = `"${schema}"."big"`;
    await database.admin.query(`
      INSERT INTO ${qualified} (id, seq, change_seq, type, tool_name, status, request, evaluation, input_hash, created_at, closed_at, response)
      SELECT 'big-' || g, v, v, 'approval', 'tool_' || (g % 20), CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'approved' END,
        json_build_object('id', 'big-' || g, 'type', 'approval', 'toolName', 'tool_' || (g % 20), 'input', json_build_object('n', g)),
        '{"outcome":"review","reason":"bulk"}', md5(g::text), now(),
        CASE WHEN g % 10 = 0 THEN NULL ELSE now() END,
        CASE WHEN g % 10 = 0 THEN NULL ELSE json_build_object('requestId', 'big-' || g, 'decision', 'approve', 'respondedAt', '2026-01-01T00:00:00.000Z') END
      FROM (SELECT g, nextval('"${schema}"."big_seq"') AS v FROM generate_series(1, 100000) AS g) AS numbered`);
    await database.admin.query(`ANALYZE ${qualified}`);

    const plan = await database.admin.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT * FROM ${qualified} WHERE status = 'pending' ORDER BY seq DESC LIMIT 51`,
    );
    const planText = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
    // The planner picks the (status, seq) or the seq index, by how rare the status is; never a sort of the table.
    expect(planText).toMatch(/Index Scan( Backward)? using big_(status_)?seq_idx/);
    expect(planText).not.toMatch(/Sort|Seq Scan/);

    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let round = 0; round < 20; round++) {
      const page = await instance.store.list(cursor === undefined ? { status: 'pending' } : { status: 'pending', cursor });
      for (const record of page.items) seen.add(record.request.id);
      expect(page.items).toHaveLength(50);
      expect(page.items.every((record) => record.status === 'pending')).toBe(true);
      cursor = page.nextCursor;
    }
    // Twenty pages of fifty, newest first, none repeated: 1,000 distinct pending rows.
    expect(seen.size).toBe(1_000);
    expect(seen.has('big-100000')).toBe(true);
  });
});
