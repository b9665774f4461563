// "Allow in this thread" in a Slack message: the button with its confirmation, and the words a decided message uses for a grant.
import type { ApprovalRecord, Grant, Manager } from '@hitl/core';
import type { Button, KnownBlock } from '@slack/web-api';
import { cut, inlineCode } from './slack-text.js';

/** The part of a grant a Slack message describes. */
export type SlackGrantSummary = Pick<Grant, 'effect' | 'scope'>;

/** "another approver", "2 more approvers": who a call still needs after one approval of a quorum. */
function othersNeeded(record: ApprovalRecord): string | undefined {
  const others = (record.approvalsRequired ?? 1) - 1;
  if (others < 1) return undefined;
  return others === 1 ? 'another approver' : `${others} more approvers`;
}

/**
 * The "Allow in this thread…" button (`hitl_allow_thread`), for a pending approval request that has a
 * thread; undefined otherwise (a thread grant needs the request's `threadId`). Slack asks first: the
 * dialog says what the grant does, and that on a request needing several approvers it is one approval.
 */
export function allowThreadButton(record: ApprovalRecord, actionId: string): Button | undefined {
  const { request } = record;
  if (record.status !== 'pending' || request.type !== 'approval') return undefined;
  if (typeof request.threadId !== 'string' || request.threadId === '') return undefined;
  const tool = cut(request.toolName, 60);
  const others = othersNeeded(record);
  const effect =
    others === undefined
      ? `Approve this call, and let later ${tool} calls in this thread (those waiting too) run without asking until the grant is revoked.`
      : `Approve this call (one of ${record.approvalsRequired} approvals), and count your approval on later ${tool} calls in this thread (those waiting too): each still needs ${others}.`;
  return {
    type: 'button',
    action_id: actionId,
    value: request.id,
    text: { type: 'plain_text', text: 'Allow in this thread…' },
    confirm: {
      title: { type: 'plain_text', text: 'Allow in this thread?' },
      text: { type: 'plain_text', text: cut(`${effect} Policies that deny the tool or refuse grants still apply.`, 300) },
      confirm: { type: 'plain_text', text: 'Approve and allow' },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

/**
 * What a grant remembers, as a decided message says it: "allowed in this thread", "always allowed",
 * "never allowed in this run"; an approve grant on a request needing several approvers is one approval.
 */
export function describeGrant(grant: SlackGrantSummary, record: ApprovalRecord): string {
  const { threadId, runId, requestedBy } = grant.scope;
  const where =
    threadId !== undefined
      ? ' in this thread'
      : runId !== undefined
        ? ' in this run'
        : requestedBy !== undefined
          ? ' for this requester'
          : '';
  if (grant.effect === 'deny') return `never allowed${where}`;
  const allowed = where === '' ? 'always allowed' : `allowed${where}`;
  const others = othersNeeded(record);
  return others === undefined ? allowed : `${allowed} as one approval: later calls still need ${others}`;
}

/**
 * The line a message still pending (one approval of several) shows after "Allow in this thread":
 * "@alice approved; `transfer_money` allowed in this thread as one approval: later calls still need another approver".
 */
export function allowedApprovalBlock(record: ApprovalRecord, grant: SlackGrantSummary, who: string): KnownBlock {
  const text = `${who} approved; ${inlineCode(record.request.toolName, 100)} ${describeGrant(grant, record)}`;
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

/**
 * The grant a Slack message should name for `record`: the one its decision made (`response.grantId`,
 * read back from the manager), or, for an approval that left the request pending, the thread grant the
 * click just made. Undefined when there is none or it cannot be read (the message then names no grant).
 */
export async function grantToShow(
  manager: Manager,
  record: ApprovalRecord,
  { rememberedThread }: { rememberedThread: boolean },
): Promise<SlackGrantSummary | undefined> {
  const grantId = record.response?.grantId;
  if (grantId !== undefined) {
    return Promise.resolve()
      .then(() => manager.getGrant(grantId))
      .catch(() => undefined);
  }
  const threadId = record.request.threadId;
  if (rememberedThread && record.status === 'pending' && threadId !== undefined) return { effect: 'approve', scope: { threadId } };
  return undefined;
}
