// Grant rows: the in-process fast path with 10,000 live grants, and respondMany of 100 on PostgreSQL against single responds.
import { createManager, type Manager, type PolicyCall } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { compareLatency, formatNumber, formatUs, median, type BenchContext, type Row } from '../harness.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const policies = [
  { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' as const },
  { name: 'outbound', toolPattern: 'send_*', requireExplicit: true },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
];

/** The design's budgets: a call a grant decides ≤ 5 µs median; a call no grant covers ≤ today + 1 µs. */
const GRANTED_TARGET_US = 5;
const UNCOVERED_TARGET_US = 1;

/**
 * 10,000 live grants as an app accumulates them: "allow send_email in this thread" for 9,900
 * threads, plus 100 global glob grants (`report_<n>_*`). Calls run through `manager.evaluate` (the
 * adapters' fast path) on the memory store.
 */
async function managerWithGrants(count: number): Promise<Manager> {
  const manager = createManager({ policies, logger: quiet });
  const globs = Math.min(100, Math.floor(count / 100));
  for (let index = 0; index < count - globs; index++) {
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', scope: { threadId: `thread-${index}` }, grantedBy: 'bench' });
  }
  for (let index = 0; index < globs; index++)
    await manager.grant({ effect: 'approve', toolPattern: `report_${index}_*`, grantedBy: 'bench' });
  return manager;
}

async function fastPathRows(context: BenchContext): Promise<Row[]> {
  const count = 10_000;
  const granted = await managerWithGrants(count);
  const today = createManager({ policies, logger: quiet });
  const covered: PolicyCall = {
    toolName: 'send_email',
    input: { to: 'ann@example.com' },
    confidence: 0.9,
    riskLevel: 'data_modification',
    threadId: 'thread-5000',
  };
  const uncovered: PolicyCall = { ...covered, toolName: 'delete_user', threadId: 'thread-5001' };
  let sink = 0;
  const stats = await compareLatency(context, {
    granted: () => {
      sink += granted.evaluate(covered).outcome === 'approve' ? 1 : 0;
    },
    today: () => {
      sink += today.evaluate(covered).outcome.length;
    },
    uncovered: () => {
      sink += granted.evaluate(uncovered).outcome.length;
    },
    todayUncovered: () => {
      sink += today.evaluate(uncovered).outcome.length;
    },
  });
  if (sink === 0) throw new Error('the benchmark computed nothing');
  const check = granted.evaluate(covered);
  if (check.grant === undefined) throw new Error('the covered call was not decided by a grant');
  await granted.close();
  await today.close();
  const hit = stats.granted!;
  const baseline = stats.today!;
  const miss = stats.uncovered!;
  const missBaseline = stats.todayUncovered!;
  const added = miss.medianUs - missBaseline.medianUs;
  return [
    {
      row: `grant fast path, ${formatNumber(count, 0)} live grants`,
      measured: `${formatUs(hit.medianUs)} median, ${formatUs(hit.p99Us)} p99 (decided by a thread grant, use counted)`,
      baseline: `evaluate without grants (policy says review) ${formatUs(baseline.medianUs)} median`,
      result: `${formatUs(hit.medianUs)} median`,
      target: `≤ ${GRANTED_TARGET_US} µs median`,
      pass: hit.medianUs <= GRANTED_TARGET_US,
      figures: { grants: count, grantedMedianUs: hit.medianUs, grantedP99Us: hit.p99Us, todayMedianUs: baseline.medianUs },
    },
    {
      row: `call no grant covers, ${formatNumber(count, 0)} live grants`,
      measured: `${formatUs(miss.medianUs)} median, ${formatUs(miss.p99Us)} p99`,
      baseline: `the same evaluate without grants ${formatUs(missBaseline.medianUs)} median`,
      result: `${added >= 0 ? '+' : '-'}${formatUs(Math.abs(added))} median`,
      target: `≤ +${UNCOVERED_TARGET_US} µs median`,
      pass: added <= UNCOVERED_TARGET_US,
      figures: { uncoveredMedianUs: miss.medianUs, todayMedianUs: missBaseline.medianUs, addedUs: added },
    },
  ];
}

/** `respondMany` of 100 pending requests (one transaction) against 100 single `respond` calls, on PostgreSQL. */
async function respondManyRow(context: BenchContext): Promise<Row> {
  const schema = `hitl_bench_${randomBytes(5).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: 'hitl-bench-grants', max: 8 });
  pool.on('error', () => undefined);
  const store = createPostgresStore({ pool, schema, table: 'hitl_requests', logger: quiet, sweepIntervalMs: Infinity });
  const manager = createManager({
    store,
    logger: quiet,
    timeoutMs: Infinity,
    policies: [{ name: 'all', toolPattern: '*', requireExplicit: true }],
  });
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await store.migrate();
    const rounds = context.smoke ? 2 : 12;
    const many: number[] = [];
    const single: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const batch = async (runId: string) => {
        const records = await Promise.all(
          Array.from({ length: 100 }, (_, index) =>
            manager.submit({ toolName: 'delete_user', input: { user_id: `${runId}-${index}` }, runId }),
          ),
        );
        return records.map((record) => record.request.id);
      };
      const together = await batch(`many-${round}`);
      let started = performance.now();
      await manager.respondMany({ ids: together }, { decision: 'approve', respondedBy: 'bench' });
      many.push(performance.now() - started);
      const oneByOne = await batch(`single-${round}`);
      started = performance.now();
      for (const id of oneByOne) await manager.respond(id, { decision: 'approve', respondedBy: 'bench' });
      single.push(performance.now() - started);
    }
    const manyMs = median(many);
    const singleMs = median(single);
    return {
      row: 'respondMany of 100 (PostgreSQL, one transaction)',
      measured: `${formatNumber(manyMs, 2)} ms median`,
      baseline: `100 single responds, one after another: ${formatNumber(singleMs, 2)} ms median`,
      result: `${formatNumber(singleMs / manyMs)}x faster`,
      target: 'report',
      figures: { manyMs, singleMs, rounds },
    };
  } finally {
    await manager.close();
    await store.close();
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

/** The grant rows: the in-process fast path with 10,000 live grants, and bulk decisions on PostgreSQL. */
export async function grants(context: BenchContext): Promise<Row[]> {
  return [...(await fastPathRows(context)), await respondManyRow(context)];
}
