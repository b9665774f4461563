// PostgreSQL rows: cross-instance wake-up (LISTEN/NOTIFY against polling), decisions over three instances, list among 100,000 rows.
import { createManager, type ApprovalRecord, type Manager } from '@hitl/core';
import { createPostgresStore, type PostgresStore } from '@hitl/store-postgres';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { formatNumber, percentile, type BenchContext, type Row } from '../harness.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = { warn() {}, error() {}, info() {}, debug() {} };

interface Instance {
  pool: pg.Pool;
  store: PostgresStore;
  manager: Manager;
}

function startInstance(schema: string, table: string, name: string): Instance {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: `hitl-bench-${name}`, max: 8 });
  pool.on('error', () => undefined);
  const store = createPostgresStore({ pool, schema, table, logger: quiet, sweepIntervalMs: Infinity });
  const manager = createManager({
    store,
    logger: quiet,
    timeoutMs: Infinity,
    policies: [{ name: 'all', toolPattern: '*', requireExplicit: true }],
  });
  return { pool, store, manager };
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.manager.close();
  await instance.store.close();
  await instance.pool.end();
}

const submitOn = (instance: Instance, id: string): Promise<ApprovalRecord> =>
  instance.manager.submit({ id, toolName: 'delete_user', input: { user_id: id }, riskLevel: 'irreversible', confidence: 0.8 });

/**
 * PostgreSQL shared by three instances: how soon a decision made on B wakes a `waitFor` on A
 * (LISTEN/NOTIFY), against a peer without push that polls the row every 250 ms; decisions per
 * second spread over the three; and `list` of pending requests among 100,000 rows.
 */
