import { randomBytes } from 'node:crypto';
import { HitlError, isRequestStatus } from '@hitl/core';
import { defaultScheduler, describeValue, isPlainObject, requireManager } from '@hitl/core/internal';
import type { ApprovalRecord, Decision, ListQuery, Logger, Manager, RespondInput, Scheduler } from '@hitl/core';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { dashboardContentSecurityPolicy, renderDashboardPage } from './dashboard-page.js';
import { createEventHub, type StreamEntry } from './event-hub.js';
import { authenticationFailure, RouteFailure, toHttpFailure } from './http-errors.js';
import { idempotencyKeyOf } from './idempotency-key.js';

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
 * filters `GET /requests` and the event stream), or decide it.
 *
 * @example
 * ```ts
 * const authorize = (reviewer: Reviewer, record: ApprovalRecord, action: ReviewAction) =>
 *   action === 'view' || record.request.riskLevel !== 'irreversible' || reviewer.roles?.includes('admin') === true;
 * ```
 */
export type ReviewAction = 'view' | Decision;

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
   * Lets requests without an identity through as the reviewer `{ id: 'anonymous' }`. Only for
   * development, or behind a proxy that already restricts who reaches the router. Default `false`.
   */
  allowAnonymous?: boolean;
  /** Serve the dashboard page at `GET /`. Default `true`. */
  dashboard?: boolean;
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

const ANONYMOUS: Reviewer = Object.freeze({ id: 'anonymous' });
const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;
const RETRY_MS = 3_000;
const respondFields: ReadonlySet<string> = new Set(['decision', 'feedback', 'modified']);
const shortcutFields: ReadonlySet<string> = new Set(['feedback']);
const listFields: ReadonlySet<string> = new Set(['status', 'toolName', 'limit', 'cursor']);
const byteSizePattern = /^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i;

/** Like `invalidInput`, but the value is shown by its kind ('boolean', 'object') and the message names createReviewRouter. */
function invalidOption(field: string, value: unknown, problem: string): HitlError {
  const shown = typeof value === 'string' ? `'${value.slice(0, 60)}'` : typeof value === 'number' ? String(value) : typeof value;
  return new HitlError('invalid_input', `createReviewRouter: options.${field} ${shown} ${problem}`, { details: { field: `options.${field}`, value: shown } });
}

function validateOptions(options: ReviewRouterOptions<Reviewer>): void {
  if (!isPlainObject(options)) throw new HitlError('invalid_input', 'createReviewRouter: options must be an object');
  requireManager(options.manager, ['get', 'list', 'respond', 'subscribe'], 'options.manager');
  if (options.allowAnonymous !== undefined && typeof options.allowAnonymous !== 'boolean') {
    throw invalidOption('allowAnonymous', options.allowAnonymous, 'must be a boolean');
  }
  if (options.authenticate === undefined) {
    if (options.allowAnonymous !== true) {
      throw new HitlError(
        'invalid_input',
        'createReviewRouter: options.authenticate is required to identify reviewers; pass allowAnonymous: true to let anyone who reaches the router decide requests',
      );
    }
  } else if (typeof options.authenticate !== 'function') {
    throw invalidOption('authenticate', options.authenticate, 'must be a function (request) => { id, roles? } | null');
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw invalidOption('authorize', options.authorize, 'must be a function (reviewer, record, action) => boolean');
  }
  if (options.dashboard !== undefined && typeof options.dashboard !== 'boolean') {
    throw invalidOption('dashboard', options.dashboard, 'must be a boolean');
  }
  const { bodyLimit } = options;
  if (bodyLimit !== undefined) {
    const valid =
      typeof bodyLimit === 'number' ? Number.isSafeInteger(bodyLimit) && bodyLimit > 0 : typeof bodyLimit === 'string' && byteSizePattern.test(bodyLimit);
    if (!valid) throw invalidOption('bodyLimit', bodyLimit, "must be a positive number of bytes or a size such as '64kb'");
  }
  const positive = (field: 'heartbeatMs' | 'eventBufferSize' | 'resumeWindowMs', value: unknown, allowZero: boolean, integer: boolean) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !allowZero) || (integer && !Number.isInteger(value))) {
      throw invalidOption(field, value, `must be a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'finite number'}`);
    }
  };
  positive('heartbeatMs', options.heartbeatMs, false, false);
  positive('eventBufferSize', options.eventBufferSize, false, true);
  positive('resumeWindowMs', options.resumeWindowMs, true, false);
  if (options.eventBufferSize !== undefined && options.eventBufferSize > 100_000) {
    throw invalidOption('eventBufferSize', options.eventBufferSize, 'must be at most 100000');
  }
  if (options.logger !== undefined && (typeof options.logger !== 'object' || options.logger === null || typeof options.logger.error !== 'function')) {
    throw invalidOption('logger', options.logger, 'must have an error function');
  }
  const { scheduler } = options;
  if (
    scheduler !== undefined &&
    (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.setTimeout !== 'function' || typeof scheduler.clearTimeout !== 'function')
  ) {
    throw invalidOption('scheduler', scheduler, 'must have setTimeout and clearTimeout functions');
  }
}

