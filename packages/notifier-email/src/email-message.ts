/** The approval email: subject, text and HTML of a pending request, with the reviewer's links. */
import type { ApprovalRecord } from '@hitl/core';
import { requestFacts } from '@hitl/core/internal';

/**
 * Per-reviewer decision URLs, as `createDecisionLinks(...).links` makes them.
 *
 * @example
 * ```ts
 * const links: EmailDecisionLinks = decisionLinks.links(record, 'alice@example.com');
 * ```
 */
export interface EmailDecisionLinks {
  approve: string;
  reject: string;
  view: string;
}

/**
 * One email: subject, plain text and HTML.
 *
 * @example
 * ```ts
 * const { subject, text, html }: EmailContent = toEmailContent(record);
 * ```
 */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

const HEADINGS: Record<string, string> = {
  approval: 'Approval needed',
  feedback: 'Feedback needed',
  input: 'Input needed',
  annotation: 'Annotation needed',
};

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A header-safe, single-line subject. */
function oneLine(text: string): string {
  return [...text.replace(/[\r\n\u2028\u2029]+/g, ' ')].filter((char) => char >= ' ' && char !== '\u007f').join('');
}

/**
 * The email for a pending request: what the agent wants to do, why it needs a human, and (with
 * links) Approve / Reject / Review buttons. Every piece of request data is HTML-escaped.
 *
 * @example
 * ```ts
 * import { toEmailContent } from '@hitl/notifier-email';
 *
 * const { subject, text, html } = toEmailContent(record);
 * ```
 */
export function toEmailContent(record: ApprovalRecord, links?: EmailDecisionLinks): EmailContent {
  const { request } = record;
  const given = record.approvals ?? [];
  // Four eyes: after a partial approval the request is mailed again, saying another approver is needed.
  const heading = given.length > 0 && record.status === 'pending' ? 'Another approval needed' : (HEADINGS[request.type] ?? 'Review needed');
  const rows: Array<[string, string]> = [...requestFacts(record), ['Request', request.id]];
  const required = record.approvalsRequired ?? 1;
  if (required > 1) {
    const who = given.length > 0 ? ` (${given.map((approval) => approval.by).join(', ')}, who cannot approve again)` : '';
    rows.splice(1, 0, ['Approvals', `${given.length} of ${required} distinct approvers${who}`]);
  }
  const input = cut(JSON.stringify(request.input ?? {}, null, 2), 10_000);
  const description = request.description?.trim() ? cut(request.description, 2_000) : undefined;

  const text = [
    `${heading}: ${request.toolName}`,
    '',
    ...(description ? [description, ''] : []),
    ...rows.map(([key, value]) => `${key}: ${value}`),
    '',
    'Input:',
    input,
    ...(links
      ? [
          '',
          `Approve: ${links.approve}`,
          `Reject: ${links.reject}`,
          `Review: ${links.view}`,
          '',
          'Each link opens a page to confirm; it works once.',
        ]
      : []),
  ].join('\n');

  const button = (href: string, label: string, color: string) =>
    `<a href="${escapeHtml(href)}" style="display:inline-block;padding:10px 18px;margin:0 8px 8px 0;border-radius:6px;background:${color};color:#ffffff;text-decoration:none;font-weight:600">${label}</a>`;
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1a1a1a">
<h2>${escapeHtml(`${heading}: ${request.toolName}`)}</h2>
${description ? `<p>${escapeHtml(description)}</p>` : ''}
<table cellpadding="4">${rows.map(([key, value]) => `<tr><th align="left">${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
<h3>Input</h3><pre style="background:#f4f4f5;padding:12px;white-space:pre-wrap">${escapeHtml(input)}</pre>
${links ? `<p>${button(links.approve, 'Approve', '#15803d')}${button(links.reject, 'Reject', '#b91c1c')}${button(links.view, 'Review', '#3f3f46')}</p><p style="color:#555">Each link opens a page to confirm; it works once.</p>` : ''}
</body></html>`;
  return { subject: oneLine(cut(`${heading}: ${request.toolName}`, 200)), text, html };
}