export async function postgresStore(context: BenchContext): Promise<Row[]> {
  const schema = `hitl_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const instances = ['a', 'b', 'c'].map((name) => startInstance(schema, 'hitl_requests', name));
  const [a, b, c] = instances as [Instance, Instance, Instance];
  try {
    await Promise.all(instances.map((instance) => instance.store.migrate()));

    // Wake-up: decide on B, waitFor resolves on A.
    const rounds = context.smoke ? 20 : 300;
    const pushed: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const id = `wake-${round}`;
      await submitOn(b, id);
      const woke = a.manager.waitFor(id).then(() => process.hrtime.bigint());
      await a.manager.get(id);
      const started = process.hrtime.bigint();
      await b.manager.respond(id, { decision: 'approve', respondedBy: 'bench' });
      const latency = Number((await woke) - started) / 1e6;
      if (round >= rounds / 10) pushed.push(latency);
    }

    // The baseline: a waiter that polls the row every 250 ms.
    const pollRounds = context.smoke ? 4 : 40;
    const polled: number[] = [];
    const table = `"${schema}"."hitl_requests"`;
    for (let round = 0; round < pollRounds; round++) {
      const id = `poll-${round}`;
      await submitOn(b, id);
      let started = 0n;
      const seen = (async () => {
        for (;;) {
          const { rows } = await a.pool.query<{ status: string }>(`SELECT status FROM ${table} WHERE id = $1`, [id]);
          if (rows[0]?.status !== 'pending') return process.hrtime.bigint();
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      // Decide at a random moment within the polling period, as a reviewer would.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 250));
      started = process.hrtime.bigint();
      await b.manager.respond(id, { decision: 'approve', respondedBy: 'bench' });
      polled.push(Number((await seen) - started) / 1e6);
    }

    // Decisions per second over the three instances, 8 reviewers each.
    const total = context.smoke ? 300 : 3_000;
    const ids = Array.from({ length: total }, (_, index) => `rate-${index}`);
    for (let start = 0; start < total; start += 50) await Promise.all(ids.slice(start, start + 50).map((id) => submitOn(c, id)));
    const began = process.hrtime.bigint();
    await Promise.all(
      instances.map((instance, which) => {
        const mine = ids.filter((_, index) => index % 3 === which);
        return Promise.all(
          Array.from({ length: 8 }, async (_, worker) => {
            for (let index = worker; index < mine.length; index += 8) {
              await instance.manager.respond(mine[index] as string, { decision: 'approve', respondedBy: `reviewer-${which}` });
            }
          }),
        );
      }),
    );
    const decisionsPerSecond = total / (Number(process.hrtime.bigint() - began) / 1e9);

    // list pending among many rows: 1 in 10 pending.
    const rows = context.smoke ? 5_000 : 100_000;
    const listStore = createPostgresStore({ pool: a.pool, schema, table: 'hitl_list', logger: quiet, sweepIntervalMs: Infinity });
    await listStore.migrate();
    const lister = createManager({
      store: listStore,
      logger: quiet,
      timeoutMs: Infinity,
      policies: [{ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' }],
    });
    for (let start = 0; start < rows; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, offset) => {
          const index = start + offset;
          const pending = index % 10 === 0;
          return lister.submit({
            toolName: pending ? 'delete_user' : 'get_user',
            input: { user_id: String(index) },
            riskLevel: pending ? 'irreversible' : 'read_only',
            confidence: 0.9,
          });
        }),
      );
    }
    await admin.query(`ANALYZE "${schema}"."hitl_list"`);
    const listed: number[] = [];
    let cursor: string | undefined;
    const samples = context.smoke ? 50 : 1_000;
    for (let round = 0; round < samples + 20; round++) {
      const started = process.hrtime.bigint();
      const page = await lister.list(cursor === undefined ? { status: 'pending' } : { status: 'pending', cursor });
      if (round >= 20) listed.push(Number(process.hrtime.bigint() - started) / 1e6);
      cursor = round % 20 === 19 ? undefined : page.nextCursor;
    }
    await lister.close();
    await listStore.close();

    const p50 = percentile(pushed, 50);
    const p99 = percentile(pushed, 99);
    const pollP50 = percentile(polled, 50);
    const listP99 = percentile(listed, 99);
    return [
      {
        row: 'cross-instance wake-up (PostgreSQL)',
        measured: `decide on B → waitFor on A: p50 ${formatNumber(p50, 2)} ms, p99 ${formatNumber(p99, 2)} ms (${pushed.length} decisions)`,
        baseline: `polling the row every 250 ms: p50 ${formatNumber(pollP50, 1)} ms, p99 ${formatNumber(percentile(polled, 99), 1)} ms`,
        result: `p50 ${formatNumber(p50, 2)} ms, p99 ${formatNumber(p99, 2)} ms; ${formatNumber(pollP50 / p50, 0)}x sooner than polling (p50)`,
        target: 'p50 ≤ 5 ms, p99 ≤ 20 ms',
        pass: p50 <= 5 && p99 <= 20,
        figures: { p50Ms: p50, p99Ms: p99, pollingP50Ms: pollP50, pollingP99Ms: percentile(polled, 99) },
      },
      {
        row: 'decisions over three instances (PostgreSQL)',
        measured: `${formatNumber(decisionsPerSecond)} decisions/s (${formatNumber(total, 0)} decisions, 24 reviewers)`,
        baseline: '—',
        result: `${formatNumber(decisionsPerSecond)}/s`,
        target: '≥ 1,000 decisions/s',
        pass: decisionsPerSecond >= 1_000,
        figures: { decisionsPerSecond, decisions: total },
      },
      {
        row: `list pending among ${formatNumber(rows, 0)} rows (PostgreSQL)`,
        measured: `p50 ${formatNumber(percentile(listed, 50), 2)} ms, p99 ${formatNumber(listP99, 2)} ms`,
        baseline: '—',
        result: `p99 ${formatNumber(listP99, 2)} ms`,
        target: '≤ 20 ms p99',
        pass: listP99 <= 20,
        figures: { rows, p50Ms: percentile(listed, 50), p99Ms: listP99 },
      },
    ];
  } finally {
    await Promise.all(instances.map(stopInstance));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}
