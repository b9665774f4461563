// Conditions on policies through the manager: reasons, order, function conditions, submit; never approving what they reject.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManager, HitlError, type ApprovalPolicy, type PolicyCall, type PolicyOutcome } from './index.js';

function call(input: Record<string, unknown>, extra: Partial<PolicyCall> = {}): PolicyCall {
  return { toolName: 'refund_payment', input, confidence: 0.9, riskLevel: 'irreversible', ...extra };
}

/** A conditional policy that auto-approves, then a catch-all that asks a human. */
function managerWith(when: ApprovalPolicy['when'], extra: Partial<ApprovalPolicy> = {}) {
  return createManager({
    policies: [
      { name: 'conditional', toolPattern: '*', maxRiskLevel: 'irreversible', when, ...extra },
      { name: 'everything-else', toolPattern: '*', requireExplicit: true },
    ],
  });
}

describe('conditions on policies, through the manager', () => {
  // The documented outcome of a CEL policy that auto-approves when its condition holds:
  // holds -> approve by 'conditional'; does not hold -> the next policy ('everything-else' reviews);
  // an error (missing field, wrong type, null) -> review by 'conditional' itself, never skipped.
  const table: [string, Record<string, unknown>, 'holds' | 'fails' | 'error'][] = [
    ['input.amount <= 100', { amount: 40 }, 'holds'],
    ['input.amount <= 100', { amount: 140 }, 'fails'],
    ['input.amount <= 100', {}, 'error'], // missing field
    ['input.amount <= 100', { amount: '40' }, 'error'], // wrong type
    ['input.amount <= 100', { amount: null }, 'error'], // null
    ['has(input.amount) && input.amount <= 100', {}, 'fails'],
    ['input.amount <= 100 && input.currency == "EUR"', { amount: 40, currency: 'USD' }, 'fails'],
    ['input.customer.address.country == "DE"', { customer: { address: { country: 'DE' } } }, 'holds'], // nested path
    ['input.customer.address.country == "DE"', { customer: { address: {} } }, 'error'],
    ['input.customer.address.country == "DE"', { customer: null }, 'error'],
    ['input.to.all(a, a.endsWith("@ourco.com"))', { to: ['ann@ourco.com', 'bob@ourco.com'] }, 'holds'], // lists
    ['input.to.all(a, a.endsWith("@ourco.com"))', { to: ['ann@ourco.com', 'eve@evil.example'] }, 'fails'],
    ['input.to.all(a, a.endsWith("@ourco.com"))', { to: ['ann@ourco.com', 7] }, 'error'],
    ['input.to.all(a, a.endsWith("@ourco.com"))', { to: null }, 'error'],
    ['input.to.exists(a, a == "ceo@ourco.com")', { to: ['ceo@ourco.com'] }, 'holds'],
    ['input.flag', { flag: 'yes' }, 'error'], // not a boolean
    ['threadId == null', {}, 'holds'],
  ];

  it.each(table)('%s over %j -> %s', (when, input, expected) => {
    const manager = managerWith(when as string);
    const evaluation = manager.evaluate(call(input));
    const outcomes: Record<typeof expected, [PolicyOutcome, string]> = {
      holds: ['approve', 'conditional'],
      fails: ['review', 'everything-else'],
      error: ['review', 'conditional'],
    };
    expect([evaluation.outcome, evaluation.policy]).toEqual(outcomes[expected]);
    if (expected === 'holds')
      expect(evaluation.reason).toBe(
        `policy 'conditional' approves: ${when} holds, confidence 0.90 >= 0.00, risk 'irreversible' <= 'irreversible'`,
      );
    if (expected === 'error') expect(evaluation.reason).toMatch(/^policy 'conditional' sends 'refund_payment' to review: its condition /);
  });

  it('names the condition in reasons, as the design says', () => {
    const manager = createManager({
      policies: [{ name: 'small-refunds', toolPattern: 'refund_*', maxRiskLevel: 'irreversible', when: 'input.amount <= 100' }],
    });
    expect(manager.evaluate(call({ amount: 20 })).reason).toMatch(/^policy 'small-refunds' approves: input.amount <= 100 holds/);
    expect(manager.evaluate(call({ amount: 200 }))).toEqual({
      outcome: 'review',
      reason: "no policy applies to 'refund_payment' (the condition of 'small-refunds' does not hold); the default outcome is review",
    });
    expect(manager.evaluate(call({ amount: 20 }, { confidence: 0.2 }))).toMatchObject({ outcome: 'approve' });
    const strict = createManager({
      policies: [
        { name: 'small-refunds', toolPattern: 'refund_*', minConfidence: 0.5, maxRiskLevel: 'irreversible', when: 'input.amount <= 100' },
      ],
    });
    expect(strict.evaluate(call({ amount: 20 }, { confidence: 0.2 })).reason).toBe(
      "confidence 0.20 is below 0.50 required by 'small-refunds' (input.amount <= 100 holds)",
    );
  });

  it('first applicable policy wins: a deny with a condition, then a conditional approve, then review', () => {
    const manager = createManager({
      defaultOutcome: 'deny',
      policies: [
        { name: 'huge', toolPattern: 'refund_*', deny: true, when: 'input.amount > 10000' },
        { name: 'small', toolPattern: 'refund_*', maxRiskLevel: 'irreversible', when: 'input.amount <= 50' },
        { name: 'rest', toolPattern: 'refund_*', requireExplicit: true },
      ],
    });
    expect(manager.evaluate(call({ amount: 20000 }))).toEqual({
      outcome: 'deny',
      policy: 'huge',
      reason: "'refund_payment' is denied by policy 'huge' (input.amount > 10000 holds)",
    });
    expect(manager.evaluate(call({ amount: 20 }))).toMatchObject({ outcome: 'approve', policy: 'small' });
    expect(manager.evaluate(call({ amount: 70 }))).toMatchObject({ outcome: 'review', policy: 'rest' });
    // The match cache keeps only the glob part: the same tool with other input decides anew.
    expect(manager.evaluate(call({ amount: 20 }))).toMatchObject({ outcome: 'approve', policy: 'small' });
    expect(manager.evaluate('refund_payment', 1, 'irreversible', { amount: 30 })).toMatchObject({ outcome: 'approve', policy: 'small' });
    // The positional form without input: the conditions see {} and the missing field is an error.
    expect(manager.evaluate('refund_payment', 1, 'irreversible')).toMatchObject({ outcome: 'review', policy: 'huge' });
    expect(manager.evaluate('get_weather', 1, 'read_only')).toMatchObject({
      outcome: 'deny',
      reason: "no policy matches 'get_weather'; the default outcome is deny",
    });
  });

  it('a function condition sees the whole call; a throw or a non-boolean means review', () => {
    const seen: PolicyCall[] = [];
    const manager = managerWith(function sameThread(policyCall: PolicyCall) {
      seen.push(policyCall);
      return policyCall.threadId === 't-1' && policyCall.requestedBy === 'alice';
    });
    const full = call({ amount: 1 }, { threadId: 't-1', runId: 'r-1', requestedBy: 'alice', metadata: { source: 'ui' } });
    expect(manager.evaluate(full)).toMatchObject({ outcome: 'approve', reason: expect.stringContaining('function sameThread holds') });
    expect(seen[0]).toEqual(full);
    expect(
      managerWith(() => {
        throw new Error('boom');
      }).evaluate(call({})),
    ).toMatchObject({ outcome: 'review', policy: 'conditional', reason: expect.stringContaining('threw: boom') });
    expect(managerWith((() => 'yes') as never).evaluate(call({}))).toMatchObject({
      outcome: 'review',
      policy: 'conditional',
      reason: expect.stringContaining('not a boolean'),
    });
  });

  it('odd confidence or risk with a condition to test means review by that policy', () => {
    const manager = managerWith('true');
    expect(manager.evaluate(call({}, { confidence: Number.NaN }))).toMatchObject({ outcome: 'review', policy: 'conditional' });
    expect(manager.evaluate(call({}, { riskLevel: 'catastrophic' as never }))).toMatchObject({ outcome: 'review', policy: 'conditional' });
  });

  it('refuses a bad condition at addPolicy with invalid_input naming the policy and the column', () => {
    const manager = createManager();
    let caught: unknown;
    try {
      manager.addPolicy({ name: 'broken', toolPattern: '*', maxRiskLevel: 'read_only', when: 'input.amount <=' });
    } catch (error) {
      caught = error;
    }
    expect(HitlError.is(caught, 'invalid_input')).toBe(true);
    expect((caught as Error).message).toMatch(/^policy 'broken': when "input.amount <=" is not valid CEL at column \d+/);
    expect(caught).toMatchObject({ code: 'invalid_input', details: { field: "policy 'broken': when", value: '"input.amount <="' } });
    expect(() => manager.addPolicy({ name: 'typed', toolPattern: '*', maxRiskLevel: 'read_only', when: 'toolName + 1' })).toThrow(
      /policy 'typed'/,
    );
    expect(manager.listPolicies()).toEqual([]);
    manager.addPolicy({ name: 'fine', toolPattern: '*', maxRiskLevel: 'read_only', when: 'input.amount <= 1' });
    expect(manager.listPolicies()[0]?.when).toBe('input.amount <= 1');
  });

  it('submit evaluates with the request input and context, stores threadId and runId, and times out by the deciding policy', async () => {
    let now = Date.parse('2026-03-01T00:00:00Z');
    const manager = createManager({
      now: () => now,
      policies: [
        { name: 'small', toolPattern: 'refund_*', maxRiskLevel: 'irreversible', when: 'input.amount <= 50 && threadId == "t-1"' },
        { name: 'rest', toolPattern: 'refund_*', requireExplicit: true, timeoutMs: 5_000 },
      ],
    });
    const small = await manager.submit({ toolName: 'refund_payment', input: { amount: 20 }, threadId: 't-1', runId: 'r-1' });
    expect(small.status).toBe('approved');
    expect(small.request).toMatchObject({ threadId: 't-1', runId: 'r-1' });
    const large = await manager.submit({ toolName: 'refund_payment', input: { amount: 80 }, threadId: 't-1', runId: 'r-1' });
    expect(large).toMatchObject({ status: 'pending', evaluation: { policy: 'rest' }, expiresAt: new Date(now + 5_000).toISOString() });
    const otherThread = await manager.submit({ toolName: 'refund_payment', input: { amount: 20 }, threadId: 't-2' });
    expect(otherThread.status).toBe('pending');
    now += 1;
    expect((await manager.list({ runId: 'r-1' })).items.map((record) => record.request.id)).toEqual([large.request.id, small.request.id]);
    expect((await manager.list({ threadId: 't-2' })).items).toHaveLength(1);
    for (const bad of ['', 'a\u200bb', 'x'.repeat(257), 'line\nbreak', 42]) {
      await expect(manager.submit({ toolName: 'refund_payment', threadId: bad as string })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('request.threadId'),
        details: { field: 'request.threadId' },
      });
      await expect(manager.submit({ toolName: 'refund_payment', runId: bad as string })).rejects.toMatchObject({
        code: 'invalid_input',
        message: expect.stringContaining('request.runId'),
        details: { field: 'request.runId' },
      });
    }
    await expect(manager.list({ createdBefore: 'soon' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('createdBefore'),
      details: { field: 'createdBefore' },
    });
    await manager.close();
  });

  it('a function condition cannot change what is stored and hashed', async () => {
    const manager = managerWith((policyCall) => {
      try {
        (policyCall.input as { amount: number }).amount = 1;
      } catch {
        // frozen
      }
      return false;
    });
    const record = await manager.submit({ toolName: 'refund_payment', input: { amount: 900 } });
    expect(record.request.input).toEqual({ amount: 900 });
    await manager.close();
  });
});

