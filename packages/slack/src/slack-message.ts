/** The Slack approval message: a pending request as blocks with buttons, and its decided form. */
import type { ApprovalRecord } from '@hitl/core';
import type { Button, KnownBlock } from '@slack/web-api';
import { allowThreadButton, allowedApprovalBlock, describeGrant, type SlackGrantSummary } from './slack-allow-thread.js';
import { needsSeveralApprovals, quorumBlocks } from './slack-quorum.js';
import { cut, escapeText, inlineCode, summarizeInput } from './slack-text.js';

/**
 * The `action_id` of each button the Slack message carries; the button's `value` is the request id.
 *
 * @example
 * ```ts
 * SlackActionId.Approve; // 'hitl_approve'
 * ```
 */
export const SlackActionId = {
  Approve: 'hitl_approve',
  Reject: 'hitl_reject',
  Edit: 'hitl_edit',
  /** Approve, and remember it for the request's thread (a grant); only on approval requests with a `threadId`. */
  AllowThread: 'hitl_allow_thread',
} as const;
/**
 * One of {@link SlackActionId}.
 *
 * @example
 * ```ts
 * const action: SlackActionId = 'hitl_reject';
 * ```
 */
export type SlackActionId = (typeof SlackActionId)[keyof typeof SlackActionId];

/**
 * A Slack message as `chat.postMessage` / `chat.update` take it: fallback `text` plus Block Kit `blocks`.
 *
 * @example
 * ```ts
 * const message: SlackApprovalMessage = toSlackApprovalMessage(record, { mask: ['password'] });
 * ```
 */
export interface SlackApprovalMessage {
  text: string;
  blocks: KnownBlock[];
}

/**
 * How a decided message names who decided.
 *
 * @example
 * ```ts
 * const note: SlackDecisionNote = { slackUserId: 'U0123ABCD', alreadyDecided: true };
 * ```
 */
export interface SlackDecisionNote {
  /** The Slack user who decided here, shown as a mention; otherwise `respondedBy` is shown as text. */
  slackUserId?: string;
  /** Whether the viewer lost a race: "Already decided by …". */
  alreadyDecided?: boolean;
  /** The grant made with the decision (or with this approval of several), named after it: "…, allowed in this thread". */
  grant?: SlackGrantSummary;
}

const HEADINGS: Record<string, string> = {
  approval: 'Approval needed',
  feedback: 'Feedback needed',
  input: 'Input needed',
  annotation: 'Annotation needed',
};

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,30}$/;

const VERBS: Record<string, string> = {
  approved: 'Approved',
  rejected: 'Rejected',
  modified: 'Approved with edits',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

/** Whether the request carries a JSON Schema with properties an Edit modal can show. */
export function hasEditableSchema(record: ApprovalRecord): boolean {
  const properties = (record.request.inputSchema as { properties?: unknown } | undefined)?.properties;
  return typeof properties === 'object' && properties !== null && Object.keys(properties).length > 0;
}

function slackDate(iso: string | undefined): string {
  if (iso === undefined) return 'never';
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return escapeText(iso);
  const fallback = `${new Date(ms).toISOString().slice(11, 16)} UTC`;
  // Slack shows <!date^…> in each viewer's own time zone; the text after | is the fallback.
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

function summaryBlocks(record: ApprovalRecord, mask: readonly string[]): KnownBlock[] {
  const { request } = record;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${HEADINGS[request.type] ?? 'Review needed'}: ${request.toolName}`, 150), emoji: false },
    },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Tool*\n${inlineCode(request.toolName)}` },
        { type: 'mrkdwn', text: `*Risk*\n${escapeText(request.riskLevel ?? 'irreversible')}` },
        { type: 'mrkdwn', text: `*Confidence*\n${(request.confidence ?? 0).toFixed(2)}` },
        { type: 'mrkdwn', text: `*Expires*\n${slackDate(record.expiresAt)}` },
      ],
    },
  ];
  if (request.description !== undefined && request.description.trim() !== '') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeText(cut(request.description, 2_900)) } });
  }
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: summarizeInput(request.input, { mask }) } });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: escapeText(cut(`Why: ${record.evaluation.reason} · request ${request.id}`, 2_900)) }],
  });
  blocks.push(...quorumBlocks(record));
  return blocks;
}

/** A request still pending after one approval of several; an approval that made a grant says so above the buttons. */
function pendingAfterApproval(
  record: ApprovalRecord,
  { mask, slackUserId, grant }: { mask: readonly string[]; slackUserId: string | undefined; grant: SlackGrantSummary | undefined },
): SlackApprovalMessage {
  const message = toSlackApprovalMessage(record, { mask });
  if (grant === undefined) return message;
  const approver = record.approvals?.at(-1)?.by;
  const who =
    slackUserId !== undefined && SLACK_USER_ID.test(slackUserId)
      ? `<@${slackUserId}>`
      : approver !== undefined
        ? inlineCode(approver, 100)
        : 'A reviewer';
  const blocks = [...message.blocks];
  blocks.splice(blocks.length - 1, 0, allowedApprovalBlock(record, grant, who));
  return { ...message, blocks };
}

