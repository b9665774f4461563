// Four eyes on PostgreSQL: migration 4 (the approval columns), the one-statement addApproval, and reading approvals back into records.
import { HitlError } from '@hitl/core';
import type { AddApprovalInput, Approval, ApprovalRecord } from '@hitl/core';
import { alreadyApproved, checkAddApprovalInput, identityKey, invalidInput } from '@hitl/core/internal';

/**
 * Migration 4, in place: three nullable columns without defaults (no table rewrite; existing rows
 * read NULL, i.e. a request that needs one approval). `approver_keys` holds each approver's
 * `identityKey`, so the same person twice is refused inside the statement.
 */
export function approvalsMigrationSql(qualifiedTable: string): string {
  return `
ALTER TABLE ${qualifiedTable} ADD COLUMN IF NOT EXISTS approvals_required integer;
ALTER TABLE ${qualifiedTable} ADD COLUMN IF NOT EXISTS approvals jsonb;
ALTER TABLE ${qualifiedTable} ADD COLUMN IF NOT EXISTS approver_keys text[];`;
}

/** The approval columns every record is read with (as text, like the others), as `[name, expression]`. */
export const APPROVAL_FIELDS: readonly (readonly [string, string])[] = [
  ['approvals_required', 'approvals_required::text'],
  ['approvals', 'approvals::text'],
];

/** The approval columns of the insert and the SQL of their values, from parameter `first` on. */
export function approvalInsertSql(first: number): { columns: string; values: string } {
  return {
    columns: 'approvals_required, approvals, approver_keys',
    values: `$${first}::integer, $${first + 1}::jsonb, $${first + 2}::text[]`,
  };
}

/** The insert's approval parameters for a record: NULLs for a request that needs one approval. */
export function approvalInsertParameters(record: ApprovalRecord): [number | null, string | null, string[] | null] {
  const required = record.approvalsRequired;
  if (required !== undefined && (typeof required !== 'number' || !Number.isInteger(required) || required < 1)) {
    throw invalidInput('record.approvalsRequired', required, 'must be a positive integer');
  }
  const approvals = record.approvals;
  if (approvals === undefined) return [required ?? null, null, null];
  if (!Array.isArray(approvals)) throw invalidInput('record.approvals', approvals, 'must be an array');
  const keys = approvals.map((approval: Approval, index) => {
    if (typeof approval?.by !== 'string') throw invalidInput(`record.approvals[${index}].by`, approval?.by, 'must be a string');
    return identityKey(approval.by);
  });
  return [required ?? null, JSON.stringify(approvals), keys];
}

/**
 * The addApproval statement: one UPDATE that appends the approval (and its approver's key), and
 * when the count reaches `$4` moves the row to `approved` with the response, all under the row
 * lock. Its WHERE re-checks the status, the deadline (database clock) and the approver on the
 * latest row version, so 10 reviewers racing produce exactly `$4` approvals and one transition.
 * Parameters: `$1` id, `$2` approval, `$3` approver key, `$4` required, `$5` response, `$6` closed at.
 */
export function addApprovalSql(qualifiedTable: string, sequenceLiteral: string, returning: string): string {
  const reachesQuorum = `coalesce(jsonb_array_length(approvals), 0) + 1 >= $4::integer`;
  return `UPDATE ${qualifiedTable}
SET approvals = coalesce(approvals, '[]'::jsonb) || jsonb_build_array($2::jsonb),
    approver_keys = array_append(coalesce(approver_keys, '{}'::text[]), $3::text),
    approvals_required = $4::integer,
    status = CASE WHEN ${reachesQuorum} THEN 'approved' ELSE status END,
    response = CASE WHEN ${reachesQuorum} THEN $5::jsonb ELSE response END,
    closed_at = CASE WHEN ${reachesQuorum} THEN $6::timestamptz ELSE closed_at END,
    change_seq = nextval(${sequenceLiteral})
WHERE id = $1 AND status = 'pending' AND (expires_at IS NULL OR expires_at > now())
  AND NOT ($3::text = ANY(coalesce(approver_keys, '{}'::text[])))
RETURNING ${returning}`;
}

/** The addApproval statement's parameters `$1`–`$6`, checked first. */
export function addApprovalParameters(id: string, input: AddApprovalInput, closedAt: string): unknown[] {
  const { approval, required, response } = checkAddApprovalInput(input);
  return [id, JSON.stringify(approval), identityKey(approval.by), required, JSON.stringify(response), closedAt];
}

/**
 * Why an addApproval changed no row, from the row as it is now: `not_found`, or the `conflict` of
 * a decided or expired request or of an approver who approved already.
 */
export function approvalRefusal(
  id: string,
  by: string,
  current: { status: string; expired: string; expiresAt?: string } | undefined,
  record: ApprovalRecord | undefined,
): HitlError {
  if (!current) return new HitlError('not_found', `request '${id}' does not exist`);
  if (current.status !== 'pending')
    return new HitlError('conflict', `request '${id}' is already ${current.status}`, { details: { ids: [id] } });
  if (current.expired === 'true')
    return new HitlError('conflict', `request '${id}' expired at ${current.expiresAt}`, { details: { ids: [id] } });
  const key = identityKey(by);
  const earlier = record?.approvals?.find((approval) => identityKey(approval.by) === key);
  if (earlier) return alreadyApproved(id, by, earlier);
  return new HitlError('conflict', `request '${id}' changed while the approval was being recorded`, { details: { ids: [id] } });
}

/** Reads the approval columns of a row into its record (left absent when NULL). */
export function readApprovals(row: { approvals_required?: string | null; approvals?: string | null }, record: ApprovalRecord): void {
  if (row.approvals_required !== null && row.approvals_required !== undefined) {
    const required = Number(row.approvals_required);
    if (!Number.isInteger(required) || required < 1) throw new Error('column approvals_required is not a positive integer');
    record.approvalsRequired = required;
  }
  if (row.approvals !== null && row.approvals !== undefined) {
    const approvals = JSON.parse(row.approvals) as unknown;
    if (
      !Array.isArray(approvals) ||
      !approvals.every((approval) => typeof (approval as Approval)?.by === 'string' && typeof (approval as Approval).at === 'string')
    ) {
      throw new Error('column approvals is not a list of approvals');
    }
    record.approvals = approvals as Approval[];
  }
}
