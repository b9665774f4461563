/** Four eyes (M of N): the rules of requests that need several distinct approvers, shared by the manager and the stores. */
import { HitlError } from './hitl-error.js';
import { identityKey, requireIdentity } from './identity.js';
import type { Decision } from './constants.js';
import type {
  AddApprovalInput,
  Approval,
  ApprovalRecord,
  ApprovalStore,
  InteractionResponse,
  ManagerEvent,
  PolicyEvaluation,
  StoreChange,
} from './types.js';
import { invalidInput, isPlain } from './validation.js';

/** The most approvals a policy may require. */
export const MAX_APPROVALS = 10;

/** Checks a policy's `approvals` (an integer from 1 to 10) and returns it. */
export function optionalApprovals(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_APPROVALS) {
    throw invalidInput(field, value, `must be an integer from 1 to ${MAX_APPROVALS} (how many distinct reviewers must approve)`);
  }
  return value;
}

/** How many approvals a record needs: its `approvalsRequired`, else 1. */
export function requiredApprovals(record: ApprovalRecord): number {
  return record.approvalsRequired ?? 1;
}

/**
 * "1 of 2 approvals (alice); needs 1 more": where a request that needs several approvals stands, in
 * words; undefined for a request that needs one.
 */
export function quorumSummary(record: ApprovalRecord): string | undefined {
  const required = requiredApprovals(record);
  if (required < 2) return undefined;
  const by = (record.approvals ?? []).map((approval) => approval.by);
  const remaining = Math.max(required - by.length, 0);
  const count = `${by.length} of ${required} approvals${by.length > 0 ? ` (${by.join(', ')})` : ''}`;
  if (record.status !== 'pending' || remaining === 0) return count;
  return `${count}; needs ${remaining}${by.length > 0 ? ' more' : ''}`;
}

/**
 * The evaluation with the policy's quorum on it, when the call goes to review and needs more than
 * one approval; with `grantCoversQuorum` when the policy lets a grant decide such a call outright.
 */
export function withQuorum(
  evaluation: PolicyEvaluation,
  policy: { approvals?: number; grantCoversQuorum?: boolean } | undefined,
): PolicyEvaluation {
  const approvals = policy?.approvals;
  if (evaluation.outcome !== 'review' || approvals === undefined || approvals < 2) return evaluation;
  return policy?.grantCoversQuorum === true ? { ...evaluation, approvals, grantCoversQuorum: true } : { ...evaluation, approvals };
}

/** Fills a new pending record's quorum fields from its evaluation (nothing for a single approval). */
export function startQuorum(record: ApprovalRecord): void {
  const approvals = record.evaluation.approvals;
  if (record.status !== 'pending' || approvals === undefined || approvals < 2) return;
  record.approvalsRequired = approvals;
  record.approvals = [];
}

/** Refuses a policy with a quorum on a store that cannot record approvals atomically (the policy itself is checked by `addPolicy`). */
export function requireQuorumStore(store: ApprovalStore, policy: { name?: unknown; approvals?: unknown } | undefined): void {
  const approvals = policy?.approvals;
  if (typeof approvals !== 'number' || approvals < 2 || typeof store.addApproval === 'function') return;
  const policyName = String(policy?.name);
  throw new HitlError(
    'invalid_input',
    `policy '${policyName}': approvals ${approvals} needs a store with addApproval() (the memory and PostgreSQL stores have it); this store has none`,
    { details: { field: `policy '${policyName}': approvals`, value: String(approvals) } },
  );
}

/** Checks what a store is asked to record; `invalid_input` naming the field. */
export function checkAddApprovalInput(input: unknown): AddApprovalInput {
  if (!isPlain(input)) throw invalidInput('input', input, 'must be an object');
  const { approval, required, response } = input as Partial<AddApprovalInput>;
  if (!isPlain(approval)) throw invalidInput('input.approval', approval, 'must be an object');
  const { by, at, feedback, decisionId } = approval as Approval;
  requireIdentity('input.approval.by', by);
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) throw invalidInput('input.approval.at', at, 'is not an ISO 8601 timestamp');
  if (feedback !== undefined && typeof feedback !== 'string') throw invalidInput('input.approval.feedback', feedback, 'must be a string');
  if (decisionId !== undefined && typeof decisionId !== 'string')
    throw invalidInput('input.approval.decisionId', decisionId, 'must be a string');
  if (typeof required !== 'number' || !Number.isInteger(required) || required < 2 || required > MAX_APPROVALS) {
    throw invalidInput('input.required', required, `must be an integer from 2 to ${MAX_APPROVALS}`);
  }
  if (!isPlain(response) || (response as { decision?: unknown }).decision !== 'approve') {
    throw invalidInput('input.response', response, "must be an object with decision 'approve'");
  }
  return input as AddApprovalInput;
}

/** The approval already given by the same person as `by` (after identity normalisation), if any. */
export function approvalBy(record: ApprovalRecord, by: string): Approval | undefined {
  const key = identityKey(by);
  return record.approvals?.find((approval) => identityKey(approval.by) === key);
}

