/** The review router: the reviewer REST API, the event stream and the dashboard, on a manager. */
import { HitlError } from '@hitl/core';
import { defaultScheduler, describeValue } from '@hitl/core/internal';
import type { ApprovalRecord, Grant, GrantInput, Scheduler } from '@hitl/core';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { dashboardHandler, loadDashboardPage } from './dashboard-page.js';
import { addDeliveryRoutes } from './delivery-routes.js';
import { createEventHub } from './event-hub.js';
import { openEventStream } from './event-stream.js';
import { authenticationFailure, RouteFailure, toHttpFailure } from './http-errors.js';
import { idempotencyKeyOf } from './idempotency-key.js';
import { parseListQuery, parseRespondBody, parseShortcutBody, readJsonBody, type RouteDecision } from './request-parsing.js';
import { validateOptions } from './router-options.js';

export type { GrantAction, ReviewAction, ReviewRouterOptions, Reviewer } from './router-types.js';
import type { GrantAction, ReviewAction, ReviewRouterOptions, Reviewer } from './router-types.js';
import { addGrantRoutes } from './grant-routes.js';

const ANONYMOUS: Reviewer = Object.freeze({ id: 'anonymous' });

/**
 * Creates the reviewer API as an Express router: list and read requests, decide them, follow them
 * live over Server-Sent Events, and a dashboard page. With a store that has an outbox, `GET
 * /deliveries?state=dead` lists notification deliveries and `POST /deliveries/:id/redeliver` sends one again. Mount it where you like; the dashboard uses
 * relative URLs.
 *
 * Routes: `GET /requests`, `GET /requests/:id`, `POST /requests/:id/respond` (`{ decision,
 * feedback?, modified?, remember? }`; answers the decided record, whose `response.grantId` names the
 * grant `remember` made), `POST /requests/:id/approve|reject`, `POST /requests/respond` (`{ ids } |
 * { runId } | { threadId }` with `decision` and `feedback?`, all or nothing: 200 `{ items }`),
 * `GET /grants` (`?active=true|false&tool=&threadId=`: `{ items }`), `POST /grants` (201, the grant),
 * `DELETE /grants/:id` (200, the revoked grant), `GET /events` (SSE: `request-*` events with
 * `{ type, record }`, `grant-created`/`grant-revoked` with `{ type, grant }`), `GET /` (dashboard).
 *
 * Every error is JSON `{ error: { code, message, details? } }` (`details`: the field, value, path or
 * ids it is about; plus `ids` when it is about several requests, as a bulk `conflict` is): 400 bad input, 401 no identity, 403 refused
 * by `authorize` or self-approval, 404 unknown id, 409 already decided or expired, 413 body over
 * `bodyLimit`, 415 a POST that is not `application/json` (which also stops cross-site form posts),
 * 503 store unavailable, 500 (generic message, no stack) for anything unexpected.
 *
 * Throws `HitlError('invalid_input')` at once for bad options, including a router without
 * `authenticate` and without `allowAnonymous: true`.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createManager } from '@hitl/core';
 * import { createReviewRouter } from '@hitl/express';
 *
 * const manager = createManager();
 * const app = express();
 * app.use(
 *   '/hitl',
 *   createReviewRouter({
 *     manager,
 *     authenticate: (request) => {
 *       const id = request.get('x-reviewer');
 *       return id ? { id, roles: id === 'alice' ? ['admin'] : [] } : null;
 *     },
 *     authorize: (reviewer, record, action) =>
 *       action === 'view' || record.request.riskLevel !== 'irreversible' || reviewer.roles?.includes('admin') === true,
 *   }),
 * );
 * app.listen(3000);
 * ```
 */
