// The value sets of @hitl/core (risk levels, interaction types, decisions, statuses) and their checks.
/**
 * How much harm a tool call can do. Ordered: `read_only` < `data_modification` < `irreversible`.
 * A request without a risk level is treated as `irreversible` (fail closed).
 *
 * @example
 * ```ts
 * import { RiskLevel } from '@hitl/core';
 * manager.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: RiskLevel.ReadOnly });
 * manager.addPolicy({ name: 'writes', toolPattern: 'update_*', maxRiskLevel: 'data_modification' });
 * ```
 */
export const RiskLevel = {
  ReadOnly: 'read_only',
  DataModification: 'data_modification',
  Irreversible: 'irreversible',
} as const;
/** One of the {@link RiskLevel} values: `'read_only' | 'data_modification' | 'irreversible'`. */
export type RiskLevel = (typeof RiskLevel)[keyof typeof RiskLevel];

/**
 * What a human is asked for: an approval, feedback, some input, or an annotation.
 *
 * @example
 * ```ts
 * await manager.requestInteraction({ type: InteractionType.Feedback, toolName: 'draft_reply' });
 * ```
 */
export const InteractionType = {
  Approval: 'approval',
  Feedback: 'feedback',
  Input: 'input',
  Annotation: 'annotation',
} as const;
/** One of the {@link InteractionType} values. */
export type InteractionType = (typeof InteractionType)[keyof typeof InteractionType];

/**
 * A reviewer's answer: approve as is, reject, or approve with modified input.
 *
 * @example
 * ```ts
 * await manager.respond(id, { decision: Decision.Modify, modified: { user_id: '42' } });
 * ```
 */
export const Decision = {
  Approve: 'approve',
  Reject: 'reject',
  Modify: 'modify',
} as const;
/** One of the {@link Decision} values: `'approve' | 'reject' | 'modify'`. */
export type Decision = (typeof Decision)[keyof typeof Decision];

/**
 * Where a request stands. Only `pending` can change, and only once.
 *
 * @example
 * ```ts
 * const { items } = await manager.list({ status: RequestStatus.Pending });
 * ```
 */
export const RequestStatus = {
  Pending: 'pending',
  Approved: 'approved',
  Rejected: 'rejected',
  Modified: 'modified',
  Expired: 'expired',
  Cancelled: 'cancelled',
} as const;
/** One of the {@link RequestStatus} values. */
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

/** Risk levels in ascending order of harm. */
export const RISK_ORDER: readonly RiskLevel[] = ['read_only', 'data_modification', 'irreversible'];

const riskRank: ReadonlyMap<string, number> = new Map(RISK_ORDER.map((level, index) => [level, index]));

/** The rank of a risk level (0 = read only), or `undefined` when the value is not a known level. */
export function rankOfRisk(level: unknown): number | undefined {
  return typeof level === 'string' ? riskRank.get(level) : undefined;
}

const interactionTypes: ReadonlySet<string> = new Set(Object.values(InteractionType));
const decisions: ReadonlySet<string> = new Set(Object.values(Decision));
const statuses: ReadonlySet<string> = new Set(Object.values(RequestStatus));

/** True when `value` is one of the {@link InteractionType} values. */
export function isInteractionType(value: unknown): value is InteractionType {
  return typeof value === 'string' && interactionTypes.has(value);
}

/** True when `value` is one of the {@link Decision} values. */
export function isDecision(value: unknown): value is Decision {
  return typeof value === 'string' && decisions.has(value);
}

/** True when `value` is one of the {@link RequestStatus} values. */
export function isRequestStatus(value: unknown): value is RequestStatus {
  return typeof value === 'string' && statuses.has(value);
}

/** True when `value` is one of the {@link RiskLevel} values. */
export function isRiskLevel(value: unknown): value is RiskLevel {
  return rankOfRisk(value) !== undefined;
}

/** The status a decision leads to. */
export const statusOfDecision: Readonly<Record<Decision, Exclude<RequestStatus, 'pending'>>> = {
  approve: 'approved',
  reject: 'rejected',
  modify: 'modified',
};
