// Policy files: parsed in order with their cases, YAML and JSON alike, and every error named at its file, line and column.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createManager, HitlError, type ApprovalPolicy, type Notifier, type NotificationMessage } from '@hitl/core';
import { createManualClock } from '@hitl/core/testing';
import { describe, expect, it } from 'vitest';
import { loadPolicies, loadPolicyFile, parsePolicies, parsePolicyFile, PolicyFileError } from './index.js';

const good = `# five tiers
policies:
  - name: blocked
    toolPattern: 'drop_*'
    deny: true
  - name: read-only-auto
    toolPattern: '{get,list,search}_*'
    minConfidence: 0.5
    maxRiskLevel: read_only
  - name: writes
    toolPattern: 'update_*'
    minConfidence: 0.8
    maxRiskLevel: data_modification
    timeoutMs: 60000
  - name: deletes
    toolPattern: 'delete_*'
    requireExplicit: true
    timeoutMs: .inf
cases:
  - call: { tool: get_weather, confidence: 0.9, risk: read_only, input: { city: Paris } }
    expect: approve
    policy: read-only-auto
  - call: { tool: drop_table }
    expect: deny
`;

function failure(run: () => unknown): PolicyFileError {
  try {
    run();
  } catch (error) {
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect(PolicyFileError).toBeDefined();
    return error as PolicyFileError;
  }
  throw new Error('expected the file to be refused');
}

