/**
 * The reviewer dashboard page: static HTML with the built script and CSS inline (src/dashboard,
 * built into dist/dashboard), allowed by their sha256 hashes in a strict Content-Security-Policy.
 * The page is the same for every reviewer, so it carries an ETag and can be cached. It talks to the
 * router with relative URLs, so it works under any mount path.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Request, Response } from 'express';

/** The built assets: `dist/dashboard/*` seen from `src/` (tests) and from `dist/` (the package) alike. */
const assetsDirectory = new URL('../dist/dashboard/', import.meta.url);

export interface DashboardPage {
  html: string;
  contentSecurityPolicy: string;
  etag: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/** The page for `script` and `styles`, with the CSP that allows exactly them. */
export function renderDashboardPage(script: string, styles: string): DashboardPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pending approvals · hitl</title>
<style>${styles}</style>
</head>
<body>
<header class="top">
  <h1 id="pending-heading" tabindex="-1">Pending approvals <span class="count" id="pending-count" data-testid="pending-count"></span></h1>
  <div class="tabs" role="tablist" aria-label="Views">
    <button type="button" role="tab" id="tab-pending" aria-selected="true" aria-controls="pending-view" data-testid="tab-pending">Pending</button>
    <button type="button" role="tab" id="tab-history" aria-selected="false" aria-controls="history-view" tabindex="-1" data-testid="tab-history">History</button>
    <button type="button" role="tab" id="tab-grants" aria-selected="false" aria-controls="grants-view" tabindex="-1" data-testid="tab-grants">Grants</button>
  </div>
  <span class="spacer"></span>
  <span class="whoami" id="whoami" data-testid="whoami"></span>
  <span class="status" id="connection-status" data-testid="connection-status" data-state="connecting" role="status">Connecting…</span>
  <button type="button" id="help-button" data-testid="help-button" aria-label="Keyboard shortcuts" aria-keyshortcuts="?">?</button>
</header>
<main>
  <p class="notice" id="notice" data-testid="notice" role="alert" hidden></p>
  <section id="pending-view" role="tabpanel" aria-labelledby="tab-pending">
    <div class="history-filters" role="search" aria-label="Filter the pending requests">
      <label>Thread<span class="visually-hidden"> of pending requests</span> <input id="pending-thread" data-testid="pending-filter-thread" type="text" spellcheck="false"></label>
      <label>Run<span class="visually-hidden"> of pending requests</span> <input id="pending-run" data-testid="pending-filter-run" type="text" spellcheck="false"></label>
      <button type="button" id="pending-clear" data-testid="pending-filter-clear" hidden>Clear filters<span class="visually-hidden"> of pending requests</span></button>
    </div>
    <p class="empty" id="empty" data-testid="empty-state">No pending requests. New ones appear here as soon as an agent asks.</p>
    <ul class="list" id="requests" data-testid="request-list" aria-label="Pending requests"></ul>
    <button type="button" id="show-more" data-testid="show-more" hidden>Show more</button>
  </section>
  <section id="history-view" role="tabpanel" aria-labelledby="tab-history" hidden>
    <div class="history-filters" role="search" aria-label="Filter the history">
      <label>Tool <input id="filter-tool" data-testid="filter-tool" type="text" list="filter-tool-names" placeholder="any tool" spellcheck="false" autocomplete="off"></label>
      <datalist id="filter-tool-names"></datalist>
      <label>Outcome <select id="filter-status" data-testid="filter-status">
        <option value="">All outcomes</option><option value="approved">approved</option><option value="modified">approved with edits</option>
        <option value="rejected">rejected</option><option value="expired">expired</option><option value="cancelled">cancelled</option>
      </select></label>
      <label>Reviewer <input id="filter-reviewer" data-testid="filter-reviewer" type="text" spellcheck="false"></label>
      <label>Search <input id="filter-search" data-testid="filter-search" type="search" spellcheck="false"></label>
      <label>Thread<span class="visually-hidden"> of decided requests</span> <input id="history-thread" data-testid="history-filter-thread" type="text" spellcheck="false"></label>
      <label>Run<span class="visually-hidden"> of decided requests</span> <input id="history-run" data-testid="history-filter-run" type="text" spellcheck="false"></label>
      <label>Asked after <input id="history-after" data-testid="history-filter-after" type="datetime-local" step="1"></label>
      <label>Asked before <input id="history-before" data-testid="history-filter-before" type="datetime-local" step="1"></label>
      <button type="button" id="history-clear" data-testid="history-filter-clear" hidden>Clear filters<span class="visually-hidden"> of decided requests</span></button>
    </div>
    <p class="hint" id="history-scope" data-testid="history-scope" role="status" hidden></p>
    <p class="empty" id="history-empty" data-testid="history-empty" hidden>No decided request matches.</p>
    <ul class="list" id="history" data-testid="history-list" aria-label="Decided requests"></ul>
    <button type="button" id="history-more" data-testid="history-more" hidden>Load older decisions</button>
  </section>
  <section id="grants-view" role="tabpanel" aria-labelledby="tab-grants" hidden>
    <p class="hint">Remembered decisions in force: calls they cover are approved or rejected without asking. Revoke one to be asked again.</p>
    <p class="notice" id="grants-notice" data-testid="grants-notice" role="alert" hidden></p>
    <p class="empty" id="grants-empty" data-testid="grants-empty" hidden>No grant is in force. "Allow in this thread", "Always allow" and "Never allow" on a request create one.</p>
    <ul class="list" id="grants" data-testid="grants-list" aria-label="Grants in force"></ul>
  </section>
  <p class="visually-hidden" id="announcer" aria-live="polite"></p>
</main>
<dialog id="help" aria-labelledby="help-title" data-testid="help-dialog">
  <h2 id="help-title">Keyboard shortcuts</h2>
  <dl class="facts">
    <dt><kbd>j</kbd> / <kbd>k</kbd></dt><dd>next / previous request</dd>
    <dt><kbd>a</kbd></dt><dd>approve the selected request (irreversible ones ask first, as their button does)</dd>
    <dt><kbd>r</kbd></dt><dd>reject the selected request</dd>
    <dt><kbd>?</kbd></dt><dd>this help</dd>
  </dl>
  <button type="button" id="help-close">Close</button>
</dialog>
<dialog id="confirm" role="alertdialog" aria-labelledby="confirm-title" aria-describedby="confirm-text" data-testid="confirm-dialog">
  <h2 id="confirm-title">Confirm an irreversible approval</h2>
  <p id="confirm-text"></p>
  <div class="actions">
    <button type="button" class="danger" id="confirm-yes" data-testid="confirm-yes">Approve, it cannot be undone</button>
    <button type="button" id="confirm-no" data-testid="confirm-no">Cancel</button>
  </div>
</dialog>
<script>${script}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'sha256-${sha256(script)}'`,
    `style-src 'sha256-${sha256(styles)}'`,
    "connect-src 'self'",
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"` };
}

