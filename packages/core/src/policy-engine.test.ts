// The policy engine on the tutorial's five tiers: first match wins, reasons, globs, deny, failing closed; and policy validation.
import { describe, expect, it } from 'vitest';
import { createManager, HitlError, RiskLevel, type ApprovalPolicy } from './index.js';

/** The tutorial's five tiers. */
const fiveTiers: ApprovalPolicy[] = [
  { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly },
  { name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly },
  { name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: RiskLevel.DataModification },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
  { name: 'outbound', toolPattern: 'send_*', requireExplicit: true },
];

function expectInvalid(run: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(HitlError.is(caught, 'invalid_input'), `expected invalid_input, got ${String(caught)}`).toBe(true);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
  // The field is data too, and it is the one the message names.
  const field = (caught as HitlError).details?.field;
  expect(field, 'details.field').toEqual(expect.any(String));
  expect((caught as Error).message).toContain(field);
}

describe('policies, as in the tutorial', () => {
  it('auto-approves a confident read and never a destructive call', async () => {
    const manager = createManager();
    manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly });
    manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
    expect(await manager.shouldApprove('get_weather', 0.95, RiskLevel.ReadOnly)).toBe(true);
    expect(await manager.shouldApprove('delete_user', 0.99, RiskLevel.Irreversible)).toBe(false);
    expect(await manager.shouldApprove('get_weather', 0.4, 'read_only')).toBe(false);
    await manager.close();
  });

  it.each([
    ['get_weather', 0.95, 'read_only', 'approve', 'read-only-auto'],
    ['get_weather', 0.3, 'read_only', 'review', 'read-only-auto'],
    ['get_user', 0.95, 'data_modification', 'review', 'read-only-auto'],
    ['search_orders', 0.8, 'read_only', 'approve', 'search-auto'],
    ['search_orders', 0.49, 'read_only', 'review', 'search-auto'],
    ['update_user', 0.95, 'data_modification', 'approve', 'update-confident'],
    ['update_user', 0.9, 'data_modification', 'approve', 'update-confident'],
    ['update_user', 0.89, 'data_modification', 'review', 'update-confident'],
    ['update_user', 0.99, 'irreversible', 'review', 'update-confident'],
    ['delete_user', 1, 'read_only', 'review', 'destructive'],
    ['send_email', 1, 'read_only', 'review', 'outbound'],
    ['transfer_funds', 1, 'read_only', 'review', undefined],
  ] as const)('five tiers: %s at %d (%s) -> %s', (tool, confidence, risk, outcome, policy) => {
    const manager = createManager({ policies: fiveTiers });
    const evaluation = manager.evaluate(tool, confidence, risk);
    expect(evaluation.outcome).toBe(outcome);
    expect(evaluation.policy).toBe(policy);
    expect(evaluation.reason.length).toBeGreaterThan(10);
  });

  it('first match wins: order matters', () => {
    const strictFirst = createManager();
    strictFirst.addPolicy({ name: 'everything-needs-a-human', toolPattern: '*', requireExplicit: true });
    strictFirst.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
    expect(strictFirst.evaluate('get_weather', 1, 'read_only')).toMatchObject({ outcome: 'review', policy: 'everything-needs-a-human' });

    const readsFirst = createManager();
    readsFirst.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
    readsFirst.addPolicy({ name: 'everything-needs-a-human', toolPattern: '*', requireExplicit: true });
    expect(readsFirst.evaluate('get_weather', 1, 'read_only')).toMatchObject({ outcome: 'approve', policy: 'reads' });
    expect(readsFirst.evaluate('drop_table', 1, 'read_only')).toMatchObject({ outcome: 'review', policy: 'everything-needs-a-human' });
  });

  it('gives readable reasons', () => {
    const manager = createManager({ policies: fiveTiers });
    expect(manager.evaluate('get_weather', 0.4, 'read_only').reason).toBe("confidence 0.40 is below 0.50 required by 'read-only-auto'");
    expect(manager.evaluate('get_weather', 0.9, 'irreversible').reason).toBe(
      "risk 'irreversible' is above 'read_only' allowed by 'read-only-auto'",
    );
    expect(manager.evaluate('delete_user', 1, 'read_only').reason).toBe(
      "policy 'destructive' requires explicit approval for 'delete_user'",
    );
    expect(manager.evaluate('launch_rocket', 1, 'read_only').reason).toBe(
      "no policy matches 'launch_rocket'; the default outcome is review",
    );
    expect(manager.evaluate('get_weather', 0.95, 'read_only').reason).toContain("auto-approved by 'read-only-auto'");
  });

  it('supports brace and negated globs', () => {
    const manager = createManager();
    manager.addPolicy({ name: 'reads', toolPattern: '{get,list}_*', maxRiskLevel: 'read_only' });
    manager.addPolicy({ name: 'not-admin', toolPattern: '!admin_*', maxRiskLevel: 'data_modification' });
    expect(manager.evaluate('list_orders', 0, 'read_only').outcome).toBe('approve');
    expect(manager.evaluate('rename_file', 0, 'data_modification')).toMatchObject({ outcome: 'approve', policy: 'not-admin' });
    expect(manager.evaluate('admin_reset', 1, 'read_only')).toEqual({
      outcome: 'review',
      reason: "no policy matches 'admin_reset'; the default outcome is review",
    });
  });

  it('denies tools matched by a deny policy, whatever the confidence', async () => {
    const manager = createManager();
    manager.addPolicy({ name: 'no-drops', toolPattern: 'drop_*', deny: true });
    expect(manager.evaluate('drop_database', 1, 'read_only')).toEqual({
      outcome: 'deny',
      policy: 'no-drops',
      reason: "'drop_database' is denied by policy 'no-drops'",
    });
    const record = await manager.submit({ toolName: 'drop_database', input: { name: 'prod' } });
    expect(record.status).toBe('rejected');
    expect(record.response).toMatchObject({ decision: 'reject', automatic: true });
    await manager.close();
  });

  it('sends unmatched tools to review by default and can deny them instead', () => {
    expect(createManager().evaluate('anything', 1, 'read_only').outcome).toBe('review');
    expect(createManager({ defaultOutcome: 'deny' }).evaluate('anything', 1, 'read_only').outcome).toBe('deny');
  });

  it('fails closed on odd confidence or risk, never throwing', () => {
    const manager = createManager({ policies: fiveTiers });
    for (const confidence of [Number.NaN, Infinity, -0.1, 1.5, '0.9' as unknown as number]) {
      expect(manager.evaluate('get_weather', confidence, 'read_only').outcome).toBe('review');
    }
    expect(manager.evaluate('get_weather', 0.99, 'harmless' as RiskLevel)).toMatchObject({
      outcome: 'review',
      reason: "risk level 'harmless' is unknown",
    });
    // A tool name that is not a string can name no tool: denied, never matched against a glob.
    expect(manager.evaluate(42 as unknown as string, 1, 'read_only').outcome).toBe('deny');
  });

  it('treats a missing risk level as irreversible and a missing confidence as 0', () => {
    const manager = createManager();
    manager.addPolicy({ name: 'writes', toolPattern: 'update_*', maxRiskLevel: 'data_modification' });
    expect(manager.evaluate('update_user', 1).outcome).toBe('review');
    expect(manager.evaluate('update_user', undefined, 'data_modification').outcome).toBe('approve');
    manager.addPolicy({ name: 'confident-reads', toolPattern: 'get_*', minConfidence: 0.1, maxRiskLevel: 'read_only' });
    expect(manager.evaluate('get_user', undefined, 'read_only').outcome).toBe('review');
  });

  it('re-evaluates after a policy is added or removed (no stale cache)', () => {
    const manager = createManager();
    expect(manager.evaluate('get_weather', 1, 'read_only').outcome).toBe('review');
    manager.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
    expect(manager.evaluate('get_weather', 1, 'read_only').outcome).toBe('approve');
    expect(manager.removePolicy('reads')).toBe(true);
    expect(manager.removePolicy('reads')).toBe(false);
    expect(manager.evaluate('get_weather', 1, 'read_only').outcome).toBe('review');
  });

  it('lists copies of the policies, in order', () => {
    const manager = createManager({ policies: fiveTiers });
    const listed = manager.listPolicies();
    expect(listed.map((policy) => policy.name)).toEqual(fiveTiers.map((policy) => policy.name));
    listed[0]!.maxRiskLevel = 'irreversible';
    expect(manager.evaluate('get_weather', 1, 'irreversible').outcome).toBe('review');
  });
});

