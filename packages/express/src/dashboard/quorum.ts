/** Four eyes on a card: how many of the required approvals are in, by whom, and who may still approve. */
import type { ApprovalRecord } from '@hitl/core';
import { approvers, quorumText } from '../quorum-text.js';
import { el } from './dom.js';

export { approvalsRequired } from '../quorum-text.js';

/** The card's quorum line, or undefined for a request that needs one approval. */
export function buildQuorumLine(record: ApprovalRecord): HTMLElement | undefined {
  const text = quorumText(record);
  if (text === undefined) return undefined;
  return el('p', { class: 'quorum', 'data-testid': 'request-approvals', 'aria-live': 'polite' }, text);
}

/** Shows `record`'s approvals in a line made by {@link buildQuorumLine}. */
export function updateQuorumLine(line: HTMLElement | undefined, record: ApprovalRecord): void {
  const text = quorumText(record);
  if (line && text !== undefined && line.textContent !== text) line.textContent = text;
}

/** Whether `latest` is newer news than `shown` for the same pending request (more approvals in). */
export function hasMoreApprovals(latest: ApprovalRecord, shown: ApprovalRecord): boolean {
  return approvers(latest).length > approvers(shown).length;
}
