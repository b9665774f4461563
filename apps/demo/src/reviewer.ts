/** Who a demo request identifies as its reviewer (the dashboard's reviewer header or the default). */
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