function fallbackText(record: ApprovalRecord, prefix: string): string {
  const { request } = record;
  // The top-level text is the notification and is parsed like mrkdwn: escape everything from the request.
  return `${prefix}: ${escapeText(cut(request.toolName, 200))} (risk ${escapeText(request.riskLevel ?? 'irreversible')}, confidence ${(request.confidence ?? 0).toFixed(2)})`;
}

/**
 * The Block Kit message `createSlackNotifier` posts for a pending request: tool, risk, confidence,
 * expiry, description, a summary of the input (keys in `mask` masked), the policy's reason, and
 * Approve / Reject / Edit buttons (Edit only when the request carries an `inputSchema`), plus "Allow in
 * this thread…" on an approval request that has a `threadId` (Slack asks for confirmation first). Every
 * piece of request data is escaped, so `<!channel>` in an input pings nobody.
 *
 * @example
 * ```ts
 * import { toSlackApprovalMessage } from '@hitl/slack';
 *
 * const { text, blocks } = toSlackApprovalMessage(record, { mask: ['password', 'apiKey'] });
 * ```
 */
export function toSlackApprovalMessage(record: ApprovalRecord, { mask = [] }: { mask?: readonly string[] } = {}): SlackApprovalMessage {
  const id = record.request.id;
  const elements: Button[] = [
    { type: 'button', action_id: SlackActionId.Approve, value: id, style: 'primary', text: { type: 'plain_text', text: 'Approve' } },
    { type: 'button', action_id: SlackActionId.Reject, value: id, style: 'danger', text: { type: 'plain_text', text: 'Reject…' } },
  ];
  // A request that needs several approvers cannot be modified: no Edit offered.
  if (hasEditableSchema(record) && !needsSeveralApprovals(record)) {
    elements.push({ type: 'button', action_id: SlackActionId.Edit, value: id, text: { type: 'plain_text', text: 'Edit…' } });
  }
  const allowThread = allowThreadButton(record, SlackActionId.AllowThread);
  if (allowThread !== undefined) elements.push(allowThread);
  const blocks = [...summaryBlocks(record, mask), { type: 'actions', block_id: 'hitl_actions', elements } satisfies KnownBlock];
  const heading = HEADINGS[record.request.type] ?? 'Review needed';
  return { text: fallbackText(record, heading), blocks };
}

/**
 * The message a decided request's Slack message is replaced with: the same summary, with the buttons
 * replaced by who decided and when ("Approved by @alice at 14:02", "Already decided by @bob"), and what
 * the decision's grant remembers ("…, allowed in this thread").
 *
 * @example
 * ```ts
 * const message = toSlackDecidedMessage(record, { slackUserId: 'U123' });
 * ```
 */
export function toSlackDecidedMessage(
  record: ApprovalRecord,
  { mask = [], slackUserId, alreadyDecided = false, grant }: SlackDecisionNote & { mask?: readonly string[] } = {},
): SlackApprovalMessage {
  // One approval of several (four eyes): still pending, so the buttons stay for the next approver.
  if (record.status === 'pending') return pendingAfterApproval(record, { mask, slackUserId, grant });
  const response = record.response;
  const verb = VERBS[record.status] ?? escapeText(record.status);
  const metadataUser = (response?.metadata?.slack as { userId?: unknown } | undefined)?.userId;
  // Who won: the Slack user recorded with the decision; else (this click won) the clicker; else the reviewer id.
  const decider = typeof metadataUser === 'string' ? metadataUser : alreadyDecided ? undefined : slackUserId;
  const who =
    decider !== undefined && SLACK_USER_ID.test(decider)
      ? `<@${decider}>`
      : response?.respondedBy !== undefined
        ? inlineCode(response.respondedBy, 100)
        : response?.automatic
          ? 'a policy'
          : 'someone';
  const when = response?.respondedAt ?? new Date().toISOString();
  let line = alreadyDecided
    ? `Already decided by ${who}: ${verb.toLowerCase()} at ${slackDate(when)}`
    : `${verb} by ${who} at ${slackDate(when)}`;
  if (record.status === 'expired' || record.status === 'cancelled') line = `${verb} at ${slackDate(when)}`;
  else if (grant !== undefined) line += `, ${describeGrant(grant, record)}`;
  if (response?.feedback) line += `\n>${escapeText(cut(response.feedback, 1_000)).replace(/\n/g, '\n>')}`;
  const icon = record.status === 'approved' || record.status === 'modified' ? '✅' : record.status === 'rejected' ? '⛔' : '⏹';
  const blocks = [
    ...summaryBlocks(record, mask),
    { type: 'section', text: { type: 'mrkdwn', text: `${icon} ${line}` } } satisfies KnownBlock,
  ];
  return { text: fallbackText(record, verb), blocks };
}
