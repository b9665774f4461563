/** The evaluation `submit` records for a stored request: the engine's answer, then the rule that only `approval` requests are decided by a policy. */
import { contextOfRequest, type PolicyEngine } from './policy-engine.js';
import type { PolicyEvaluation, StoredRequest } from './types.js';

/**
 * What the policies say about a stored request, as `submit` records it: only `approval` requests
 * may be decided automatically; any other type goes to a human whatever the policy says.
 */
export function evaluateRequest(engine: PolicyEngine, request: StoredRequest): PolicyEvaluation {
  return evaluationOfType(
    request.type,
    engine.evaluate(request.toolName, request.confidence, request.riskLevel, contextOfRequest(request)),
  );
}

/** The evaluation a request of this type records: a policy may decide only `approval` requests; any other type goes to review. */
export function evaluationOfType(type: StoredRequest['type'], evaluation: PolicyEvaluation): PolicyEvaluation {
  if (type === 'approval' || evaluation.outcome === 'review') return evaluation;
  const result: PolicyEvaluation = { outcome: 'review', reason: `'${type}' requests always go to a human` };
  if (evaluation.policy !== undefined) result.policy = evaluation.policy;
  return result;
}
