/** Shadow policies: a candidate policy set evaluated beside the live one on every submit, reporting where the two disagree and never deciding anything. */
import { HitlError } from './hitl-error.js';
import { PolicyEngine } from './policy-engine.js';
import { evaluateRequest } from './request-evaluation.js';
import type { ApprovalPolicy, PolicyEvaluation, StoredRequest } from './types.js';

/** The shadow set as the manager uses it. */
export interface ShadowPolicies {
  /**
   * The shadow set's evaluation of a request when its outcome differs from the live one; undefined
   * when they agree. Never throws: an error is reported (logged or `onError`) and counts as agreement.
   */
  compare(request: StoredRequest, live: PolicyEvaluation): PolicyEvaluation | undefined;
}

/**
 * Compiles `shadowPolicies` once, as `addPolicy` would (a malformed one throws `invalid_input`
 * naming `shadowPolicies`, at `createManager`). Returns undefined when there are none, so a manager
 * without a shadow set pays nothing on its request path.
 */
export function createShadowPolicies({
  policies,
  defaultOutcome,
  reportError,
}: {
  policies: readonly ApprovalPolicy[] | undefined;
  defaultOutcome: 'review' | 'deny';
  reportError: (error: unknown) => void;
}): ShadowPolicies | undefined {
  if (policies === undefined) return undefined;
  const engine = new PolicyEngine(defaultOutcome);
  try {
    engine.replace(policies);
  } catch (error) {
    if (!HitlError.is(error)) throw error;
    throw new HitlError(error.code, `shadowPolicies: ${error.message}`, { cause: error, details: error.details });
  }
  return {
    compare(request, live) {
      try {
        const shadow = evaluateRequest(engine, request);
        return shadow.outcome === live.outcome ? undefined : shadow;
      } catch (error) {
        reportError(
          new HitlError(
            'invalid_input',
            `shadow policies could not evaluate '${request.toolName}': ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          ),
        );
        return undefined;
      }
    },
  };
}
