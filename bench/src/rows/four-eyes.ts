// Four eyes on PostgreSQL: what the approval columns cost a plain decision, and what one approval of two costs next to a decision.
import { createManager, type Manager } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { formatNumber, percentile, type BenchContext, type Row } from '../harness.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = { warn() {}, error() {}, info() {}, debug() {} };

const elapsedMs = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

/**
 * Two rows, each comparing two things in the same run, interleaved so load hits both alike:
 * - the decide UPDATE returning the columns of a record before four eyes, against the same UPDATE
 *   also returning the two approval columns (NULL for a one-approval request): the cost of the
 *   change to a plain decision;
 * - `manager.respond` deciding a one-approval request, against recording one approval of two
 *   (`addApproval`, one UPDATE) on the same store.
 */
export async function fourEyes(context: BenchContext): Promise<Row[]> {
  const schema = `hitl_bench_${randomBytes(5).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: 'hitl-bench-four-eyes', max: 4 });
  pool.on('error', () => undefined);
  const store = createPostgresStore({ pool, schema, table: 'requests', logger: quiet, sweepIntervalMs: Infinity });
  const manager: Manager = createManager({
    store,
    logger: quiet,
    timeoutMs: Infinity,
    policies: [
      { name: 'dual', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 },
      { name: 'single', toolPattern: '*', requireExplicit: true },
    ],
  });
  const rounds = context.smoke ? 30 : 1_000;
  try {
    await store.migrate();
    const submit = (id: string, toolName: string) =>
      manager.submit({ id, toolName, input: { id }, riskLevel: 'irreversible', confidence: 0.8 });
    for (let start = 0; start < rounds * 2; start += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, offset) => submit(`sql-${start + offset}`, 'delete_user')));
    }

    // The statement, before and after: the same UPDATE, returning the approval columns or not.
    const table = `"${schema}"."requests"`;
    const update = (returning: string) => ({
      text: `UPDATE ${table} SET status = 'approved', closed_at = now(), change_seq = nextval('"${schema}"."requests_seq"') WHERE id = $1 AND status = 'pending' RETURNING id, status, response::text${returning}`,
    });
    const before = { name: 'bench_decide_before', ...update('') };
    const after = { name: 'bench_decide_after', ...update(', approvals_required::text, approvals::text') };
    const statementMs: Record<'before' | 'after', number[]> = { before: [], after: [] };
    const client = await pool.connect();
    try {
      for (let index = 0; index < rounds * 2; index++) {
        const which = (index + Math.floor(index / 2)) % 2 === 0 ? 'before' : 'after';
        const started = process.hrtime.bigint();
        await client.query({ ...(which === 'before' ? before : after), values: [`sql-${index}`] });
        if (index >= rounds / 5) statementMs[which].push(elapsedMs(started));
      }
    } finally {
      client.release();
    }

    // Through the manager: a plain decision against one approval of two.
    for (let start = 0; start < rounds; start += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, offset) =>
          Promise.all([submit(`plain-${start + offset}`, 'delete_user'), submit(`dual-${start + offset}`, 'transfer_funds')]),
        ),
      );
    }
    const respondMs: Record<'plain' | 'approval', number[]> = { plain: [], approval: [] };
    for (let index = 0; index < rounds; index++) {
      const order = index % 2 === 0 ? (['plain', 'approval'] as const) : (['approval', 'plain'] as const);
      for (const which of order) {
        const started = process.hrtime.bigint();
        await manager.respond(`${which === 'plain' ? 'plain' : 'dual'}-${index}`, { decision: 'approve', respondedBy: 'alice' });
        if (index >= rounds / 10) respondMs[which].push(elapsedMs(started));
      }
    }

    const beforeP50 = percentile(statementMs.before, 50);
    const afterP50 = percentile(statementMs.after, 50);
    const plainP50 = percentile(respondMs.plain, 50);
    const approvalP50 = percentile(respondMs.approval, 50);
    const deltaMs = afterP50 - beforeP50;
    return [
      {
        row: 'plain decision, approval columns returned (PostgreSQL)',
        measured: `decide UPDATE returning the approval columns: p50 ${formatNumber(afterP50, 3)} ms, p99 ${formatNumber(percentile(statementMs.after, 99), 3)} ms`,
        baseline: `the same UPDATE without them (before four eyes): p50 ${formatNumber(beforeP50, 3)} ms, p99 ${formatNumber(percentile(statementMs.before, 99), 3)} ms`,
        result: `${deltaMs >= 0 ? '+' : ''}${formatNumber(deltaMs * 1000, 0)} µs p50 (${statementMs.after.length} decisions each)`,
        target: '≤ +10% or ≤ +50 µs p50',
        pass: afterP50 <= beforeP50 * 1.1 || deltaMs <= 0.05,
        figures: { beforeP50Ms: beforeP50, afterP50Ms: afterP50, deltaP50Ms: deltaMs },
      },
      {
        row: 'one approval of two vs a plain decision (PostgreSQL)',
        measured: `manager.respond, 1 of 2 approvals (addApproval): p50 ${formatNumber(approvalP50, 2)} ms, p99 ${formatNumber(percentile(respondMs.approval, 99), 2)} ms`,
        baseline: `manager.respond deciding a one-approval request: p50 ${formatNumber(plainP50, 2)} ms, p99 ${formatNumber(percentile(respondMs.plain, 99), 2)} ms`,
        result: `${formatNumber(approvalP50 / plainP50, 2)}x a plain decision (p50)`,
        target: '≤ 1.5x a plain decision (p50)',
        pass: approvalP50 <= plainP50 * 1.5,
        figures: { approvalP50Ms: approvalP50, plainP50Ms: plainP50 },
      },
    ];
  } finally {
    await manager.close();
    await store.close();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