/** The media type of a request, lower-cased, without parameters; `undefined` when there is none. */
function mediaType(request: Request): string | undefined {
  const header = request.headers['content-type'];
  if (typeof header !== 'string') return undefined;
  return header.split(';', 1)[0]?.trim().toLowerCase();
}

/** The `charset` parameter of the Content-Type, lower-cased, when there is one. */
function charsetOf(request: Request): string | undefined {
  const header = request.headers['content-type'];
  if (typeof header !== 'string') return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(header);
  return match?.[1]?.toLowerCase();
}

/** Validates a list query: known keys, each given once, with valid values. */
function parseListQuery(query: Request['query']): ListQuery {
  const result: ListQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (!listFields.has(key)) {
      throw new HitlError('invalid_input', `query parameter '${key.slice(0, 40)}' is not supported (use status, toolName, limit and cursor)`);
    }
    if (typeof value !== 'string') throw new HitlError('invalid_input', `query parameter '${key}' must be given once, as a plain value`);
    if (value === '') throw new HitlError('invalid_input', `query parameter '${key}' must not be empty`);
  }
  const { status, toolName, limit, cursor } = query as Record<string, string | undefined>;
  if (status !== undefined) {
    if (!isRequestStatus(status)) {
      throw new HitlError(
        'invalid_input',
        `status '${status.slice(0, 40)}' is not a request status (pending, approved, rejected, modified, expired, cancelled)`,
      );
    }
    result.status = status;
  }
  if (toolName !== undefined) result.toolName = toolName;
  if (limit !== undefined) {
    const parsed = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(parsed >= 1 && parsed <= 1000)) throw new HitlError('invalid_input', `limit '${limit.slice(0, 40)}' must be an integer from 1 to 1000`);
    result.limit = parsed;
  }
  if (cursor !== undefined) result.cursor = cursor;
  return result;
}

/** Checks a POST body against the fields a route accepts. */
function checkBodyFields(body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (allowed.has(key)) continue;
    if (key === 'respondedBy') {
      throw new HitlError('invalid_input', 'respondedBy cannot be set in the body: it is the authenticated reviewer');
    }
    throw new HitlError('invalid_input', `body field '${key.slice(0, 40)}' is not supported (allowed: ${[...allowed].join(', ')})`);
  }
  if (body.feedback !== undefined && typeof body.feedback !== 'string') {
    throw new HitlError('invalid_input', `feedback must be a string, got ${body.feedback === null ? 'null' : typeof body.feedback}`);
  }
}

