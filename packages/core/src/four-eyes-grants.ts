/**
 * Four eyes meets grants (remembered decisions): a grant satisfies at most one approval of a request
 * that needs several, as an approval by whoever made the grant, never the whole quorum — unless the
 * policy says so (`grantCoversQuorum: true`): then the grant decides it as it decides any call. A
 * grant made by the requester, or one that cannot be read back, counts for nothing (fail closed),
 * and its use is not counted: such a grant is skipped before counting, or its use given back.
 */
import type { Decision } from './constants.js';
import { approvalBy, quorumAction, requiredApprovals } from './four-eyes.js';
import { HitlError } from './hitl-error.js';
import { sameIdentity } from './identity.js';
import type { Grant } from './grants/grant-types.js';
import type { Approval, ApprovalRecord, ApprovalStore, PolicyEvaluation, StoredRequest } from './types.js';

/**
 * Whether a grant may stand for one approval of `request`, judged from facts known before any use is
 * counted: its maker is named, is not the requester (identities compared after normalisation), and
 * has not approved `record` already (when given). A grant this refuses is skipped, its use never counted.
 */
export function grantMayApprove(request: StoredRequest, record?: ApprovalRecord): (grant: Pick<Grant, 'grantedBy'>) => boolean {
  return ({ grantedBy }) => {
    if (typeof grantedBy !== 'string' || grantedBy.trim() === '') return false;
    if (request.requestedBy !== undefined && sameIdentity(grantedBy, request.requestedBy)) return false;
    return record === undefined || approvalBy(record, grantedBy) === undefined;
  };
}

/**
 * The approval a grant that approves `request` stands for: by the grant's maker, at `at`, its
 * feedback the grant's reason. Undefined when the grant counts for nothing here: unreadable, made by
 * the requester, or its maker already approved `record` (when given).
 */
export async function grantApproval(
  store: ApprovalStore,
  { request, evaluation, at, record }: { request: StoredRequest; evaluation: PolicyEvaluation; at: string; record?: ApprovalRecord },
): Promise<Approval | undefined> {
  if (evaluation.grant === undefined || evaluation.outcome !== 'approve') return undefined;
  const grant = await Promise.resolve(store.getGrant?.(evaluation.grant)).catch(() => undefined);
  if (grant === undefined || !grantMayApprove(request, record)(grant)) return undefined;
  return { by: grant.grantedBy, at, feedback: evaluation.reason };
}

/**
 * `submit`'s view of a grant that approves a call whose policy needs several approvals: the call
 * goes to review as the policies said, with the grant's approval as its first one (and the grant
 * named in the evaluation). Any other evaluation is returned as it is, so a grant decides the call
 * outright when the policy has `grantCoversQuorum`.
 */
export async function grantAsFirstApproval(
  store: ApprovalStore,
  {
    request,
    policies,
    evaluation,
    at,
  }: { request: StoredRequest; policies: PolicyEvaluation; evaluation: PolicyEvaluation; at: () => string },
): Promise<{ evaluation: PolicyEvaluation; approval?: Approval }> {
  const required = policies.approvals ?? 1;
  if (required < 2 || policies.grantCoversQuorum === true || evaluation.grant === undefined || evaluation.outcome !== 'approve') {
    return { evaluation };
  }
  const approval = await grantApproval(store, { request, evaluation, at: at() });
  if (approval === undefined) return { evaluation: policies };
  const reason = `${policies.reason}; ${evaluation.reason}: one of ${required} approvals`;
  return { evaluation: { ...policies, reason, grant: evaluation.grant }, approval };
}

/**
 * Whether a grant gives a pending record one approval (it needs several, and its policy did not let
 * a grant cover the quorum when it was created) rather than deciding it.
 */
export function needsSeveral(record: ApprovalRecord): boolean {
  return requiredApprovals(record) > 1 && record.evaluation.grantCoversQuorum !== true;
}

/**
 * `respondMany` over requests some of which need several approvals: the ids whose answer is one
 * approval (an approve of such a request). All or nothing: when the reviewer may not approve one of
 * them (anonymous, or approved it already), nothing is decided and the error names every such id.
 */
export function approvalsAmong(records: readonly ApprovalRecord[], decision: Decision, respondedBy: string | undefined): Set<string> {
  const approvals = new Set<string>();
  const refused: string[] = [];
  let first: HitlError | undefined;
  for (const record of records) {
    if (requiredApprovals(record) < 2) continue;
    try {
      if (quorumAction(record, decision, respondedBy) === 'approval') approvals.add(record.request.id);
    } catch (error) {
      if (!HitlError.is(error)) throw error;
      first ??= error;
      refused.push(record.request.id);
    }
  }
  if (first !== undefined) {
    throw new HitlError(
      first.code,
      `nothing was decided: ${first.message}${refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''}`,
      {
        details: { ...first.details, ids: refused },
      },
    );
  }
  return approvals;
}
