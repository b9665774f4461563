// `hitl replay` against a real PostgreSQL store: what would change, --json, limits, read-only access, and exit codes 1, 2 and 3.
import { createManager, type ApprovalPolicy } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { closedPort } from '@hitl/test-kit';
import { databaseUrl, usePostgresSchema } from '@hitl/test-kit/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayJson } from './cli/replay.js';
import { hitl, scratchDirectory } from './test/run-hitl.js';

const database = usePostgresSchema('hitl_cli_replay');
const scratch = scratchDirectory();
afterAll(() => scratch.remove());

/** The policies the records were decided under. */
const before: ApprovalPolicy[] = [
  { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'deletes', toolPattern: 'delete_*', requireExplicit: true },
];

/** The candidate file: reads need 0.8, deletes are refused, refunds up to 50 run alone. */
const after = `policies:
  - { name: reads-strict, toolPattern: 'get_*', minConfidence: 0.8, maxRiskLevel: read_only }
  - { name: no-deletes, toolPattern: 'delete_*', deny: true }
  - { name: small-refunds, toolPattern: refund_payment, maxRiskLevel: irreversible, when: 'input.amount <= 50' }
`;

/** What the table holds, whole: a replay must leave it exactly so. */
async function tableDigest(): Promise<string> {
  const result = await database.admin.query<{ digest: string }>(
    `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY seq), '')) || ':' || count(*) AS digest FROM "${database.schema}".hitl_requests t`,
  );
  return result.rows[0]!.digest;
}

let file = '';
beforeAll(async () => {
  file = scratch.write('after.yaml', after);
  const store = createPostgresStore({
    connectionString: databaseUrl,
    schema: database.schema,
    sweepIntervalMs: Infinity,
    logger: { warn() {}, error() {} },
  });
  const manager = createManager({ store, policies: before });
  try {
    await manager.submit({ id: 'get-confident', toolName: 'get_user', confidence: 0.9, riskLevel: 'read_only' }); // approve → approve, by reads-strict
    await manager.submit({ id: 'get-unsure', toolName: 'get_user', confidence: 0.6, riskLevel: 'read_only' }); // approve → review
    await manager.submit({ id: 'get-unsure-2', toolName: 'get_order', confidence: 0.7, riskLevel: 'read_only' }); // approve → review
    const deletion = await manager.submit({ id: 'delete', toolName: 'delete_user', input: { user_id: '7' }, riskLevel: 'irreversible' }); // review → deny
    await manager.respond(deletion.request.id, { decision: 'approve', respondedBy: 'ana' });
    await manager.submit({
      id: 'refund-small',
      toolName: 'refund_payment',
      input: { amount: 20 },
      confidence: 0.9,
      riskLevel: 'irreversible',
    }); // review → approve
    await manager.submit({
      id: 'refund-large',
      toolName: 'refund_payment',
      input: { amount: 90 },
      confidence: 0.9,
      riskLevel: 'irreversible',
    }); // review → review
    await manager.submit({ id: 'feedback', type: 'feedback', toolName: 'refund_payment', input: { amount: 5 }, riskLevel: 'irreversible' }); // review → review (not an approval), by small-refunds
  } finally {
    await manager.close();
    await store.close();
  }
});

