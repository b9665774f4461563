/** The server-rendered pages of decision links: confirm a decision, or say what happened. */
import { randomBytes } from 'node:crypto';
import type { ApprovalRecord } from '@hitl/core';
import { quorumText } from './quorum-text.js';
import { requestFacts } from '@hitl/core/internal';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A fresh nonce and the strict Content-Security-Policy that allows only its style: no script at all. */
export function pageSecurity(): { nonce: string; csp: string } {
  const nonce = randomBytes(16).toString('base64');
  return {
    nonce,
    csp: `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  };
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}pre{background:#f4f4f5;padding:.75rem;overflow:auto;white-space:pre-wrap;word-break:break-word}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}
form{display:inline-block;margin:.5rem .5rem 0 0}button{font:inherit;padding:.5rem 1.25rem;border-radius:.4rem;border:1px solid #888;cursor:pointer}
.approve{background:#15803d;color:#fff;border-color:#15803d}.reject{background:#b91c1c;color:#fff;border-color:#b91c1c}
textarea{display:block;width:100%;min-height:4rem;margin:.5rem 0;font:inherit}.note{color:#555}`;

function layout(title: string, body: string, nonce: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function details(record: ApprovalRecord): string {
  const { request } = record;
  const rows = requestFacts(record);
  const quorum = quorumText(record);
  if (quorum !== undefined) rows.push(['Approvals', quorum]);
  const description = request.description ? `<p>${escapeHtml(request.description)}</p>` : '';
  return `${description}<dl>${rows.map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>
<h2>Input</h2><pre>${escapeHtml(JSON.stringify(request.input ?? {}, null, 2))}</pre>`;
}

/** The confirmation page a link opens: shows the request and forms that POST the token back. Deciding needs a click. */
export function renderConfirmPage({
  record,
  token,
  decisions,
  action,
  nonce,
}: {
  record: ApprovalRecord;
  token: string;
  decisions: ReadonlyArray<'approve' | 'reject'>;
  action: string;
  nonce: string;
}): string {
  const form = (decision: 'approve' | 'reject') =>
    `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<input type="hidden" name="decision" value="${decision}">` +
    (decision === 'reject'
      ? `<label for="feedback-${decision}">Reason (optional)</label><textarea id="feedback-${decision}" name="feedback" maxlength="2000"></textarea>`
      : '') +
    `<button type="submit" class="${decision}">${decision === 'approve' ? 'Approve' : 'Reject'}</button></form>`;
  const verb = decisions.length === 1 ? (decisions[0] === 'approve' ? 'Approve' : 'Reject') : 'Review';
  const title = `${verb} ${record.request.toolName}?`;
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>${details(record)}${decisions.map(form).join('')}
<p class="note">Nothing has been decided yet: opening this link only shows the request.</p>`,
    nonce,
  );
}

/** A page with a heading and one message: the outcome, or why the link cannot be used. */
export function renderMessagePage({
  title,
  message,
  record,
  nonce,
}: {
  title: string;
  message: string;
  record?: ApprovalRecord;
  nonce: string;
}): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${record ? details(record) : ''}`, nonce);
}
