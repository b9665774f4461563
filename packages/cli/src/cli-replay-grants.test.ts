// `hitl replay` of records a grant decided, against a real PostgreSQL store: the grant is assumed still in force, and a
// deny policy, `grants: false` or a quorum under the file says why it would no longer decide.
import { createManager, type ApprovalPolicy, type Grant } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { databaseUrl, usePostgresSchema } from '@hitl/test-kit/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayJson } from './cli/replay.js';
import { hitl, scratchDirectory } from './test/run-hitl.js';

const database = usePostgresSchema('hitl_cli_replay_grants');
const scratch = scratchDirectory();
afterAll(() => scratch.remove());

/** The policies the records were decided under: every tool needs a human, unless a grant decides. */
const before: ApprovalPolicy[] = [
  { name: 'transfers', toolPattern: 'transfer_*', requireExplicit: true },
  { name: 'payments', toolPattern: 'pay_*', requireExplicit: true },
  { name: 'messages', toolPattern: 'send_*', requireExplicit: true },
  { name: 'deletes', toolPattern: 'delete_*', requireExplicit: true },
  { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
];

/** The candidate: transfers refuse grants, payments are denied, texts need two approvers, reads renamed. */
const after = `policies:
  - { name: transfers, toolPattern: 'transfer_*', requireExplicit: true, grants: false }
  - { name: payments, toolPattern: 'pay_*', deny: true }
  - { name: texts, toolPattern: send_sms, requireExplicit: true, approvals: 2 }
  - { name: messages, toolPattern: 'send_*', requireExplicit: true }
  - { name: deletes, toolPattern: 'delete_*', requireExplicit: true }
  - { name: reads-v2, toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: read_only }
`;

let file = '';
const grants: Record<'transfers' | 'payments' | 'messages' | 'deletes', Grant> = {} as never;

beforeAll(async () => {
  file = scratch.write('after.yaml', after);
  const store = createPostgresStore({
    connectionString: databaseUrl,
    schema: database.schema,
    sweepIntervalMs: Infinity,
    logger: { warn() {}, error() {} },
  });
  const manager = createManager({ store, policies: before, logger: { warn() {}, error() {} } });
  const grant = (toolPattern: string, effect: 'approve' | 'deny' = 'approve') =>
    manager.grant({ effect, toolPattern, scope: {}, grantedBy: 'ann' });
  try {
    // Pending when the grant was made: the grant decided it then (response.metadata.cause 'grant').
    const wire = await manager.submit({ id: 'wire-later', toolName: 'transfer_wire', requestedBy: 'bot' });
    const email = await manager.submit({ id: 'email-later', toolName: 'send_email', requestedBy: 'bot' });
    expect([wire.status, email.status]).toEqual(['pending', 'pending']);
    grants.transfers = await grant('transfer_*');
    grants.payments = await grant('pay_*');
    grants.messages = await grant('send_*');
    grants.deletes = await grant('delete_*', 'deny');
    expect((await manager.get('wire-later'))?.response?.metadata).toMatchObject({ cause: 'grant', grant: grants.transfers.id });
    // Decided by a grant when submitted (evaluation.grant).
    for (const [id, toolName] of [
      ['transfer-granted', 'transfer_funds'],
      ['payment-granted', 'pay_invoice'],
      ['sms-granted', 'send_sms'],
      ['email-granted', 'send_email'],
      ['delete-denied', 'delete_user'],
    ]) {
      const record = await manager.submit({ id, toolName: toolName!, requestedBy: 'bot' });
      expect(record.evaluation.grant).toBeDefined();
    }
    // Decided by a policy that the file renames: the same outcome, another policy.
    const read = await manager.submit({ id: 'get-confident', toolName: 'get_user', confidence: 0.9, riskLevel: 'read_only' });
    expect(read.evaluation).toMatchObject({ outcome: 'approve', policy: 'reads' });
  } finally {
    await manager.close();
    await store.close();
  }
});

describe('hitl replay of records a grant decided', () => {
  it('replays them with their grant, says so, and says why a grant would no longer decide', async () => {
    const { code, stdout, stderr } = await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(
      '7 decided by a grant are replayed with that grant, assumed still in force (not revoked, expired or used up).\n' +
        '5 would change: 4 decided differently, 1 by another policy with the same outcome:',
    );
    const { transfers, payments, messages } = grants;
    const row = (id: string, stored: string, underFile: string, kind: string, why: string) =>
      new RegExp(
        `\\n {2}${id}\\s+\\S+\\s+\\S+\\s+${stored.replace(/[()]/g, '\\$&')}\\s+${underFile.replace(/[()]/g, '\\$&')}\\s+${kind}\\s+${why}\\n`,
      );
    expect(stdout).toMatch(
      row('wire-later', `approve (${transfers.id})`, 'review (transfers)', 'outcome', "policy 'transfers' refuses grants"),
    );
    expect(stdout).toMatch(
      row('transfer-granted', `approve (${transfers.id})`, 'review (transfers)', 'outcome', "policy 'transfers' refuses grants"),
    );
    expect(stdout).toMatch(row('payment-granted', `approve (${payments.id})`, 'deny (payments)', 'outcome', "denied by policy 'payments'"));
    expect(stdout).toMatch(
      row(
        'sms-granted',
        `approve (${messages.id})`,
        `review (texts, ${messages.id})`,
        'outcome',
        "policy 'texts' needs 2 approvals: the grant is one",
      ),
    );
    expect(stdout).toMatch(/\n {2}get-confident\s+get_user\s+\S+\s+approve \(reads\)\s+approve \(reads-v2\)\s+policy\n/);
    for (const unchanged of ['email-later', 'email-granted', 'delete-denied']) expect(stdout).not.toContain(`  ${unchanged} `);
    expect(stdout).toMatch(/approve → review\s+3\n\s+approve → deny\s+1\n\s+approve → approve \(another policy\)\s+1\n\s+unchanged\s+3/);
  });

  it('--json: before and after with outcome, policy and grant, the kind of change and why', async () => {
    const { code, stdout } = await hitl(['replay', file, '--database-url', databaseUrl, '--schema', database.schema, '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as ReplayJson;
    expect(result).toMatchObject({
      records: 8,
      changed: 5,
      outcomeChanged: 4,
      policyChanged: 1,
      unchanged: 3,
      grants: { decided: 7, assumedInForce: true },
    });
    expect(result.transitions).toEqual([
      { from: 'approve', to: 'review', kind: 'outcome', count: 3 },
      { from: 'approve', to: 'deny', kind: 'outcome', count: 1 },
      { from: 'approve', to: 'approve', kind: 'policy', count: 1 },
    ]);
    const byId = Object.fromEntries(result.changes.map((change) => [change.id, change]));
    expect(Object.keys(byId).sort()).toEqual(['get-confident', 'payment-granted', 'sms-granted', 'transfer-granted', 'wire-later']);
    const { transfers, payments, messages } = grants;
    expect(byId['wire-later']).toMatchObject({
      kind: 'outcome',
      before: { outcome: 'approve', grant: transfers.id },
      after: { outcome: 'review', policy: 'transfers' },
      because: "policy 'transfers' refuses grants",
    });
    expect(byId['wire-later']!.after.grant).toBeUndefined();
    expect(byId['payment-granted']).toMatchObject({
      before: { outcome: 'approve', grant: payments.id },
      after: { outcome: 'deny', policy: 'payments' },
      because: "denied by policy 'payments'",
    });
    expect(byId['sms-granted']).toMatchObject({
      before: { outcome: 'approve', grant: messages.id },
      after: { outcome: 'review', policy: 'texts', approvals: 2, grant: messages.id },
    });
    expect(byId['get-confident']).toEqual(
      expect.objectContaining({
        kind: 'policy',
        before: expect.objectContaining({ outcome: 'approve', policy: 'reads' }),
        after: expect.objectContaining({ outcome: 'approve', policy: 'reads-v2' }),
      }),
    );
    expect(byId['get-confident']!.because).toBeUndefined();
  });

  it('counts a record whose grant still decides it as unchanged: the same file as before changes nothing', async () => {
    const same = scratch.write('before.yaml', `policies:\n${before.map((policy) => `  - ${JSON.stringify(policy)}`).join('\n')}\n`);
    const { code, stdout } = await hitl([
      'replay',
      same,
      '--database-url',
      databaseUrl,
      '--schema',
      database.schema,
      '--fail-on-change',
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ records: 8, changed: 0, unchanged: 8, grants: { decided: 7, assumedInForce: true } });
  });

  it('--fail-on-change fails on a change of policy alone', async () => {
    const renamed = scratch.write(
      'renamed.yaml',
      `policies:\n${before.map((policy) => `  - ${JSON.stringify(policy.name === 'reads' ? { ...policy, name: 'reads-v2' } : policy)}`).join('\n')}\n`,
    );
    const { code, stdout } = await hitl([
      'replay',
      renamed,
      '--database-url',
      databaseUrl,
      '--schema',
      database.schema,
      '--fail-on-change',
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain('1 would be decided by another policy with the same outcome:');
  });
});
