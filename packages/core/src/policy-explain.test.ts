// explainEvaluation: the same answer as the manager's evaluate, and why each earlier policy did not apply.
import { describe, expect, it } from 'vitest';
import { createManager, explainEvaluation, HitlError, type ApprovalPolicy, type ExplainCall } from './index.js';

const policies: ApprovalPolicy[] = [
  { name: 'blocked', toolPattern: 'drop_*', deny: true },
  { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'updates', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: 'data_modification' },
  { name: 'small-refunds', toolPattern: 'refund_*', maxRiskLevel: 'irreversible', when: 'input.amount <= 50' },
  { name: 'refunds', toolPattern: 'refund_*', requireExplicit: true },
];

function explain(call: ExplainCall, list: readonly ApprovalPolicy[] = policies) {
  return explainEvaluation({ policies: list, call });
}

describe('explainEvaluation', () => {
  it('answers exactly what the manager evaluates, for every rule of the deciding policy', () => {
    const manager = createManager({ policies });
    const calls: [ExplainCall, string][] = [
      [{ toolName: 'drop_table', confidence: 1, riskLevel: 'irreversible' }, 'deny'],
      [{ toolName: 'get_user', confidence: 0.9, riskLevel: 'read_only' }, 'within-limits'],
      [{ toolName: 'get_user', confidence: 0.2, riskLevel: 'read_only' }, 'confidence'],
      [{ toolName: 'get_user', confidence: 0.9, riskLevel: 'irreversible' }, 'risk'],
      [{ toolName: 'get_user', confidence: 7, riskLevel: 'read_only' }, 'invalid-call'],
      [{ toolName: 'refund_payment', input: { amount: 20 }, confidence: 0.9, riskLevel: 'irreversible' }, 'within-limits'],
      [{ toolName: 'refund_payment', input: { amount: 80 }, confidence: 0.9, riskLevel: 'irreversible' }, 'require-explicit'],
      [{ toolName: 'refund_payment', input: { amount: 'lots' }, confidence: 0.9, riskLevel: 'irreversible' }, 'condition-error'],
    ];
    for (const [call, check] of calls) {
      const explanation = explain(call);
      const { steps, ...evaluation } = explanation;
      expect(evaluation).toEqual(manager.evaluate({ input: {}, confidence: 0, riskLevel: 'irreversible', ...call }));
      expect(steps.at(-1)).toMatchObject({ decides: true, check, policy: evaluation.policy, reason: evaluation.reason });
    }
  });

  it('says why each earlier policy did not apply: its glob, or its condition', () => {
    const explanation = explain({ toolName: 'refund_payment', input: { amount: 80 }, confidence: 0.9, riskLevel: 'irreversible' });
    expect(explanation.outcome).toBe('review');
    expect(explanation.policy).toBe('refunds');
    expect(explanation.steps.map(({ policy, check, decides }) => [policy, check, decides])).toEqual([
      ['blocked', 'pattern', false],
      ['reads', 'pattern', false],
      ['updates', 'pattern', false],
      ['small-refunds', 'condition', false],
      ['refunds', 'require-explicit', true],
    ]);
    expect(explanation.steps[0]?.reason).toBe("toolPattern 'drop_*' does not match 'refund_payment'");
    expect(explanation.steps[3]?.reason).toBe(`toolPattern 'refund_*' matches, but when "input.amount <= 50" is false`);
  });

  it('walks every policy when none applies, and the default outcome decides', () => {
    const explanation = explainEvaluation({ policies, call: { toolName: 'send_email' }, defaultOutcome: 'deny' });
    expect(explanation.outcome).toBe('deny');
    expect(explanation.policy).toBeUndefined();
    expect(explanation.steps).toHaveLength(policies.length);
    expect(explanation.steps.every((step) => !step.decides && step.check === 'pattern')).toBe(true);
  });

  it('denies an invalid tool name without walking any policy', () => {
    const explanation = explain({ toolName: 'rm -rf /' });
    expect(explanation.outcome).toBe('deny');
    expect(explanation.steps).toEqual([]);
  });

  it('refuses malformed policies and options with invalid_input', () => {
    expect(() => explain({ toolName: 'x' }, [{ name: 'bad', toolPattern: '+(a|b)', deny: true }])).toThrow(HitlError);
    expect(() => explainEvaluation({ policies: 'nope' as never, call: { toolName: 'x' } })).toThrow(/options.policies/);
    expect(() => explainEvaluation({ policies, call: { toolName: 'x' }, defaultOutcome: 'approve' as never })).toThrow(/defaultOutcome/);
  });
});
