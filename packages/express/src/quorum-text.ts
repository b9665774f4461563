// Four eyes in words, for the dashboard and the decision pages alike: "1 of 2 approvals (alice). Another approver is needed: …".
import type { ApprovalRecord } from '@hitl/core';

/** How many distinct approvals the request needs (1 for an ordinary request). */
export function approvalsRequired(record: ApprovalRecord): number {
  const required = (record as { approvalsRequired?: unknown }).approvalsRequired;
  return typeof required === 'number' && required > 1 ? required : 1;
}

/** Who approved so far, oldest first. */
export function approvers(record: ApprovalRecord): string[] {
  const approvals = (record as { approvals?: unknown }).approvals;
  return Array.isArray(approvals) ? approvals.map((approval: { by?: unknown }) => String(approval?.by ?? '')) : [];
}

/**
 * "1 of 2 approvals (alice). Another approver is needed: anyone but alice and agent-7 (who asked)."
 * Undefined for a request that needs one approval.
 */
export function quorumText(record: ApprovalRecord): string | undefined {
  const required = approvalsRequired(record);
  if (required < 2) return undefined;
  const by = approvers(record);
  const count = `${by.length} of ${required} approvals${by.length > 0 ? ` (${by.join(', ')})` : ''}.`;
  const remaining = required - by.length;
  if (remaining <= 0) return count;
  const excluded = [...by];
  if (record.request.requestedBy) excluded.push(`${record.request.requestedBy} (who asked)`);
  const need = remaining === 1 ? 'Another approver is needed' : `${remaining} more distinct approvers are needed`;
  return `${count} ${need}${excluded.length > 0 ? `: anyone but ${excluded.join(' and ')}` : ''}.`;
}