describe('conditions never approve what they reject (property)', () => {
  const amount = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: false }), fc.string(), fc.constant(null), fc.boolean());
  const inputs = fc.record({ amount, currency: fc.oneof(fc.constantFrom('EUR', 'USD'), fc.integer()) }, { requiredKeys: [] });

  it('a conditional policy approves only calls its condition accepts, and an erroring condition never approves', () => {
    const manager = managerWith('input.amount <= 100 && input.currency == "EUR"');
    fc.assert(
      fc.property(inputs, fc.double({ min: 0, max: 1, noNaN: true }), (input, confidence) => {
        const evaluation = manager.evaluate(call(input, { confidence }));
        const accepted = typeof input.amount === 'number' && input.amount <= 100 && input.currency === 'EUR';
        if (evaluation.outcome === 'approve') expect(accepted).toBe(true);
        if (accepted) expect(evaluation).toMatchObject({ outcome: 'approve', policy: 'conditional' });
        // A missing or mistyped amount is an error (or false, when the other side of && already is): never approve.
        if (!accepted) expect(evaluation.outcome).toBe('review');
      }),
      { numRuns: 500 },
    );
  });

  it('a function condition that throws or answers a non-boolean never approves', () => {
    fc.assert(
      fc.property(fc.anything(), fc.boolean(), (answer, throws) => {
        const manager = managerWith(() => {
          if (throws) throw new Error('no');
          return answer as boolean;
        });
        const evaluation = manager.evaluate(call({ amount: 1 }));
        if (throws || typeof answer !== 'boolean') expect(evaluation).toMatchObject({ outcome: 'review', policy: 'conditional' });
        else expect(evaluation.outcome).toBe(answer ? 'approve' : 'review');
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile conditions cannot stall the process', () => {
  it('refuses deeply nested, huge and loop-multiplying expressions at addPolicy', () => {
    const manager = createManager();
    const add = (when: string) => () => manager.addPolicy({ name: `p${Math.random()}`, toolPattern: '*', maxRiskLevel: 'read_only', when });
    expect(add(`${'('.repeat(1000)}true${')'.repeat(1000)}`)).toThrow(HitlError);
    expect(add(`"${'a'.repeat(1_000_000)}" == input.name`)).toThrow(/characters long/);
    expect(add('"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!".matches("(a+)+$")')).toThrow(/matches\(\)/);
    expect(add('input.a.all(x, input.a.all(y, input.a.all(z, input.a.all(w, true))))')).toThrow(/comprehensions/);
  });

  // Without the bounds these evaluations take minutes (2,000³ steps; a million-element loop; a 50 MB
  // string copied per step), so a 5 s ceiling separates "bounded" from "stalled" even on a loaded machine.
  it('answers review quickly for a loop over a huge list or nested loops over a large one', () => {
    const manager = createManager({
      policies: [
        { name: 'one-loop', toolPattern: 'send_*', maxRiskLevel: 'irreversible', when: 'input.to.all(a, a.endsWith("@ourco.com"))' },
        {
          name: 'nested',
          toolPattern: 'pair_*',
          maxRiskLevel: 'irreversible',
          when: 'input.a.all(x, input.a.all(y, input.a.all(z, x + y + z >= 0.0)))',
        },
      ],
    });
    const huge = Array.from({ length: 1_000_000 }, () => 'ann@ourco.com');
    let started = performance.now();
    const sent = manager.evaluate({ toolName: 'send_email', input: { to: huge }, confidence: 1, riskLevel: 'read_only' });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(sent).toMatchObject({ outcome: 'review', policy: 'one-loop', reason: expect.stringContaining('too large') });

    const large = Array.from({ length: 2_000 }, (_, index) => index * 1.0);
    started = performance.now();
    const paired = manager.evaluate({ toolName: 'pair_items', input: { a: large }, confidence: 1, riskLevel: 'read_only' });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(paired).toMatchObject({ outcome: 'review', policy: 'nested' });

    const bigString = 'x'.repeat(50_000_000);
    started = performance.now();
    expect(manager.evaluate({ toolName: 'send_email', input: { to: [bigString] }, confidence: 1, riskLevel: 'read_only' })).toMatchObject({
      outcome: 'review',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
