/**
 * One stored record replayed under a policy file, in the manager's evaluation order: a deny policy
 * first, then the grant that decided the record (assumed still in force), then the policies.
 */
import type { Manager, PolicyCall, PolicyEvaluation } from '@hitl/core';
import { evaluationOfType } from '@hitl/core/internal';
import type { FilePolicy } from '../policy-file.js';
import type { StoredDecision } from './replay-source.js';

/**
 * How a replayed record differs from what was stored: `outcome` (approve → review, …), or `policy`
 * (the same outcome, decided by another policy or grant).
 */
export type ReplayChangeKind = 'outcome' | 'policy';

/** A record replayed: what decided it when stored, what would decide it under the file, and how they differ. */
export interface ReplayedRecord {
  before: PolicyEvaluation;
  after: PolicyEvaluation;
  /** Absent when nothing differs. */
  kind?: ReplayChangeKind;
  /** Why the grant that decided the record would not decide it under the file. */
  because?: string;
}

/** The grant that decided a record, as the record tells it. */
interface RecordedGrant {
  id: string;
  effect: 'approve' | 'deny';
}

/**
 * The grant that decided a record: one named by its evaluation (decided when submitted, or its
 * first approval under four eyes), or by its response (a grant made later decided it while pending).
 */
function recordedGrant({ evaluation, response }: StoredDecision): RecordedGrant | undefined {
  if (evaluation.grant !== undefined) return { id: evaluation.grant, effect: evaluation.outcome === 'deny' ? 'deny' : 'approve' };
  if (response?.metadata?.cause !== 'grant') return undefined;
  const id = response.metadata.grant;
  return { id: typeof id === 'string' ? id : '(unnamed)', effect: response.decision === 'reject' ? 'deny' : 'approve' };
}

/** What the record says decided it: its evaluation, or the grant that decided it after it was stored. */
function storedDecider(record: StoredDecision, grant: RecordedGrant | undefined): PolicyEvaluation {
  if (grant === undefined || record.evaluation.grant !== undefined) return record.evaluation;
  return {
    outcome: grant.effect,
    reason: record.response?.feedback ?? `grant '${grant.id}' ${grant.effect === 'approve' ? 'approves' : 'denies'} it`,
    grant: grant.id,
  };
}

/** The evaluation `submit` would record from the file's policies alone (no grant), four eyes included. */
function policiesEvaluation(manager: Manager, policies: readonly FilePolicy[], record: StoredDecision): PolicyEvaluation {
  const { request } = record;
  const call = {
    toolName: request.toolName,
    input: request.input ?? {},
    confidence: request.confidence,
    riskLevel: request.riskLevel,
  } as PolicyCall;
  for (const key of ['requestedBy', 'threadId', 'runId', 'metadata'] as const) {
    if (request[key] !== undefined) Object.assign(call, { [key]: request[key] });
  }
  // As `submit` records it: only approval requests are decided by a policy, and carry its quorum.
  const evaluation = evaluationOfType(request.type, manager.evaluate(call));
  const approvals = policies.find((policy) => policy.name === evaluation.policy)?.approvals ?? 1;
  return request.type === 'approval' && evaluation.outcome === 'review' && approvals > 1 ? { ...evaluation, approvals } : evaluation;
}

/** The file's answer when `grant` is still in force: the manager's order, a deny policy first. */
function withGrant(
  policies: readonly FilePolicy[],
  evaluation: PolicyEvaluation,
  grant: RecordedGrant,
): { after: PolicyEvaluation; because?: string } {
  const name = evaluation.policy;
  if (evaluation.outcome === 'deny') {
    return { after: evaluation, because: name === undefined ? `denied: ${evaluation.reason}` : `denied by policy '${name}'` };
  }
  if (grant.effect === 'deny') {
    return { after: { outcome: 'deny', reason: `grant '${grant.id}' denies it (assumed still in force)`, grant: grant.id } };
  }
  const deciding = name === undefined ? undefined : policies.find((policy) => policy.name === name);
  if (deciding?.grants === false) {
    return { after: evaluation, because: `policy '${name}' refuses grants` };
  }
  if (evaluation.approvals !== undefined && deciding?.grantCoversQuorum !== true) {
    // Four eyes: the grant is one approval (by its maker), never the whole quorum.
    const reason = `${evaluation.reason}; grant '${grant.id}' is one of ${evaluation.approvals} approvals`;
    return {
      after: { ...evaluation, reason, grant: grant.id },
      because: `policy '${name}' needs ${evaluation.approvals} approvals: the grant is one`,
    };
  }
  return { after: { outcome: 'approve', reason: `grant '${grant.id}' approves it (assumed still in force)`, grant: grant.id } };
}

function kindOf(before: PolicyEvaluation, after: PolicyEvaluation): ReplayChangeKind | undefined {
  if (before.outcome !== after.outcome) return 'outcome';
  if (before.policy !== after.policy || before.grant !== after.grant) return 'policy';
  return undefined;
}

/** Whether a grant decided the record (then it is replayed with that grant). */
export function decidedByGrant(record: StoredDecision): boolean {
  return recordedGrant(record) !== undefined;
}

/**
 * Replays one record under the file: `manager` holds the file's policies (and no grant). A record a
 * grant decided is replayed with that grant, as if it were still in force.
 */
export function replayRecord(manager: Manager, policies: readonly FilePolicy[], record: StoredDecision): ReplayedRecord {
  const grant = recordedGrant(record);
  const before = storedDecider(record, grant);
  const evaluation = policiesEvaluation(manager, policies, record);
  const { after, because } = grant === undefined ? { after: evaluation } : withGrant(policies, evaluation, grant);
  const kind = kindOf(before, after);
  if (kind === undefined) return { before, after };
  return because === undefined ? { before, after, kind } : { before, after, kind, because };
}