/** Reads the built assets (once, when a router is created) and renders the page. */
export function loadDashboardPage(): DashboardPage {
  let script: string;
  let styles: string;
  try {
    script = readFileSync(new URL('dashboard.js', assetsDirectory), 'utf8');
    styles = readFileSync(new URL('dashboard.css', assetsDirectory), 'utf8');
  } catch (error) {
    throw new Error(
      `@hitl/express: the dashboard's built assets are missing from ${assetsDirectory.pathname} (run the package's build, or pass dashboard: false)`,
      { cause: error },
    );
  }
  // The script ends up inside <script>: a closing tag in it would end it early.
  if (/<\/script/i.test(script) || /<\/style/i.test(styles)) throw new Error('@hitl/express: the dashboard assets contain a closing tag');
  return renderDashboardPage(script, styles);
}

/** `GET /`: the page, revalidated by ETag. */
export function dashboardHandler(page: DashboardPage): (request: Request, response: Response) => void {
  return (request, response) => {
    response.set({
      'Content-Security-Policy': page.contentSecurityPolicy,
      'Cache-Control': 'no-cache',
      ETag: page.etag,
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
    });
    if (request.get('if-none-match') === page.etag) {
      response.status(304).end();
      return;
    }
    response.status(200).type('text/html; charset=utf-8').send(page.html);
  };
}