/**
 * Creates the reviewer API as an Express router: list and read requests, decide them, follow them
 * live over Server-Sent Events, and a dashboard page. Mount it where you like; the dashboard uses
 * relative URLs.
 *
 * Every error is JSON `{ error: { code, message } }`: 400 bad input, 401 no identity, 403 refused
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

  /**
   * A record the reviewer may not view answers 404, as if it did not exist (another tenant's ids do
   * not leak); one they may view but not decide this way answers 403.
   */
  const requireAllowed = async (reviewer: TReviewer, record: ApprovalRecord, action: ReviewAction) => {
    if (!(await allowed(reviewer, record, 'view'))) {
      throw new HitlError('not_found', `request '${record.request.id}' does not exist`);
    }
    if (action !== 'view' && !(await allowed(reviewer, record, action))) {
      throw new RouteFailure(403, 'forbidden', `reviewer '${reviewer.id}' may not ${action} request '${record.request.id}'`);
    }
  };

  const readRecord = async (id: string): Promise<ApprovalRecord> => {
    const record = await manager.get(id);
    if (!record) throw new HitlError('not_found', `request '${id}' does not exist`);
    return record;
  };

  /** Reads the JSON body of a state-changing route; only `application/json` is accepted (CSRF). */
  const readJsonBody = async (request: Request, response: Response): Promise<Record<string, unknown>> => {
    if (mediaType(request) !== 'application/json') {
      const type = mediaType(request);
      throw new RouteFailure(
        415,
        'unsupported_media_type',
        `this route accepts only Content-Type application/json${type === undefined ? ' (none was sent)' : `, not '${type.slice(0, 60)}'`}`,
      );
    }
    // JSON is UTF-8 (RFC 8259). Other charsets decode a malformed body into something else.
    const charset = charsetOf(request);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      throw new RouteFailure(415, 'unsupported_media_type', `this route accepts JSON in UTF-8 only, not charset '${charset.slice(0, 40)}'`);
    }
    await new Promise<void>((resolve, reject) => {
      jsonParser(request, response, (error?: unknown) => (error === undefined ? resolve() : reject(error)));
    });
    const body: unknown = request.body;
    if (body === undefined) return {};
    if (!isPlainObject(body)) throw new HitlError('invalid_input', 'the request body must be a JSON object');
    return body;
  };

  const decide = async (request: Request, response: Response, reviewer: TReviewer, input: Omit<RespondInput, 'respondedBy'>) => {
    const id = String(request.params.id);
    const record = await readRecord(id);
    await requireAllowed(reviewer, record, input.decision);
    const key = request.get('idempotency-key');
    if (key !== undefined && !/^[\x21-\x7e]{1,100}$/.test(key)) {
      throw new HitlError('invalid_input', 'the Idempotency-Key header must be 1 to 100 visible ASCII characters');
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

  router.get('/requests/:id', async (request, response) => {
    const reviewer = await identify(request);
    const record = await readRecord(String(request.params.id));
    await requireAllowed(reviewer, record, 'view');
    sendJson(response, 200, record);
  });

  router.post('/requests/:id/respond', async (request, response) => {
    const reviewer = await identify(request);
    const body = await readJsonBody(request, response);
    checkBodyFields(body, respondFields);
    if (body.decision === undefined) throw new HitlError('invalid_input', "decision is required ('approve', 'reject' or 'modify')");
    if (typeof body.decision !== 'string' || !['approve', 'reject', 'modify'].includes(body.decision)) {
      const shown = describeValue(typeof body.decision === 'string' ? body.decision.slice(0, 40) : body.decision);
      throw new HitlError('invalid_input', `decision ${shown} is not a decision ('approve', 'reject' or 'modify')`);
    }
    const input: Omit<RespondInput, 'respondedBy'> = { decision: body.decision as Decision };
    if (body.feedback !== undefined) input.feedback = body.feedback as string;
    if (body.modified !== undefined) input.modified = body.modified as Record<string, unknown>;
    await decide(request, response, reviewer, input);
  });

  for (const decision of ['approve', 'reject'] as const) {
    router.post(`/requests/:id/${decision}`, async (request, response) => {
      const reviewer = await identify(request);
      const body = await readJsonBody(request, response);
      checkBodyFields(body, shortcutFields);
      const input: Omit<RespondInput, 'respondedBy'> = { decision };
      if (body.feedback !== undefined) input.feedback = body.feedback as string;
      await decide(request, response, reviewer, input);
    });
  }

  router.get('/events', async (request, response) => {
    const reviewer = await identify(request);
    openStream(request, response, reviewer);
  });

  const openStream = (request: Request, response: Response, reviewer: TReviewer) => {
    let closed = false;
    let heartbeat: unknown;
    let queue: Promise<void> = Promise.resolve();

    const write = (chunk: string) => {
      if (closed || response.writableEnded || response.destroyed) return;
      response.write(chunk);
      // A client that stopped reading is dropped; it reconnects and resumes (or resets).
      if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) response.end();
    };
    const armHeartbeat = () => {
      heartbeat = scheduler.setTimeout(() => {
        if (closed) return;
        write(': heartbeat\n\n');
        armHeartbeat();
      }, heartbeatMs);
    };
    const deliver = (entry: StreamEntry) => {
      if (!authorize) {
        write(entry.frame);
        return;
      }
      // Keep the order of events even when authorize is async.
      queue = queue.then(async () => {
        if (closed) return;
        try {
          if (await allowed(reviewer, entry.record, 'view')) write(entry.frame);
        } catch (error) {
          logger.error('hitl: authorize failed while filtering the event stream; the event was withheld', error);
        }
      });
    };
    const listener = (entry: StreamEntry) => deliver(entry);

    response.status(200);
    response.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, no-transform',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    // The client may have left while authenticate ran: then there is nothing to attach.
    if (response.destroyed || request.socket.destroyed) return;
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    response.flushHeaders();
    request.socket.setNoDelay(true);
    const lastEventId = request.get('last-event-id');
    const attachment = hub.attach(listener, lastEventId === undefined || lastEventId === '' ? undefined : lastEventId);
    response.on('close', () => {
      closed = true;
      hub.detach(listener);
      if (heartbeat !== undefined) scheduler.clearTimeout(heartbeat);
    });
    write(`retry: ${RETRY_MS}\n\n`);
    if (attachment.reset !== undefined) {
      write(`id: ${attachment.currentId}\nevent: reset\ndata: ${JSON.stringify({ reason: attachment.reset })}\n\n`);
    }
    for (const entry of attachment.backlog) deliver(entry);
    const ready = `id: ${attachment.currentId}\nevent: ready\ndata: ${JSON.stringify({ resumed: attachment.resumed })}\n\n`;
    if (authorize) queue = queue.then(() => write(ready));
    else write(ready);
    armHeartbeat();
  };

  if (dashboard) {
    router.get('/', (_request, response) => {
      const nonce = randomBytes(18).toString('base64');
      response.status(200);
      response.set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': dashboardContentSecurityPolicy(nonce),
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
      });
      response.send(renderDashboardPage(nonce));
    });
  }

  // Any error of the routes above (HitlError, RouteFailure, body-parser errors, bugs) becomes JSON.
  router.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    if (response.headersSent) {
      // A stream already started: nothing sensible can be sent any more.
      if (!response.writableEnded) response.end();
      return;
    }
    const failure = toHttpFailure(error);
    if (!failure.expected) logger.error('hitl: the review router failed to handle a request', error);
    sendJson(response, failure.status, { error: { code: failure.code, message: failure.message } });
  });

  return router;
}

function sendJson(response: Response, status: number, body: unknown): void {
  response.status(status);
  response.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  response.json(body);
}
