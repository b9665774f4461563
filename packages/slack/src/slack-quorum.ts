// Four eyes in a Slack message: how many of the required approvals are in, by whom, and that another approver is needed.
import type { ApprovalRecord } from '@hitl/core';
import type { KnownBlock } from '@slack/web-api';
import { cut, escapeText } from './slack-text.js';

/** Whether the request needs several distinct approvers (then it cannot be edited, only approved or rejected). */
export function needsSeveralApprovals(record: ApprovalRecord): boolean {
  return (record.approvalsRequired ?? 1) > 1;
}

/**
 * "*Approvals:* 1 of 2 (alice) · another approver is needed", as a context block; none for a request
 * that needs one approval.
 */
export function quorumBlocks(record: ApprovalRecord): KnownBlock[] {
  if (!needsSeveralApprovals(record)) return [];
  const required = record.approvalsRequired ?? 1;
  const by = (record.approvals ?? []).map((approval) => approval.by);
  const remaining = required - by.length;
  let text = `*Approvals:* ${by.length} of ${required}${by.length > 0 ? ` (${by.join(', ')})` : ''}`;
  if (record.status === 'pending' && remaining > 0) {
    text += remaining === 1 ? ' · another approver is needed' : ` · ${remaining} more distinct approvers are needed`;
    if (by.length > 0) text += '; those who approved cannot approve again';
  }
  return [{ type: 'context', elements: [{ type: 'mrkdwn', text: escapeText(cut(text, 2_900)) }] }];
}