describe('parsePolicyFile', () => {
  it('returns the policies in order and the cases, ready for createManager', () => {
    const { policies, cases } = parsePolicyFile(good, { filename: 'policies.yaml' });
    expect(policies.map((policy) => policy.name)).toEqual(['blocked', 'read-only-auto', 'writes', 'deletes']);
    expect(policies[3]).toEqual({ name: 'deletes', toolPattern: 'delete_*', requireExplicit: true, timeoutMs: Infinity });
    expect(cases).toEqual([
      {
        call: { tool: 'get_weather', confidence: 0.9, risk: 'read_only', input: { city: 'Paris' } },
        expect: 'approve',
        policy: 'read-only-auto',
        source: { file: 'policies.yaml', line: 20, column: 5 },
      },
      { call: { tool: 'drop_table' }, expect: 'deny', source: { file: 'policies.yaml', line: 23, column: 5 } },
    ]);
    const manager = createManager({ policies });
    expect(manager.evaluate('get_weather', 0.9, 'read_only').outcome).toBe('approve');
    expect(manager.evaluate('drop_table', 1, 'read_only').outcome).toBe('deny');
    expect(manager.evaluate('delete_user', 1, 'read_only').outcome).toBe('review');
    void manager.close();
  });

  it('reads four eyes (approvals) and refuses a count out of 1 to 10 at its line', async () => {
    const policies = parsePolicies(`policies:
  - name: big-transfers
    toolPattern: 'transfer_*'
    requireExplicit: true
    approvals: 2
`);
    expect(policies[0]).toEqual({ name: 'big-transfers', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 });
    const manager = createManager({ policies });
    expect((await manager.submit({ toolName: 'transfer_funds' })).approvalsRequired).toBe(2);
    await manager.close();
    const refused = failure(() =>
      parsePolicies(`policies:
  - name: too-many
    toolPattern: 'transfer_*'
    requireExplicit: true
    approvals: 11
`),
    );
    expect(refused.message).toMatch(/approvals/);
    expect(refused.message).toMatch(/^<policies>:5:16: policies\[0\].approvals/);
  });

  it('reads JSON with the same result', () => {
    const json = JSON.stringify(
      {
        policies: parsePolicies(good).map((policy) => ({ ...policy, timeoutMs: policy.timeoutMs === Infinity ? 1000 : policy.timeoutMs })),
      },
      null,
      2,
    );
    expect(parsePolicies(json, { filename: 'p.json' }).map((policy) => policy.name)).toEqual([
      'blocked',
      'read-only-auto',
      'writes',
      'deletes',
    ]);
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const error = failure(() => parsePolicies('policies:\n  - name: a\n    toolPattern: [oops\n', { filename: 'bad.yaml' }));
    expect(error.message).toMatch(/^bad\.yaml:\d+:\d+: invalid YAML/);
    expect(error.file).toBe('bad.yaml');
    expect(error.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses duplicate keys', () => {
    const error = failure(() =>
      parsePolicies('policies:\n  - name: a\n    name: b\n    toolPattern: x\n    deny: true\n', { filename: 'dup.yaml' }),
    );
    expect(error.message).toMatch(/^dup\.yaml:3:\d+: invalid YAML/);
  });

  it('names the position of strict JSON errors', () => {
    const error = failure(() => parsePolicies('{\n  "policies": [\n    { "name": "a", }\n  ]\n}', { filename: 'p.json' }));
    expect(error.message).toMatch(/^p\.json:3:\d+: invalid JSON/);
    expect(error.line).toBe(3);
  });

  it('points at a schema violation: an unknown field, a wrong enum, a missing field, a missing cap', () => {
    const unknown = failure(() =>
      parsePolicies('policies:\n  - name: a\n    toolPattern: x\n    deny: true\n    denny: true\n', { filename: 'f.yaml' }),
    );
    expect(unknown.message).toBe('f.yaml:5:5: policies[0].denny is not a known field');
    expect(unknown.details?.path).toBe('/policies/0');

    const risk = failure(() =>
      parsePolicies('policies:\n  - name: a\n    toolPattern: x\n    maxRiskLevel: high\n', { filename: 'f.yaml' }),
    );
    expect(risk.message).toBe(
      "f.yaml:4:19: policies[0].maxRiskLevel 'high' must be one of 'read_only', 'data_modification', 'irreversible'",
    );

    const missing = failure(() => parsePolicies('policies:\n  - name: a\n    deny: true\n', { filename: 'f.yaml' }));
    expect(missing.message).toBe("f.yaml:2:5: policies[0] is missing 'toolPattern'");

    const cap = failure(() => parsePolicies('policies:\n  - name: a\n    toolPattern: x\n', { filename: 'f.yaml' }));
    expect(cap.message).toMatch(/^f\.yaml:2:5: policies\[0\] needs maxRiskLevel unless requireExplicit or deny is true/);

    const range = failure(() => parsePolicies('policies:\n  - { name: a, toolPattern: x, maxRiskLevel: read_only, minConfidence: 2 }\n'));
    expect(range.message).toBe('<policies>:2:72: policies[0].minConfidence 2 must be <= 1');

    const badCase = failure(() =>
      parsePolicyFile('policies: []\ncases:\n  - call: { tool: x }\n    expect: allow\n', { filename: 'c.yaml' }),
    );
    expect(badCase.message).toBe("c.yaml:4:13: cases[0].expect 'allow' must be one of 'approve', 'review', 'deny'");
  });

  it('reports what addPolicy refuses (a bad glob, a duplicate name) at that policy', () => {
    const glob = failure(() =>
      parsePolicies(
        'policies:\n  - name: ok\n    toolPattern: "*"\n    deny: true\n  - name: ext\n    toolPattern: "+(a|b)"\n    deny: true\n',
        { filename: 'g.yaml' },
      ),
    );
    expect(glob.message).toMatch(/^g\.yaml:6:18: policy 'ext': toolPattern/);
    const duplicate = failure(() =>
      parsePolicies('policies:\n  - { name: a, toolPattern: x, deny: true }\n  - { name: a, toolPattern: y, deny: true }\n', {
        filename: 'd.yaml',
      }),
    );
    expect(duplicate.message).toMatch(/^d\.yaml:3:13: policy\.name 'a' is already used/);
  });

  it('passes a CEL condition through to core, and reports a bad one at its position', () => {
    const text =
      'policies:\n  - name: small-refunds\n    toolPattern: refund\n    maxRiskLevel: irreversible\n    when: input.amount <= 100\n';
    const policies = parsePolicies(text);
    expect(policies[0]).toEqual({
      name: 'small-refunds',
      toolPattern: 'refund',
      maxRiskLevel: 'irreversible',
      when: 'input.amount <= 100',
    });
    const manager = createManager({ policies });
    expect(manager.evaluate({ toolName: 'refund', input: { amount: 20 }, confidence: 1, riskLevel: 'irreversible' }).outcome).toBe(
      'approve',
    );
    expect(manager.evaluate({ toolName: 'refund', input: { amount: 200 }, confidence: 1, riskLevel: 'irreversible' }).outcome).toBe(
      'review',
    );
    void manager.close();
    const error = failure(() => parsePolicies(text.replace('input.amount <= 100', 'input.amount <='), { filename: 'w.yaml' }));
    expect(error.message).toMatch(/^w\.yaml:5:11: policy 'small-refunds': when "input.amount <=" is not valid CEL at column/);
  });

  it('refuses a text that is not a policy file at all', () => {
    expect(failure(() => parsePolicies('just a string')).message).toMatch(/^<policies>:1:1: the file/);
    expect(failure(() => parsePolicies('')).message).toMatch(/^<policies>:1:1: /);
  });
});

/**
 * A valid value for every field of core's `ApprovalPolicy` (the mapped type makes a field core adds
 * fail to compile here until it has a sample, and policy-file.test-d.ts until the schema has it).
 */
const everyField: { [K in keyof ApprovalPolicy]-?: Exclude<ApprovalPolicy[K], (...args: never[]) => unknown> } = {
  name: 'everything',
  toolPattern: 'pay_*',
  minConfidence: 0.5,
  maxRiskLevel: 'data_modification',
  requireExplicit: true,
  deny: false,
  timeoutMs: 60_000,
  when: 'input.amount > 0',
  approvals: 2,
  grants: false,
  // true is refused beside grants: false; its own behaviour is tested in core.
  grantCoversQuorum: false,
  remind: { everyMs: 600_000, times: 3 },
  escalate: { afterMs: 3_600_000, notifiers: ['oncall'] },
};

const schemaFields = Object.keys(
  (
    JSON.parse(readFileSync(new URL('../policy-file.schema.json', import.meta.url), 'utf8')) as {
      definitions: { policy: { properties: Record<string, unknown> } };
    }
  ).definitions.policy.properties,
);

describe('every field of ApprovalPolicy', () => {
  it('is in the schema, and the schema has no other', () => {
    expect([...schemaFields].sort()).toEqual(Object.keys(everyField).sort());
  });

  it.each(Object.entries(everyField))('%s is read from the file as core keeps it', (key, value) => {
    const policy = { name: 'one', toolPattern: 'pay_*', requireExplicit: true, [key]: value };
    const [parsed] = parsePolicies(JSON.stringify({ policies: [policy] }), { filename: 'p.json' });
    expect(parsed).toEqual(policy);
    const manager = createManager({ policies: [parsed!] });
    // What core kept of the policy (it copies only the fields it knows) is what the file said.
    expect(manager.listPolicies()).toEqual([policy]);
    void manager.close();
  });

  it('all at once, the same', () => {
    const [parsed] = parsePolicies(JSON.stringify({ policies: [everyField] }), { filename: 'p.json' });
    expect(parsed).toEqual(everyField);
    const manager = createManager({ policies: [parsed!] });
    expect(manager.listPolicies()).toEqual([everyField]);
    void manager.close();
  });
});

const grantsAndTimers = `policies:
  - name: transfers
    toolPattern: 'transfer_*'
    maxRiskLevel: irreversible
    requireExplicit: true
    grants: false
    approvals: 2
    remind: { everyMs: 60000, times: 2 }
    escalate: { afterMs: 180000, notifiers: [oncall] }
  - name: emails
    toolPattern: 'send_*'
    requireExplicit: true
`;

/** A notifier that keeps what the outbox delivers to it. */
function keeper(name: string): { notifier: Notifier; types: string[] } {
  const types: string[] = [];
  return {
    types,
    notifier: {
      name,
      async notify() {},
      async deliver(message: NotificationMessage) {
        types.push(message.type);
      },
    },
  };
}

/** Lets the outbox's promise chains run. */
const settle = async () => {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
};

describe('grants, approvals, remind and escalate in a file', () => {
  it('reads them as core takes them', () => {
    expect(parsePolicies(grantsAndTimers)[0]).toEqual({
      name: 'transfers',
      toolPattern: 'transfer_*',
      maxRiskLevel: 'irreversible',
      requireExplicit: true,
      grants: false,
      approvals: 2,
      remind: { everyMs: 60_000, times: 2 },
      escalate: { afterMs: 180_000, notifiers: ['oncall'] },
    });
  });

  it('behaves: a grant does not satisfy grants: false, reminders and the escalation go out', async () => {
    const clock = createManualClock();
    const reviewers = keeper('reviewers');
    const oncall = keeper('oncall');
    const manager = createManager({
      policies: parsePolicies(grantsAndTimers),
      now: clock.now,
      scheduler: clock,
      notifiers: [reviewers.notifier, oncall.notifier],
      logger: { warn() {}, error() {} },
    });
    try {
      await manager.grant({ effect: 'approve', toolPattern: '*', scope: {}, grantedBy: 'ann' });
      const email = await manager.submit({ toolName: 'send_email', requestedBy: 'bot' });
      expect({ status: email.status, cause: email.response?.metadata?.cause }).toEqual({ status: 'approved', cause: 'grant' });
      const transfer = await manager.submit({ toolName: 'transfer_funds', requestedBy: 'bot' });
      expect({ status: transfer.status, policy: transfer.evaluation.policy, approvals: transfer.approvalsRequired }).toEqual({
        status: 'pending',
        policy: 'transfers',
        approvals: 2,
      });
      expect(transfer.approvals ?? []).toEqual([]);
      // The outbox runs each timer as it falls due: a minute at a time.
      for (let minute = 1; minute <= 4; minute++) {
        clock.advance(60_000);
        await settle();
      }
      expect(reviewers.types.filter((type) => type === 'request.reminder')).toHaveLength(2);
      expect(oncall.types).toContain('request.escalated');
    } finally {
      await manager.close();
    }
  });

  it('points at a schema violation in each of them', () => {
    const at = (line: string) =>
      failure(() =>
        parsePolicies(`policies:\n  - name: t\n    toolPattern: x\n    requireExplicit: true\n${line}\n`, { filename: 'n.yaml' }),
      ).message;
    expect(at('    grants: no')).toBe("n.yaml:5:13: policies[0].grants 'no' must be boolean");
    expect(at('    approvals: 1.5')).toBe('n.yaml:5:16: policies[0].approvals 1.5 must be integer');
    expect(at('    remind: { everyMs: 0 }')).toBe('n.yaml:5:24: policies[0].remind.everyMs 0 must be >= 1');
    expect(at('    remind: { everyMs: 10, times: 0 }')).toBe('n.yaml:5:35: policies[0].remind.times 0 must be >= 1');
    expect(at('    remind: { every: 10 }')).toBe('n.yaml:5:15: policies[0].remind.every is not a known field');
    expect(at('    remind: hourly')).toBe("n.yaml:5:13: policies[0].remind 'hourly' must be object");
    expect(at('    escalate: { afterMs: 10 }')).toBe("n.yaml:5:15: policies[0].escalate is missing 'notifiers'");
    expect(at('    escalate: { afterMs: -1, notifiers: [oncall] }')).toBe('n.yaml:5:26: policies[0].escalate.afterMs -1 must be >= 0');
    expect(at('    escalate: { afterMs: 10, notifiers: [] }')).toBe(
      'n.yaml:5:41: policies[0].escalate.notifiers [] must NOT have fewer than 1 items',
    );
    expect(at("    escalate: { afterMs: 10, notifiers: [''] }")).toBe(
      "n.yaml:5:42: policies[0].escalate.notifiers[0] '' must NOT have fewer than 1 characters",
    );
  });

  it('refuses a number that is no count of milliseconds (.nan, .inf) at its line and column, as core would', () => {
    const error = failure(() =>
      parsePolicies('policies:\n  - name: t\n    toolPattern: x\n    requireExplicit: true\n    remind:\n      everyMs: .nan\n', {
        filename: 'c.yaml',
      }),
    );
    expect(error.message).toBe('c.yaml:6:16: policies[0].remind.everyMs NaN must be <= 8640000000000');
    expect(error.details?.path).toBe('/policies/0/remind/everyMs');
    const escalate = failure(() =>
      parsePolicies('policies:\n  - { name: t, toolPattern: x, requireExplicit: true, escalate: { afterMs: .inf, notifiers: [a] } }\n', {
        filename: 'c.yaml',
      }),
    );
    expect(escalate.message).toBe('c.yaml:2:76: policies[0].escalate.afterMs Infinity must be <= 8640000000000');
  });
});

describe('loadPolicies', () => {
  it('reads a file and names it in errors', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hitl-cli-'));
    const path = join(folder, 'policies.yaml');
    await writeFile(path, good);
    expect((await loadPolicies(path)).length).toBe(4);
    expect((await loadPolicyFile(path)).cases.length).toBe(2);
    const bad = join(folder, 'bad.json');
    await writeFile(bad, '{"policies": [{"name": "a"}]}');
    await expect(loadPolicies(bad)).rejects.toThrow(`${bad}:1:15: policies[0] is missing 'toolPattern'`);
    await expect(loadPolicies(join(folder, 'missing.yaml'))).rejects.toMatchObject({ code: 'not_found' });
  });
});