describe('policy validation', () => {
  it.each([
    [{ name: '', toolPattern: 'get_*', maxRiskLevel: 'read_only' }, "policy.name '' must be a non-empty string"],
    [{ name: 'p', toolPattern: '', maxRiskLevel: 'read_only' }, "policy 'p': toolPattern '' must be a non-empty string"],
    [{ name: 'p', toolPattern: '[invalid', maxRiskLevel: 'read_only' }, "policy 'p': toolPattern '[invalid' is not a valid glob"],
    [{ name: 'p', toolPattern: '{get,list_*', maxRiskLevel: 'read_only' }, "toolPattern '{get,list_*' is not a valid glob"],
    [{ name: 'p', toolPattern: 'get_*}', maxRiskLevel: 'read_only' }, "toolPattern 'get_*}' is not a valid glob"],
    [{ name: 'p', toolPattern: 'get_\\', maxRiskLevel: 'read_only' }, 'is not a valid glob'],
    [
      { name: 'p', toolPattern: 'get_*', minConfidence: 1.5, maxRiskLevel: 'read_only' },
      "policy 'p': minConfidence 1.5 must be a number between 0 and 1",
    ],
    [{ name: 'p', toolPattern: 'get_*', minConfidence: -0.01, maxRiskLevel: 'read_only' }, 'minConfidence -0.01'],
    [{ name: 'p', toolPattern: 'get_*', minConfidence: Number.NaN, maxRiskLevel: 'read_only' }, 'minConfidence NaN'],
    [{ name: 'p', toolPattern: 'get_*', maxRiskLevel: 'harmless' }, "policy 'p': maxRiskLevel 'harmless' is not a risk level"],
    [{ name: 'p', toolPattern: 'get_*' }, "policy 'p': maxRiskLevel is required unless requireExplicit or deny is set"],
    [{ name: 'p', toolPattern: 'get_*', maxRiskLevel: 'read_only', timeoutMs: 0 }, "policy 'p': timeoutMs 0 must be a positive number"],
    [{ name: 'p', toolPattern: 'get_*', requireExplicit: 'yes' }, "policy 'p': requireExplicit 'yes' must be a boolean"],
  ])('refuses %j', (policy, message) => {
    const manager = createManager();
    expectInvalid(() => manager.addPolicy(policy as ApprovalPolicy), message);
    expect(manager.listPolicies()).toEqual([]);
  });

  it('refuses a duplicate name and keeps the first policy as it was', () => {
    const manager = createManager();
    manager.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
    expectInvalid(() => manager.addPolicy({ name: 'reads', toolPattern: '*', deny: true }), "policy.name 'reads' is already used");
    expect(manager.listPolicies()).toEqual([{ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' }]);
    expect(manager.evaluate('delete_user', 1, 'read_only').outcome).toBe('review');
  });

  it('refuses bad policies given to createManager', () => {
    expectInvalid(
      () => createManager({ policies: [{ name: 'x', toolPattern: '[x', maxRiskLevel: 'read_only' }] }),
      "'[x' is not a valid glob",
    );
  });

  it('accepts escaped brackets and classes', () => {
    const manager = createManager();
    manager.addPolicy({ name: 'class', toolPattern: 'get_[a-c]*', maxRiskLevel: 'read_only' });
    manager.addPolicy({ name: 'literal', toolPattern: 'weird\\_name', maxRiskLevel: 'read_only' });
    expect(manager.evaluate('get_balance', 0, 'read_only').outcome).toBe('approve');
    expect(manager.evaluate('get_zebra', 0, 'read_only').outcome).toBe('review');
    expect(manager.evaluate('weird_name', 0, 'read_only')).toMatchObject({ outcome: 'approve', policy: 'literal' });
    // An escaped character no tool name can contain could never match: refused rather than kept as dead text.
    expectInvalid(() => manager.addPolicy({ name: 'never', toolPattern: 'weird\\[name', maxRiskLevel: 'read_only' }), 'contains "["');
  });
});
