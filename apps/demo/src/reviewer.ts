import type { Request } from 'express';

/** Who decides when nobody named themselves on the start page. */
export const defaultReviewer = 'demo-reviewer';

/** The demo's sign-in: the name typed on the start page (a cookie), or an `x-reviewer` header. */
export function reviewerOf(request: Request): { id: string; chosen: boolean } {
  const fromCookie = /(?:^|;\s*)hitl_reviewer=([^;]+)/.exec(request.get('cookie') ?? '')?.[1];
  let named = request.get('x-reviewer');
  if (named === undefined && fromCookie) {
    try {
      named = decodeURIComponent(fromCookie);
    } catch {
      named = undefined;
    }
  }
  const id = (named ?? '').trim().slice(0, 64);
  return id ? { id, chosen: true } : { id: defaultReviewer, chosen: false };
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character] as string);

/**
 * Adds "Deciding as <name> · change" to the dashboard's header. Plain markup only (no script, no
 * style), so the page's Content-Security-Policy is untouched.
 */
export function withReviewerBanner(page: string, reviewer: { id: string; chosen: boolean }): string {
  const banner = `<p data-testid="demo-reviewer">Deciding as <strong>${escapeHtml(reviewer.id)}</strong>${
    reviewer.chosen ? '' : ' (the demo default)'
  } · <a href="/">change who you are on the start page</a></p>\n`;
  return page.includes('</header>') ? page.replace('</header>', `${banner}</header>`) : page;
}
