/** Why the policies decide a call as they do: the engine's own evaluation plus, per policy walked, why it did or did not apply. */
import { rankOfRisk, type RiskLevel } from './constants.js';
import { HitlError } from './hitl-error.js';
import { levelProblem, policyCall, PolicyEngine, type CallContext, type CompiledPolicy } from './policy-engine.js';
import type { ApprovalPolicy, PolicyCall, PolicyEvaluation } from './types.js';
import { invalidInput, isPlain } from './validation.js';

/**
 * What a step of an explanation checked:
 * - `pattern`: the policy's glob does not match the tool name (the policy does not apply);
 * - `condition`: its glob matches but its `when` is false (it does not apply);
 * - for the policy that decides: `condition-error` (its `when` could not be evaluated: review),
 *   `invalid-call` (confidence or risk cannot be judged: review), `deny`, `require-explicit`,
 *   `confidence` (below `minConfidence`: review), `risk` (above `maxRiskLevel`: review), or
 *   `within-limits` (approved).
 *
 * @example
 * ```ts
 * const skipped = explanation.steps.filter((step) => step.check === 'pattern' || step.check === 'condition');
 * ```
 */
export type PolicyCheck =
  'pattern' | 'condition' | 'condition-error' | 'invalid-call' | 'deny' | 'require-explicit' | 'confidence' | 'risk' | 'within-limits';

/**
 * One policy walked by an explanation, in evaluation order.
 *
 * @example
 * ```ts
 * for (const step of explanation.steps) console.log(step.decides ? '→' : ' ', step.policy, step.check, step.reason);
 * ```
 */
export interface PolicyStep {
  policy: string;
  /** True for the policy that decides (always the last step when one does). */
  decides: boolean;
  check: PolicyCheck;
  /** Why, in words: `toolPattern 'get_*' does not match 'delete_user'`, or the evaluation's reason for the deciding policy. */
  reason: string;
}

/**
 * {@link explainEvaluation}'s answer: the evaluation the engine gives, and the policies walked to get there.
 *
 * @example
 * ```ts
 * const { outcome, policy, reason, steps }: PolicyExplanation = explainEvaluation({ policies, call });
 * ```
 */
export interface PolicyExplanation extends PolicyEvaluation {
  /** Every policy before the deciding one (each saying why it did not apply), then the deciding one. All policies when none decides. */
  steps: PolicyStep[];
}

/**
 * A call to explain: a {@link PolicyCall} whose input, confidence and risk may be absent (`{}`, 0 and `irreversible`, as in `evaluate`).
 *
 * @example
 * ```ts
 * const call: ExplainCall = { toolName: 'refund_payment', input: { amount: 80 }, riskLevel: 'irreversible' };
 * ```
 */
export type ExplainCall = Omit<PolicyCall, 'input' | 'confidence' | 'riskLevel'> & {
  input?: Record<string, unknown>;
  confidence?: number;
  riskLevel?: RiskLevel;
};

/**
 * Options of {@link explainEvaluation}.
 *
 * @example
 * ```ts
 * const options: ExplainOptions = { policies: manager.listPolicies(), call: { toolName: 'delete_user' }, defaultOutcome: 'deny' };
 * ```
 */
export interface ExplainOptions {
  /** The policies, in order, as `createManager({ policies })` takes them. */
  policies: readonly ApprovalPolicy[];
  call: ExplainCall;
  /** The outcome when no policy applies. Default `'review'`, as in `createManager`. */
  defaultOutcome?: 'review' | 'deny';
}

