// Parsing of the grant routes' bodies and queries, of respond's `remember` and of the bulk respond body (the manager checks the values).
import { HitlError, MAX_RESPOND_MANY } from '@hitl/core';
import type { GrantInput, GrantQuery, RememberInput, RespondManyTarget } from '@hitl/core';
import { isPlainObject } from '@hitl/core/internal';
import type { Request } from 'express';

const rememberFields: ReadonlySet<string> = new Set(['scope', 'ttlMs', 'maxUses', 'toolPattern', 'when']);
const grantFields: ReadonlySet<string> = new Set(['effect', 'toolPattern', 'when', 'scope', 'ttlMs', 'maxUses', 'reason']);
const manyFields: ReadonlySet<string> = new Set(['ids', 'runId', 'threadId', 'decision', 'feedback']);
const grantQueryFields: ReadonlySet<string> = new Set(['active', 'tool', 'threadId', 'limit']);

function onlyFields(what: string, body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (allowed.has(key)) continue;
    if (key === 'grantedBy' || key === 'respondedBy')
      throw new HitlError('invalid_input', `${key} cannot be set in the body: it is the authenticated reviewer`);
    throw new HitlError('invalid_input', `${what} field '${key.slice(0, 40)}' is not supported (allowed: ${[...allowed].join(', ')})`);
  }
}

/** `remember` of `POST /requests/:id/respond`: an object with `scope` and optional `ttlMs`, `maxUses`, `toolPattern`, `when`. */
export function parseRemember(value: unknown): RememberInput {
  if (!isPlainObject(value)) throw new HitlError('invalid_input', 'remember must be an object such as { "scope": "thread" }');
  onlyFields('remember', value, rememberFields);
  return value as unknown as RememberInput;
}

/** The body of `POST /grants` (without `grantedBy`: that is the reviewer). */
export function parseGrantBody(body: Record<string, unknown>): Omit<GrantInput, 'grantedBy'> {
  onlyFields('body', body, grantFields);
  if (body.effect === undefined) throw new HitlError('invalid_input', "effect is required ('approve' or 'deny')");
  if (body.toolPattern === undefined)
    throw new HitlError('invalid_input', "toolPattern is required (a tool name or a glob such as 'send_*')");
  return body as unknown as Omit<GrantInput, 'grantedBy'>;
}

/** The body of `POST /requests/respond`: exactly one of `ids`, `runId`, `threadId`, plus `decision` (approve or reject) and `feedback`. */
export function parseRespondManyBody(body: Record<string, unknown>): {
  target: RespondManyTarget;
  decision: 'approve' | 'reject';
  feedback?: string;
} {
  onlyFields('body', body, manyFields);
  const given = (['ids', 'runId', 'threadId'] as const).filter((key) => body[key] !== undefined);
  if (given.length !== 1) throw new HitlError('invalid_input', 'the body must name exactly one of ids, runId or threadId');
  const key = given[0] as 'ids' | 'runId' | 'threadId';
  if (key === 'ids') {
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
      throw new HitlError('invalid_input', 'ids must be a non-empty array of request ids');
    }
    if (ids.length > MAX_RESPOND_MANY)
      throw new HitlError('invalid_input', `ids has ${ids.length} entries; at most ${MAX_RESPOND_MANY} requests are decided at once`);
  } else if (typeof body[key] !== 'string') {
    throw new HitlError('invalid_input', `${key} must be a string`);
  }
  const { decision, feedback } = body;
  if (decision !== 'approve' && decision !== 'reject')
    throw new HitlError('invalid_input', "decision must be 'approve' or 'reject' when deciding many requests");
  if (feedback !== undefined && typeof feedback !== 'string') throw new HitlError('invalid_input', 'feedback must be a string');
  const target = { [key]: body[key] } as RespondManyTarget;
  return feedback === undefined ? { target, decision } : { target, decision, feedback };
}

/** The query of `GET /grants`: `active=true|false`, `tool`, `threadId`, `limit`. */
export function parseGrantQuery(query: Request['query']): GrantQuery {
  const result: GrantQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (!grantQueryFields.has(key))
      throw new HitlError(
        'invalid_input',
        `query parameter '${key.slice(0, 40)}' is not supported (use ${[...grantQueryFields].join(', ')})`,
      );
    if (typeof value !== 'string' || value === '')
      throw new HitlError('invalid_input', `query parameter '${key}' must be given once, as a non-empty value`);
  }
  const { active, tool, threadId, limit } = query as Record<string, string | undefined>;
  if (active !== undefined) {
    if (active !== 'true' && active !== 'false')
      throw new HitlError('invalid_input', `active '${active.slice(0, 40)}' must be 'true' or 'false'`);
    result.active = active === 'true';
  }
  if (tool !== undefined) result.tool = tool;
  if (threadId !== undefined) result.threadId = threadId;
  if (limit !== undefined) {
    const parsed = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(parsed >= 1 && parsed <= 1000))
      throw new HitlError('invalid_input', `limit '${limit.slice(0, 40)}' must be an integer from 1 to 1000`);
    result.limit = parsed;
  }
  return result;
}