export function createReviewRouter<TReviewer extends Reviewer = Reviewer>(options: ReviewRouterOptions<TReviewer>): Router {
  validateOptions(options as unknown as ReviewRouterOptions<Reviewer>);
  const {
    manager,
    authenticate,
    authorize,
    authorizeGrant,
    allowAnonymous = false,
    dashboard = true,
    bodyLimit = '64kb',
    heartbeatMs = 15_000,
    eventBufferSize = 1_000,
    resumeWindowMs = 60_000,
    logger = console,
  } = options;
  const scheduler: Scheduler = options.scheduler ?? defaultScheduler;
  const hub = createEventHub({ manager, bufferSize: eventBufferSize, resumeWindowMs, scheduler });
  const jsonParser = express.json({ limit: bodyLimit, strict: true, type: () => true });
  const router: Router = express.Router();

  const identify = async (request: Request): Promise<TReviewer> => {
    let reviewer: unknown;
    try {
      reviewer = authenticate ? await authenticate(request) : undefined;
    } catch (error) {
      throw authenticationFailure(error);
    }
    // Any falsy answer (null, undefined, false, '', 0) means "no identity", never a server error.
    if (!reviewer) {
      if (allowAnonymous) return ANONYMOUS as TReviewer;
      throw new RouteFailure(401, 'unauthorized', 'no reviewer identity: sign in to review requests');
    }
    if (typeof reviewer !== 'object' || typeof (reviewer as Reviewer).id !== 'string' || (reviewer as Reviewer).id.trim() === '') {
      throw new Error('authenticate returned a reviewer without a non-empty string id');
    }
    return reviewer as TReviewer;
  };

  const allowed = async (reviewer: TReviewer, record: ApprovalRecord, action: ReviewAction) => {
    if (!authorize) return true;
    return (await authorize(reviewer, record, action)) === true;
  };

  // With authorize but no authorizeGrant, nobody was said to be allowed grants: refuse (fail closed).
  const grantsClosed = authorize !== undefined && authorizeGrant === undefined;
  const grantAllowed = async (reviewer: TReviewer, grant: GrantInput | Grant, action: GrantAction) => {
    if (grantsClosed) return false;
    if (!authorizeGrant) return true;
    return (await authorizeGrant(reviewer, grant, action)) === true;
  };

  /**
   * A record the reviewer may not view answers 404, as if it did not exist (another tenant's ids do
   * not leak); one they may view but not decide this way answers 403.
   */
  const requireAllowed = async (reviewer: TReviewer, record: ApprovalRecord, action: ReviewAction) => {
    if (!(await allowed(reviewer, record, 'view'))) {
      throw new HitlError('not_found', `request '${record.request.id}' does not exist`, { details: { ids: [record.request.id] } });
    }
    if (action !== 'view' && !(await allowed(reviewer, record, action))) {
      throw new RouteFailure(403, 'forbidden', `reviewer '${reviewer.id}' may not ${action} request '${record.request.id}'`);
    }
  };

  const readRecord = async (id: string): Promise<ApprovalRecord> => {
    const record = await manager.get(id);
    if (!record) throw new HitlError('not_found', `request '${id}' does not exist`, { details: { ids: [id] } });
    return record;
  };

  const decide = async (request: Request, response: Response, reviewer: TReviewer, input: RouteDecision) => {
    const id = String(request.params.id);
    const record = await readRecord(id);
    await requireAllowed(reviewer, record, input.decision);
    // Remembering a decision makes a grant: the reviewer needs the grant action too.
    if (input.remember !== undefined) await requireAllowed(reviewer, record, 'grant');
    const key = request.get('idempotency-key');
    if (key !== undefined && !/^[\x21-\x7e]{1,100}$/.test(key)) {
      throw new HitlError('invalid_input', 'the Idempotency-Key header must be 1 to 100 visible ASCII characters', {
        details: { field: 'Idempotency-Key', value: describeValue(key) },
      });
    }
    // A retry carrying the same key (and reviewer) gets the recorded decision back instead of 409.
    const idempotency = key === undefined ? {} : { idempotencyKey: idempotencyKeyOf(reviewer.id, key) };
    const decided = await manager.respond(id, { ...input, ...idempotency, respondedBy: reviewer.id });
    sendJson(response, 200, decided);
  };

  router.get('/requests', async (request, response) => {
    const reviewer = await identify(request);
    const query = parseListQuery(request.query);
    const page = await manager.list(query);
    let items = page.items;
    if (authorize) {
      const verdicts = await Promise.all(items.map((record) => allowed(reviewer, record, 'view')));
      items = items.filter((_record, index) => verdicts[index]);
    }
    sendJson(response, 200, page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor });
  });

  addGrantRoutes(router, {
    manager,
    identify,
    allowed,
    grantsClosed,
    grantAllowed,
    readBody: (request, response) => readJsonBody(jsonParser, request, response),
    sendJson,
  });

  router.get('/requests/:id', async (request, response) => {
    const reviewer = await identify(request);
    const record = await readRecord(String(request.params.id));
    await requireAllowed(reviewer, record, 'view');
    sendJson(response, 200, record);
  });

  router.post('/requests/:id/respond', async (request, response) => {
    const reviewer = await identify(request);
    const body = await readJsonBody(jsonParser, request, response);
    await decide(request, response, reviewer, parseRespondBody(body));
  });

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/requests/:id/${decision}`, async (request, response) => {
      const reviewer = await identify(request);
      const body = await readJsonBody(jsonParser, request, response);
      await decide(request, response, reviewer, parseShortcutBody(body, decision));
    });
  }

  router.get('/events', async (request, response) => {
    const reviewer = await identify(request);
    openEventStream({
      request,
      response,
      hub,
      scheduler,
      heartbeatMs,
      logger,
      canView: authorize ? (record) => allowed(reviewer, record, 'view') : undefined,
      canViewGrant: authorize || authorizeGrant ? (grant) => grantAllowed(reviewer, grant, 'view') : undefined,
    });
  });

  addDeliveryRoutes(router, {
    manager,
    identify,
    mayManage: async (reviewer) => (options.manageDeliveries ? (await options.manageDeliveries(reviewer)) === true : !authorize),
    send: sendJson,
  });

  if (dashboard) router.get('/', dashboardHandler(loadDashboardPage()));
  router.get('/me', async (request, response) => {
    const { id } = await identify(request);
    sendJson(response, 200, options.signOutUrl === undefined ? { id } : { id, signOutUrl: options.signOutUrl });
  });

  // Any error of the routes above (HitlError, RouteFailure, body-parser errors, bugs) becomes JSON.
  router.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    if (response.headersSent) {
      // A stream already started: nothing sensible can be sent any more.
      if (!response.writableEnded) response.end();
      return;
    }
    const failure = toHttpFailure(error);
    if (!failure.expected) logger.error('hitl: the review router failed to handle a request', error);
    const body = {
      code: failure.code,
      message: failure.message,
      ...(failure.ids === undefined ? {} : { ids: failure.ids }),
      ...(failure.details === undefined ? {} : { details: failure.details }),
    };
    sendJson(response, failure.status, { error: body });
  });

  return router;
}

function sendJson(response: Response, status: number, body: unknown): void {
  response.status(status);
  response.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  response.json(body);
}
