// The built `hitl` binary: help and usage errors, `hitl check` on good and bad files, and `hitl explain`'s reasons, with exit codes.
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hitl, scratchDirectory } from './test/run-hitl.js';

const scratch = scratchDirectory();
afterAll(() => scratch.remove());

/** The demo's support-agent policies: five tiers, then refunds with a condition. */
const demoPolicies = fileURLToPath(new URL('../../../apps/demo/policies.yaml', import.meta.url));

const good = scratch.write(
  'good.yaml',
  `policies:
  - name: reads
    toolPattern: 'get_*'
    minConfidence: 0.5
    maxRiskLevel: read_only
  - name: deletes
    toolPattern: 'delete_*'
    requireExplicit: true
cases:
  - call: { tool: get_user, confidence: 0.9, risk: read_only }
    expect: approve
    policy: reads
  - call: { tool: delete_user, confidence: 1, risk: irreversible }
    expect: review
`,
);

describe('hitl --help and usage', () => {
  it('explains the program, every command and the exit codes, with examples', async () => {
    const program = await hitl(['--help']);
    expect(program.code).toBe(0);
    expect(program.stdout).toMatch(/check FILE[\s\S]*explain FILE[\s\S]*replay FILE/);
    expect(program.stdout).toMatch(/Examples:\n {2}hitl check policies.yaml/);
    expect(program.stdout).toMatch(/Exit codes:[\s\S]*1 {2}a test case failed[\s\S]*2 {2}usage error/);
    for (const command of ['check', 'explain', 'replay']) {
      const help = await hitl([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout.startsWith(`hitl ${command} FILE`)).toBe(true);
      expect(help.stdout).toContain(`Examples:\n  hitl ${command} `);
      expect((await hitl(['help', command])).stdout).toBe(help.stdout);
    }
  });

  it('answers a usage error with exit code 2 and a message on stderr', async () => {
    expect(await hitl([])).toMatchObject({ code: 2, stdout: expect.stringContaining('Usage:') });
    expect(await hitl(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command 'frobnicate'") });
    expect(await hitl(['check'])).toMatchObject({ code: 2, stderr: expect.stringContaining('check needs a policy FILE') });
    expect(await hitl(['check', good, '--verbose'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("Unknown option '--verbose'"),
    });
    expect(await hitl(['check', scratch.write('x', ''), 'extra'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("unexpected 'extra'"),
    });
  });

  it('prints its version', async () => {
    const { code, stdout } = await hitl(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('hitl check', () => {
  it('passes a valid file whose cases hold, exit 0', async () => {
    const { code, stdout } = await hitl(['check', good]);
    expect(code).toBe(0);
    expect(stdout).toContain('valid, 2 policies, 2 cases');
    expect(stdout).toContain("✓ case 1 get_user confidence 0.9 risk read_only → approve by 'reads'");
    expect(stdout).toContain('2 passed');
  });

  it('--json prints the result as one JSON document, before or after the command', async () => {
    for (const args of [
      ['check', good, '--json'],
      ['--json', 'check', good],
    ]) {
      const { code, stdout } = await hitl(args);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ file: good, valid: true, policies: 2, passed: 2, failed: 0 });
    }
  });

  it('runs the demo policy file: every case passes', async () => {
    const { code, stdout } = await hitl(['check', demoPolicies]);
    expect(code).toBe(0);
    expect(stdout).toContain('7 policies, 10 cases');
    expect(stdout).toContain('10 passed');
  });

  it('fails a case with exit code 1 and a diff: expected against actual, with the reason', async () => {
    const file = scratch.write(
      'failing.yaml',
      `policies:
  - { name: reads, toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: read_only }
  - { name: deletes, toolPattern: 'delete_*', requireExplicit: true }
cases:
  - call: { tool: get_user, confidence: 0.9, risk: read_only }
    expect: approve
  - call: { tool: get_user, confidence: 0.2, risk: read_only }
    expect: approve
    policy: reads
  - call: { tool: delete_user }
    expect: review
    policy: reads
`,
    );
    const { code, stdout } = await hitl(['check', file]);
    expect(code).toBe(1);
    expect(stdout).toContain(`✗ case 2 at ${file}:7:5: get_user confidence 0.2 risk read_only`);
    expect(stdout).toContain(
      "- expected: approve by 'reads'\n      + actual:   review by 'reads'\n                  confidence 0.20 is below 0.50 required by 'reads'",
    );
    expect(stdout).toContain(`✗ case 3 at ${file}:10:5: delete_user`);
    expect(stdout).toContain("- expected: review by 'reads'\n      + actual:   review by 'deletes'");
    expect(stdout).toContain('2 failed, 1 passed');

    const json = await hitl(['check', file, '--json']);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as {
      failed: number;
      passed: number;
      cases: { passed: boolean; line: number; actual: { outcome: string } }[];
    };
    expect({ failed: result.failed, passed: result.passed }).toEqual({ failed: 2, passed: 1 });
    expect(result.cases.map((entry) => [entry.passed, entry.line, entry.actual.outcome])).toEqual([
      [true, 5, 'approve'],
      [false, 7, 'review'],
      [false, 10, 'review'],
    ]);
  });

  it('refuses bad YAML with exit code 2, naming the line and the column', async () => {
    // A mis-indented key: YAML reads it as a mapping nested in the value of toolPattern.
    const file = scratch.write('bad.yaml', `policies:\n  - name: reads\n    toolPattern: get_*\n     maxRiskLevel: read_only\n`);
    const { code, stderr, stdout } = await hitl(['check', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^hitl: ${file}:3:18: invalid YAML: `));
    const json = await hitl(['check', file, '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { exitCode: 2, file, line: 3, column: 18, problem: expect.stringMatching(/^invalid YAML/) },
    });
    const duplicate = scratch.write('duplicate.yaml', `policies:\n  - name: reads\n    toolPattern: get_*\n    name: again\n`);
    expect(await hitl(['check', duplicate])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${duplicate}:4:5: invalid YAML: Map keys must be unique`),
    });
  });

  it('refuses a schema violation with exit code 2 at the offending value', async () => {
    const file = scratch.write('schema.yaml', `policies:\n  - name: reads\n    toolPattern: 'get_*'\n    maxRiskLevel: high\n`);
    const { code, stderr } = await hitl(['check', file]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `${file}:4:19: policies[0].maxRiskLevel 'high' must be one of 'read_only', 'data_modification', 'irreversible'`,
    );
    const unknownField = scratch.write(
      'field.json',
      JSON.stringify({ policies: [{ name: 'x', toolPattern: '*', deny: true, denny: true }] }, null, 2),
    );
    expect(await hitl(['check', unknownField])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${unknownField}:7:7: policies[0].denny is not a known field`),
    });
  });

  it('answers a missing file with exit code 2', async () => {
    const missing = `${scratch.directory}/missing.yaml`;
    expect(await hitl(['check', missing])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`cannot read policy file '${missing}'`),
    });
    expect(JSON.parse((await hitl(['check', missing, '--json'])).stdout)).toMatchObject({ error: { exitCode: 2 } });
  });
});

// Each case runs its own child processes: concurrently, they take the time of one.
describe.concurrent('hitl explain, on each tier of the demo policies', () => {
  const tiers: [string[], string, string, string][] = [
    [['--tool', 'get_user', '--confidence', '0.95', '--risk', 'read_only'], 'approve', 'read-only-auto', 'within-limits'],
    [['--tool', 'get_user', '--confidence', '0.3', '--risk', 'read_only'], 'review', 'read-only-auto', 'confidence'],
    [['--tool', 'search_orders', '--confidence', '0.9', '--risk', 'read_only'], 'approve', 'search-auto', 'within-limits'],
    [['--tool', 'search_orders', '--confidence', '0.9', '--risk', 'data_modification'], 'review', 'search-auto', 'risk'],
    [['--tool', 'update_user', '--confidence', '0.95', '--risk', 'data_modification'], 'approve', 'update-confident', 'within-limits'],
    [['--tool', 'delete_user', '--confidence', '0.99', '--risk', 'irreversible'], 'review', 'destructive', 'require-explicit'],
    [['--tool', 'send_email', '--input', '{"to":"a@example.com"}', '--confidence', '0.9'], 'review', 'outbound', 'require-explicit'],
    [
      ['--tool', 'refund_payment', '--input', '{"amount":20}', '--confidence', '0.9', '--risk', 'irreversible'],
      'approve',
      'small-refunds',
      'within-limits',
    ],
    [
      ['--tool', 'refund_payment', '--input', '{"amount":80}', '--confidence', '0.9', '--risk', 'irreversible'],
      'review',
      'refunds',
      'require-explicit',
    ],
  ];
  for (const [args, outcome, policy, rule] of tiers) {
    it(`${args.join(' ')} → ${outcome} by ${policy} (${rule})`, async () => {
      const { code, stdout } = await hitl(['explain', demoPolicies, ...args]);
      expect(code).toBe(0);
      expect(stdout.split('\n')[0]).toBe(`${args[1]} → ${outcome} by '${policy}'`);
      expect(stdout).toContain(`  rule:    ${rule}`);
      const json = await hitl(['explain', demoPolicies, ...args, '--json']);
      const explanation = JSON.parse(json.stdout) as {
        outcome: string;
        policy: string;
        steps: { policy: string; decides: boolean; check: string }[];
      };
      expect({ outcome: explanation.outcome, policy: explanation.policy, last: explanation.steps.at(-1) }).toMatchObject({
        outcome,
        policy,
        last: { policy, decides: true, check: rule },
      });
    });
  }

  it('says why each earlier policy did not apply: a glob that does not match, a condition that is false', async () => {
    const { stdout } = await hitl([
      'explain',
      demoPolicies,
      '--tool',
      'refund_payment',
      '--input',
      '{"amount":80}',
      '--confidence',
      '0.9',
      '--risk',
      'irreversible',
    ]);
    expect(stdout).toContain('Policies before it that did not apply (6):');
    expect(stdout).toMatch(/read-only-auto\s+toolPattern\s+toolPattern 'get_\*' does not match 'refund_payment'/);
    expect(stdout).toMatch(/small-refunds\s+when\s+toolPattern 'refund_payment' matches, but when "input.amount <= 50" is false/);
  });

  it('names the default outcome when no policy applies', async () => {
    const { code, stdout } = await hitl(['explain', demoPolicies, '--tool', 'drop_database']);
    expect(code).toBe(0);
    expect(stdout).toContain('drop_database → review (no policy: the default)');
    expect(stdout).toContain('rule:    default outcome (no policy applies)');
  });

  it('says when the tool name itself is refused, before any policy', async () => {
    const { code, stdout } = await hitl(['explain', demoPolicies, '--tool', 'rm -rf']);
    expect(code).toBe(0);
    expect(stdout).toContain('rm -rf → deny (not a valid tool name)\n  rule:    invalid tool name');
  });

  it('refuses a call it cannot read with exit code 2', async () => {
    expect(await hitl(['explain', demoPolicies])).toMatchObject({ code: 2, stderr: expect.stringContaining('explain needs --tool NAME') });
    expect(await hitl(['explain', demoPolicies, '--tool', 'x', '--confidence', 'high'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--confidence 'high' must be a number between 0 and 1"),
    });
    expect(await hitl(['explain', demoPolicies, '--tool', 'x', '--risk', 'low'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--risk 'low' must be one of"),
    });
    expect(await hitl(['explain', demoPolicies, '--tool', 'x', '--input', '[1]'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--input must be a JSON object'),
    });
    const json = await hitl(['explain', demoPolicies, '--tool', 'x', '--input', '{nope', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { exitCode: 2, message: expect.stringContaining('--input is not valid JSON') },
    });
  });
});

/** Grants refused, four eyes, reminders and escalation: every policy field core takes, in one file. */
const transfers = scratch.write(
  'transfers.yaml',
  `policies:
  - name: blocked
    toolPattern: 'drop_*'
    deny: true
  - name: transfers
    toolPattern: 'transfer_*'
    requireExplicit: true
    grants: false
    approvals: 2
    remind: { everyMs: 3600000, times: 3 }
    escalate: { afterMs: 14400000, notifiers: [oncall] }
  - name: emails
    toolPattern: 'send_*'
    requireExplicit: true
    approvals: 2
  - name: payouts
    toolPattern: 'payout_*'
    requireExplicit: true
    approvals: 2
    grantCoversQuorum: true
cases:
  - call: { tool: transfer_funds, input: { amount: 900 } }
    expect: review
    policy: transfers
`,
);

describe.concurrent('hitl on a file with grants: false, approvals, remind and escalate', () => {
  it('check: valid, its case passes', async () => {
    const { code, stdout } = await hitl(['check', transfers]);
    expect(code).toBe(0);
    expect(stdout).toContain('valid, 4 policies, 1 case');
    expect(stdout).toContain('✓ case 1 transfer_funds {"amount":900} → review by \'transfers\'');
  });

  it('explain: says which grants could decide the call first', async () => {
    const refused = await hitl(['explain', transfers, '--tool', 'transfer_funds']);
    expect(refused.code).toBe(0);
    expect(refused.stdout).toContain(
      "transfer_funds → review by 'transfers'\n  rule:    require-explicit\n  reason:  policy 'transfers' requires explicit approval for 'transfer_funds'\n  grants:  refused: 'transfers' has grants: false, so only a deny grant can decide this call\n",
    );
    const json = JSON.parse((await hitl(['explain', transfers, '--tool', 'transfer_funds', '--json'])).stdout) as { grants: string };
    expect(json.grants).toBe('deny-only');
    const quorum = await hitl(['explain', transfers, '--tool', 'send_email']);
    expect(quorum.stdout).toContain(
      '  grants:  a grant covering this call decides it first (deny grants, then approve grants); an approve grant is one of the 2 approvals',
    );
    const covered = await hitl(['explain', transfers, '--tool', 'payout_vendor']);
    expect(covered.stdout).toContain(
      '  grants:  a grant covering this call decides it first (deny grants, then approve grants); an approve grant decides it outright (grantCoversQuorum), not as one of the 2 approvals',
    );
    const denied = await hitl(['explain', transfers, '--tool', 'drop_table', '--json']);
    expect(JSON.parse(denied.stdout)).toMatchObject({ outcome: 'deny', policy: 'blocked', grants: 'none' });
  });

  it('check: a schema violation in grants, remind or escalate is exit code 2 at its line and column', async () => {
    const violations: [string, string, string][] = [
      ['    grants: false', '    grants: nope', "5:13: policies[1].grants 'nope' must be boolean"],
      ['times: 3 }', 'times: 0 }', '6:40: policies[1].remind.times 0 must be >= 1'],
      ['notifiers: [oncall]', 'notifiers: oncall', "7:47: policies[1].escalate.notifiers 'oncall' must be array"],
    ];
    for (const [from, to, message] of violations) {
      const text = `policies:
  - { name: blocked, toolPattern: 'drop_*', deny: true }
  - name: transfers
    toolPattern: 'transfer_*'
    grants: false
    remind: { everyMs: 3600000, times: 3 }
    escalate: { afterMs: 14400000, notifiers: [oncall] }
    requireExplicit: true
`;
      expect(text).toContain(from);
      const file = scratch.write('violation.yaml', text.replace(from, to));
      expect(await hitl(['check', file])).toMatchObject({ code: 2, stderr: `hitl: ${file}:${message}\n` });
    }
  });
});