describe('hitl replay against a real store', () => {
  it('prints what would change, with counts, and writes nothing', async () => {
    const digest = await tableDigest();
    const { code, stdout, stderr } = await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Replayed 7 requests from "${database.schema}"."hitl_requests" (newest first, at most 1000) under ${file}`);
    expect(stdout).toContain('6 would change: 4 decided differently, 2 by another policy with the same outcome:');
    expect(stdout).toMatch(/get-unsure\s+get_user\s+\S+\s+approve \(reads\)\s+review \(reads-strict\)\s+outcome\n/);
    expect(stdout).toMatch(/delete\s+delete_user\s+\S+\s+review \(deletes\)\s+deny \(no-deletes\)\s+outcome\n/);
    expect(stdout).toMatch(/refund-small\s+refund_payment\s+\S+\s+review\s+approve \(small-refunds\)\s+outcome\n/);
    expect(stdout).toMatch(/get-confident\s+get_user\s+\S+\s+approve \(reads\)\s+approve \(reads-strict\)\s+policy\n/);
    expect(stdout).toMatch(/feedback\s+refund_payment\s+\S+\s+review\s+review \(small-refunds\)\s+policy\n/);
    expect(stdout).not.toContain('refund-large');
    expect(stdout).not.toContain('assumed still in force');
    expect(stdout).toMatch(
      /approve → review\s+2\n\s+review → approve\s+1\n\s+review → deny\s+1\n\s+approve → approve \(another policy\)\s+1\n\s+review → review \(another policy\)\s+1\n\s+unchanged\s+1/,
    );
    expect(await tableDigest()).toBe(digest);
  });

  it('--json: the same comparison as one JSON document', async () => {
    const { code, stdout } = await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as ReplayJson;
    expect(result).toMatchObject({ records: 7, changed: 6, outcomeChanged: 4, policyChanged: 2, unchanged: 1, grants: { decided: 0 } });
    expect(result.transitions).toEqual([
      { from: 'approve', to: 'review', kind: 'outcome', count: 2 },
      { from: 'review', to: 'approve', kind: 'outcome', count: 1 },
      { from: 'review', to: 'deny', kind: 'outcome', count: 1 },
      { from: 'approve', to: 'approve', kind: 'policy', count: 1 },
      { from: 'review', to: 'review', kind: 'policy', count: 1 },
    ]);
    expect(result.changes.map((change) => change.id).sort()).toEqual([
      'delete',
      'feedback',
      'get-confident',
      'get-unsure',
      'get-unsure-2',
      'refund-small',
    ]);
    expect(result.changes.find((change) => change.id === 'delete')).toMatchObject({
      kind: 'outcome',
      before: { outcome: 'review', policy: 'deletes' },
      after: { outcome: 'deny', policy: 'no-deletes' },
    });
    expect(result.changes.find((change) => change.id === 'get-confident')).toMatchObject({
      kind: 'policy',
      before: { outcome: 'approve', policy: 'reads' },
      after: { outcome: 'approve', policy: 'reads-strict' },
    });
  });

  it('--fail-on-change exits 1 when something would change; --limit and --since bound what is read', async () => {
    expect((await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema, '--fail-on-change'])).code).toBe(1);
    const newest = JSON.parse(
      (await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema, '--limit', '2', '--json'])).stdout,
    ) as ReplayJson;
    expect({ records: newest.records, changed: newest.changes.map((change) => change.id) }).toEqual({ records: 2, changed: ['feedback'] });
    const future = await hitl([
      'replay',
      file,
      '--database-url',
      databaseUrl,
      '--schema',
      database.schema,
      '--since',
      '2999-01-01T00:00:00Z',
      '--fail-on-change',
    ]);
    expect({ code: future.code, none: future.stdout.includes('No decision would change.') }).toEqual({ code: 0, none: true });
    const lastHour = JSON.parse(
      (await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema, '--since', '1h', '--json'])).stdout,
    ) as ReplayJson;
    expect(lastHour.records).toBe(7);
  });

  it('reads the URL from DATABASE_URL, and runs as a role that may only SELECT', async () => {
    const role = `${database.schema}_reader`;
    await database.admin.query(`CREATE ROLE ${role} LOGIN`);
    try {
      await database.admin.query(`GRANT USAGE ON SCHEMA "${database.schema}" TO ${role}`);
      await database.admin.query(`GRANT SELECT ON "${database.schema}".hitl_requests TO ${role}`);
      const url = new URL(databaseUrl);
      url.username = role;
      url.password = '';
      const { code, stdout } = await hitl(['replay', file, '--schema', database.schema, '--json'], { DATABASE_URL: url.toString() });
      expect(code).toBe(0);
      expect((JSON.parse(stdout) as ReplayJson).changed).toBe(6);
    } finally {
      await database.admin.query(`DROP OWNED BY ${role}`);
      await database.admin.query(`DROP ROLE ${role}`);
    }
  });

  it('answers an unreachable database or a missing table with exit code 3, and bad flags with 2', async () => {
    const port = await closedPort();
    const down = await hitl(['replay', file, '--database-url', `postgres://postgres:secret@127.0.0.1:${port}/test`]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain(`cannot connect to postgres://postgres:***@127.0.0.1:${port}/test`);
    expect(down.stderr).not.toContain('secret');
    const missing = await hitl([
      'replay',
      file,
      '--database-url',
      databaseUrl,
      '--schema',
      database.schema,
      '--table',
      'nothing_here',
      '--json',
    ]);
    expect(missing.code).toBe(3);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      error: { exitCode: 3, message: expect.stringContaining(`the table "${database.schema}"."nothing_here" does not exist`) },
    });
    expect(await hitl(['replay', file])).toMatchObject({ code: 2, stderr: expect.stringContaining('replay needs --database-url URL') });
    expect(await hitl(['replay', file, '--database-url', databaseUrl, '--since', 'yesterday'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--since 'yesterday' must be"),
    });
    expect(await hitl(['replay', file, '--database-url', databaseUrl, '--limit', '0'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--limit '0' must be"),
    });
    expect(await hitl(['replay', file, '--database-url', databaseUrl, '--schema', 'Robert"); DROP'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--schema'),
    });
  });
});