/**
 * Explains how a list of policies decides a call: the outcome, the deciding policy and its reason
 * (exactly what `manager.evaluate` answers: the same engine computes it), and for each earlier
 * policy why it did not apply — its glob did not match, or its `when` was false. The deciding
 * step's `check` says which rule decided (deny, require-explicit, a confidence or risk threshold…).
 *
 * Policies are validated as `addPolicy` does: a malformed one throws `HitlError('invalid_input')`.
 *
 * @example
 * ```ts
 * import { explainEvaluation } from '@hitl/core';
 *
 * const explanation = explainEvaluation({
 *   policies: [
 *     { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
 *     { name: 'small-refunds', toolPattern: 'refund_*', maxRiskLevel: 'irreversible', when: 'input.amount <= 50' },
 *     { name: 'refunds', toolPattern: 'refund_*', requireExplicit: true },
 *   ],
 *   call: { toolName: 'refund_payment', input: { amount: 80 }, confidence: 0.9, riskLevel: 'irreversible' },
 * });
 * explanation.outcome; // 'review', decided by 'refunds'
 * explanation.steps.map((step) => step.check); // ['pattern', 'condition', 'require-explicit']
 * ```
 */
export function explainEvaluation(options: ExplainOptions): PolicyExplanation {
  if (!isPlain(options)) throw invalidInput('options', options, 'must be an object');
  const { policies, call, defaultOutcome = 'review' } = options;
  if (!Array.isArray(policies)) throw invalidInput('options.policies', policies, 'must be an array');
  if (!isPlain(call)) throw invalidInput('options.call', call, 'must be an object');
  if (defaultOutcome !== 'review' && defaultOutcome !== 'deny') {
    throw new HitlError('invalid_input', `options.defaultOutcome '${String(defaultOutcome)}' must be 'review' or 'deny'`, {
      details: { field: 'options.defaultOutcome' },
    });
  }
  const engine = new PolicyEngine(defaultOutcome);
  engine.replace(policies);
  const evaluation = engine.evaluate(call.toolName, call.confidence, call.riskLevel, call as CallContext);
  const steps: PolicyStep[] = [];
  // An invalid tool name is denied before any policy is looked at.
  if (evaluation.outcome === 'deny' && evaluation.policy === undefined && /is not a valid tool name/.test(evaluation.reason)) {
    return { ...evaluation, steps };
  }
  for (const entry of engine.entries()) {
    const { name, toolPattern } = entry.policy;
    if (name === evaluation.policy) {
      steps.push({ policy: name, decides: true, check: decidingCheck(entry, call, evaluation), reason: evaluation.reason });
      break;
    }
    if (!entry.matcher.test(call.toolName)) {
      steps.push({
        policy: name,
        decides: false,
        check: 'pattern',
        reason: `toolPattern '${toolPattern}' does not match '${call.toolName}'`,
      });
      continue;
    }
    // Its glob matches and it did not decide: it has a condition, and the condition was false.
    const source = entry.condition?.source ?? '';
    steps.push({
      policy: name,
      decides: false,
      check: 'condition',
      reason: `toolPattern '${toolPattern}' matches, but when ${JSON.stringify(source)} is false`,
    });
  }
  return { ...evaluation, steps };
}

/** Which rule of the deciding policy gave the outcome, in the order the engine applies them. */
function decidingCheck(entry: CompiledPolicy, call: ExplainCall, evaluation: PolicyEvaluation): PolicyCheck {
  if (evaluation.outcome === 'approve') return 'within-limits';
  const { policy, condition } = entry;
  if (condition !== undefined) {
    if (levelProblem(call.confidence, call.riskLevel) !== undefined) return 'invalid-call';
    const result = condition.test(policyCall(call.toolName, call.confidence, call.riskLevel, call as CallContext));
    if (!result.ok) return 'condition-error';
  }
  if (policy.deny) return 'deny';
  if (policy.requireExplicit) return 'require-explicit';
  if (levelProblem(call.confidence, call.riskLevel) !== undefined) return 'invalid-call';
  if ((call.confidence ?? 0) < entry.minConfidence) return 'confidence';
  if ((rankOfRisk(call.riskLevel ?? 'irreversible') ?? Infinity) > entry.maxRiskRank) return 'risk';
  return 'within-limits';
}
