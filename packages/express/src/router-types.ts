/** The public types of the review router: who reviews, what they may do, and the router's options. */
import type { ApprovalRecord, Decision, Grant, GrantInput, Logger, Manager, Scheduler } from '@hitl/core';
import type { Request } from 'express';

/**
 * Who is deciding: what `authenticate` returns. `id` becomes the response's `respondedBy`.
 *
 * @example
 * ```ts
 * const reviewer: Reviewer = { id: 'alice@example.com', roles: ['admin'] };
 * ```
 */
export interface Reviewer {
  /** Non-empty. Recorded as `respondedBy`; compared with the request's `requestedBy` (no self-approval). */
  id: string;
  roles?: readonly string[];
}

/**
 * What a reviewer wants to do with a record, as passed to `authorize`: see it (`view`, which also
 * filters `GET /requests` and the event stream), decide it, or remember the decision as a grant
 * (`grant`: a respond with `remember` needs both the decision's action and `grant`, so an org can
 * allow approving without allowing "always").
 *
 * @example
 * ```ts
 * const authorize = (reviewer: Reviewer, record: ApprovalRecord, action: ReviewAction) =>
 *   action === 'view' || record.request.riskLevel !== 'irreversible' || reviewer.roles?.includes('admin') === true;
 * ```
 */
export type ReviewAction = 'view' | Decision | 'grant';

/**
 * What a reviewer wants to do with a grant, as passed to `authorizeGrant`: see it (`GET /grants`,
 * the `grant-*` events), create it (`POST /grants`) or revoke it (`DELETE /grants/:id`).
 *
 * @example
 * ```ts
 * const authorizeGrant = (reviewer: Reviewer, grant: GrantInput | Grant, action: GrantAction) =>
 *   action === 'view' || reviewer.roles?.includes('admin') === true;
 * ```
 */
export type GrantAction = 'view' | 'grant' | 'revoke';

/**
 * Options of {@link createReviewRouter}.
 *
 * @example
 * ```ts
 * const options: ReviewRouterOptions = {
 *   manager,
 *   authenticate: (request) => {
 *     const id = request.get('x-reviewer');
 *     return id ? { id } : null;
 *   },
 * };
 * ```
 */
export interface ReviewRouterOptions<TReviewer extends Reviewer = Reviewer> {
  /** The manager whose requests are reviewed. */
  manager: Manager;
  /**
   * Identifies the reviewer of an HTTP request (a session cookie, a header set by your auth proxy, a
   * bearer token...). Return `null`, `undefined` or `false` for "no identity": the route answers 401.
   * Throw a `HitlError('forbidden')`, or an error whose `status` (or `statusCode`) is 401 or 403 (as
   * `http-errors` makes them), to answer that status. Required unless `allowAnonymous` is `true`.
   */
  authenticate?: (request: Request) => TReviewer | null | undefined | false | Promise<TReviewer | null | undefined | false>;
  /**
   * May the reviewer do `action` on `record`? `false` answers 403 for decisions and `GET
   * /requests/:id`, and hides the record from `GET /requests` and `/events`. Default: everyone
   * authenticated may do everything.
   */
  authorize?: (reviewer: TReviewer, record: ApprovalRecord, action: ReviewAction) => boolean | Promise<boolean>;
  /**
   * May the reviewer do `action` on a grant? For `'grant'` (`POST /grants`, which has no record) it
   * gets the would-be grant as sent (`grantedBy` set to the reviewer); for `'view'` and `'revoke'`
   * the stored grant. Default: when `authorize` is set and this is not, the grant routes answer 403
   * and grant events are not streamed (fail closed); when neither is set, everyone authenticated may.
   */
  authorizeGrant?: (reviewer: TReviewer, grant: GrantInput | Grant, action: GrantAction) => boolean | Promise<boolean>;
  /**
   * May the reviewer list the outbox's deliveries (`GET /deliveries`) and redeliver a dead one
   * (`POST /deliveries/:id/redeliver`)? `false` answers 403. Default: everyone authenticated when
   * there is no `authorize`, nobody when there is one.
   */
  manageDeliveries?: (reviewer: TReviewer) => boolean | Promise<boolean>;
  /**
   * Lets requests without an identity through as the reviewer `{ id: 'anonymous' }`. Only for
   * development, or behind a proxy that already restricts who reaches the router. Default `false`.
   */
  allowAnonymous?: boolean;
  /** Serve the dashboard page at `GET /`. Default `true`. */
  dashboard?: boolean;
  /**
   * Where the dashboard's "Sign out" link goes (your auth proxy's or app's sign-out page, opened with
   * a plain GET): a path (`'/logout'`; one without a leading `/` is resolved against the router's
   * mount path, as the page's API calls are) or an `http(s)` URL. `GET /me` returns it. Default: no
   * link.
   */
  signOutUrl?: string;
  /** Largest JSON body accepted on the POST routes: bytes, or a string such as `'64kb'`. Default `'64kb'`. */
  bodyLimit?: number | string;
  /** How often an idle event stream gets a heartbeat comment, in ms. Default 15 000. */
  heartbeatMs?: number;
  /** How many recent events are kept for `Last-Event-ID` resume. Default 1 000. */
  eventBufferSize?: number;
  /**
   * How long the router keeps recording events after the last stream closed, so a client that
   * reconnects can still resume, in ms. `0` releases the manager subscription at once. Default 60 000.
   */
  resumeWindowMs?: number;
  /** Where unexpected (500) errors are logged. Default `console`. */
  logger?: Pick<Logger, 'error'>;
  /** Timers for heartbeats and the resume window. Default the global `setTimeout`/`clearTimeout`. */
  scheduler?: Scheduler;
}