/** The `conflict` for a reviewer who has approved already. */
export function alreadyApproved(id: string, by: string, earlier: Approval): HitlError {
  return new HitlError(
    'conflict',
    `'${by}' has already approved request '${id}' (as '${earlier.by}' at ${earlier.at}); another reviewer must approve it`,
    {
      details: { field: 'respondedBy', value: by, ids: [id] },
    },
  );
}

/**
 * The record after one more approval, as every store must compute it: pending below the quorum,
 * `approved` (with the response, closed at the approval's time) at it. Throws the store's
 * `conflict`s: not pending, expired by `approval.at`, or the same reviewer twice.
 */
export function applyApproval(current: ApprovalRecord, input: AddApprovalInput): ApprovalRecord {
  const id = current.request.id;
  if (current.status !== 'pending')
    throw new HitlError('conflict', `request '${id}' is already ${current.status}`, { details: { ids: [id] } });
  if (current.expiresAt !== undefined && Date.parse(input.approval.at) >= Date.parse(current.expiresAt)) {
    throw new HitlError('conflict', `request '${id}' expired at ${current.expiresAt}`, { details: { ids: [id] } });
  }
  const earlier = approvalBy(current, input.approval.by);
  if (earlier) throw alreadyApproved(id, input.approval.by, earlier);
  const approvals = [...(current.approvals ?? []), input.approval];
  const next: ApprovalRecord = { ...current, approvals, approvalsRequired: input.required };
  if (approvals.length >= input.required) {
    next.status = 'approved';
    next.response = input.response;
    next.closedAt = input.approval.at;
  }
  return next;
}

/** The store change an approval makes: `decided` when it completed the quorum, else `approval-added`. */
export function changeOfApproval(record: ApprovalRecord): StoreChange {
  return { type: record.status === 'pending' ? 'approval-added' : 'decided', record };
}

/**
 * The `request-approval-added` event of a record whose latest approval is news: a pending record
 * with approvals, or one the final approval just closed. Undefined for any other record.
 */
export function approvalAddedEvent(record: ApprovalRecord): ManagerEvent | undefined {
  const approval = record.approvals?.at(-1);
  if (!approval || (record.status !== 'pending' && record.status !== 'approved')) return undefined;
  const remaining = Math.max(requiredApprovals(record) - (record.approvals?.length ?? 0), 0);
  if (record.status === 'approved' && remaining > 0) return undefined;
  return { type: 'request-approval-added', record, approval, remaining };
}

/**
 * What a reviewer's answer does to a request that needs several approvals: `'approval'` (an
 * approve, counted by `addApproval`) or `'decide'` (a reject, which closes it at once). Throws
 * `conflict` for `modify` and for a reviewer who approved already, `forbidden` for an anonymous
 * approval (it cannot prove the approvers are distinct).
 */
export function quorumAction(record: ApprovalRecord, decision: Decision, respondedBy: string | undefined): 'approval' | 'decide' {
  const id = record.request.id;
  const required = requiredApprovals(record);
  if (decision === 'reject') return 'decide';
  if (decision === 'modify') {
    throw new HitlError('conflict', `request '${id}' needs ${required} approvals and cannot be modified; reject it with feedback instead`, {
      details: { field: 'decision', value: "'modify'", ids: [id] },
    });
  }
  if (respondedBy === undefined) {
    throw new HitlError('forbidden', `request '${id}' needs ${required} distinct approvers: an approval must say who respondedBy`, {
      details: { field: 'respondedBy', ids: [id] },
    });
  }
  const earlier = approvalBy(record, respondedBy);
  if (earlier) throw alreadyApproved(id, respondedBy, earlier);
  return 'approval';
}

/** What `store.addApproval` records for a reviewer's approval (`response`, made by the manager) of `record`. */
export function approvalInput(record: ApprovalRecord, response: InteractionResponse): AddApprovalInput {
  const approval: Approval = { by: response.respondedBy as string, at: response.respondedAt };
  if (response.feedback !== undefined) approval.feedback = response.feedback;
  if (response.decisionId !== undefined) approval.decisionId = response.decisionId;
  return { approval, required: requiredApprovals(record), response };
}

/** Records a reviewer's approval on a request that needs several: `store.addApproval`, atomic in the store. */
export function recordApproval(store: ApprovalStore, id: string, input: AddApprovalInput): Promise<ApprovalRecord> {
  if (typeof store.addApproval !== 'function') {
    return Promise.reject(new HitlError('store_unavailable', `request '${id}' needs several approvals but the store has no addApproval()`));
  }
  return store.addApproval(id, input);
}

/**
 * Whether `record` already holds the decision a retry with `idempotencyKey` asks for: the final
 * response, or (four eyes) one of its approvals.
 */
export function isRetryOf(record: ApprovalRecord, idempotencyKey: string | undefined, decision: Decision): boolean {
  if (idempotencyKey === undefined) return false;
  if (record.response?.decisionId === idempotencyKey && record.response.decision === decision) return true;
  return decision === 'approve' && record.approvals?.some((approval) => approval.decisionId === idempotencyKey) === true;
}
