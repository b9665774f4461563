/** Parsing of the router's HTTP requests: media type and charset, list queries, and the JSON bodies of the decision routes. */
import { HitlError, isRequestStatus } from '@hitl/core';
import type { Decision, ListQuery, RespondInput } from '@hitl/core';
import { describeValue, isPlainObject } from '@hitl/core/internal';
import type { Request, RequestHandler, Response } from 'express';
import { parseRemember } from './grant-parsing.js';
import { RouteFailure } from './http-errors.js';

const respondFields: ReadonlySet<string> = new Set(['decision', 'feedback', 'modified', 'remember']);
const shortcutFields: ReadonlySet<string> = new Set(['feedback']);
/** Filters passed through to `manager.list` as they are. */
const contextFilters = ['threadId', 'runId', 'requestedBy', 'createdAfter', 'createdBefore'] as const;

const listFields: ReadonlySet<string> = new Set(['status', 'toolName', 'limit', 'cursor', ...contextFilters]);

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
export function parseListQuery(query: Request['query']): ListQuery {
  const result: ListQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (!listFields.has(key)) {
      throw new HitlError('invalid_input', `query parameter '${key.slice(0, 40)}' is not supported (use ${[...listFields].join(', ')})`, {
        details: { field: key.slice(0, 40) },
      });
    }
    if (typeof value !== 'string') {
      throw new HitlError('invalid_input', `query parameter '${key}' must be given once, as a plain value`, { details: { field: key } });
    }
    if (value === '')
      throw new HitlError('invalid_input', `query parameter '${key}' must not be empty`, { details: { field: key, value: "''" } });
  }
  const { status, toolName, limit, cursor } = query as Record<string, string | undefined>;
  if (status !== undefined) {
    if (!isRequestStatus(status)) {
      throw new HitlError(
        'invalid_input',
        `status '${status.slice(0, 40)}' is not a request status (pending, approved, rejected, modified, expired, cancelled)`,
        { details: { field: 'status', value: describeValue(status) } },
      );
    }
    result.status = status;
  }
  if (toolName !== undefined) result.toolName = toolName;
  if (limit !== undefined) {
    const parsed = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(parsed >= 1 && parsed <= 1000)) {
      throw new HitlError('invalid_input', `limit '${limit.slice(0, 40)}' must be an integer from 1 to 1000`, {
        details: { field: 'limit', value: describeValue(limit) },
      });
    }
    result.limit = parsed;
  }
  if (cursor !== undefined) result.cursor = cursor;
  // The manager checks these (ISO 8601 for the dates) and names the field: a bad one is a 400.
  for (const key of contextFilters) if (query[key] !== undefined) result[key] = query[key] as string;
  return result;
}

/** Checks a POST body against the fields a route accepts. */
function checkBodyFields(body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (allowed.has(key)) continue;
    if (key === 'respondedBy') {
      throw new HitlError('invalid_input', 'respondedBy cannot be set in the body: it is the authenticated reviewer', {
        details: { field: 'respondedBy' },
      });
    }
    throw new HitlError('invalid_input', `body field '${key.slice(0, 40)}' is not supported (allowed: ${[...allowed].join(', ')})`, {
      details: { field: key.slice(0, 40) },
    });
  }
  if (body.feedback !== undefined && typeof body.feedback !== 'string') {
    throw new HitlError('invalid_input', `feedback must be a string, got ${body.feedback === null ? 'null' : typeof body.feedback}`, {
      details: { field: 'feedback', value: describeValue(body.feedback) },
    });
  }
}

/** A decision without its reviewer: what a route hands `manager.respond` (the reviewer comes from `authenticate`). */
export type RouteDecision = Omit<RespondInput, 'respondedBy'>;

/** The body of `POST /requests/:id/respond`: `decision`, and optionally `feedback` and `modified`. */
export function parseRespondBody(body: Record<string, unknown>): RouteDecision {
  checkBodyFields(body, respondFields);
  if (body.decision === undefined) {
    throw new HitlError('invalid_input', "decision is required ('approve', 'reject' or 'modify')", {
      details: { field: 'decision', value: 'undefined' },
    });
  }
  if (typeof body.decision !== 'string' || !['approve', 'reject', 'modify'].includes(body.decision)) {
    const shown = describeValue(typeof body.decision === 'string' ? body.decision.slice(0, 40) : body.decision);
    throw new HitlError('invalid_input', `decision ${shown} is not a decision ('approve', 'reject' or 'modify')`, {
      details: { field: 'decision', value: shown },
    });
  }
  const input: RouteDecision = { decision: body.decision as Decision };
  if (body.feedback !== undefined) input.feedback = body.feedback as string;
  if (body.modified !== undefined) input.modified = body.modified as Record<string, unknown>;
  if (body.remember !== undefined) input.remember = parseRemember(body.remember);
  return input;
}

/** The body of the `approve` and `reject` shortcuts: optionally `feedback`. */
export function parseShortcutBody(body: Record<string, unknown>, decision: 'approve' | 'reject'): RouteDecision {
  checkBodyFields(body, shortcutFields);
  const input: RouteDecision = { decision };
  if (body.feedback !== undefined) input.feedback = body.feedback as string;
  return input;
}

/** Reads the JSON body of a state-changing route; only `application/json` is accepted (CSRF). */
export async function readJsonBody(jsonParser: RequestHandler, request: Request, response: Response): Promise<Record<string, unknown>> {
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
  if (!isPlainObject(body))
    throw new HitlError('invalid_input', 'the request body must be a JSON object', {
      details: { field: 'body', value: describeValue(body) },
    });
  return body;
}
