// Checks grant inputs (manager.grant, respond's remember, listGrants' query) and builds the stored Grant.
import { randomUUID } from 'node:crypto';
import { compileCondition, type CompiledCondition } from '../conditions.js';
import { HitlError } from '../hitl-error.js';
import { requireIdentity } from '../identity.js';
import { compileToolGlob, type ToolGlob } from '../tool-glob.js';
import { toolNameProblem } from '../tool-name.js';
import type { Decision } from '../constants.js';
import type { ApprovalRecord } from '../types.js';
import { invalidInput, isPlainObject, optionalString } from '../validation.js';
import type { Grant, GrantInput, GrantQuery, GrantScope, RememberInput } from './grant-types.js';

/** The longest grant reason accepted, in characters. */
const MAX_REASON_LENGTH = 1000;
const scopeFields = ['threadId', 'runId', 'requestedBy'] as const;
const grantIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Compiles a grant's glob; `invalid_input` names the field. */
export function compileGrantGlob(field: string, pattern: unknown): ToolGlob {
  if (typeof pattern !== 'string' || pattern.trim() === '') throw invalidInput(field, pattern, 'must be a non-empty tool-name glob');
  try {
    return compileToolGlob(pattern);
  } catch (error) {
    if (!HitlError.is(error, 'invalid_input')) throw error;
    throw new HitlError('invalid_input', `${field}: ${error.message}`, { cause: error, details: { field } });
  }
}

/** Compiles a grant's CEL `when`; `invalid_input` names the field (a grant is data, so only CEL text). */
export function compileGrantCondition(field: string, when: unknown): CompiledCondition | undefined {
  if (when === undefined) return undefined;
  if (typeof when !== 'string') throw invalidInput(field, when, 'must be a CEL expression (a string)');
  try {
    return compileCondition('grant', when);
  } catch (error) {
    if (!HitlError.is(error, 'invalid_input')) throw error;
    throw new HitlError('invalid_input', error.message.replace("policy 'grant': when", field), { cause: error, details: { field } });
  }
}

/** `maxUses` (integer ≥ 1) and `ttlMs` (finite, > 0), both optional. */
function checkLimits(prefix: string, input: { maxUses?: unknown; ttlMs?: unknown }): void {
  const { maxUses, ttlMs } = input;
  if (maxUses !== undefined && (typeof maxUses !== 'number' || !Number.isSafeInteger(maxUses) || maxUses < 1)) {
    throw invalidInput(`${prefix}maxUses`, maxUses, 'must be an integer >= 1');
  }
  if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > 8.64e15)) {
    throw invalidInput(`${prefix}ttlMs`, ttlMs, 'must be a positive, finite number of milliseconds');
  }
}

function checkScope(value: unknown): GrantScope {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidInput('scope', value, 'must be an object with threadId, runId or requestedBy');
  const scope: GrantScope = {};
  for (const key of Object.keys(value)) {
    if (!(scopeFields as readonly string[]).includes(key))
      throw invalidInput(`scope.${key}`, value[key], 'is not a scope field (threadId, runId, requestedBy)');
  }
  for (const field of scopeFields) {
    if (value[field] !== undefined) scope[field] = requireIdentity(`scope.${field}`, value[field]);
  }
  return scope;
}

function expiryOf(nowMs: number, ttlMs: number | undefined): string | undefined {
  if (ttlMs === undefined) return undefined;
  const at = nowMs + ttlMs;
  return at < 8.64e15 ? new Date(at).toISOString() : undefined;
}

/** Checks `manager.grant`'s input and builds the new grant. Throws `invalid_input` naming the field. */
export function grantOfInput(input: GrantInput, nowMs: number): Grant {
  if (!isPlainObject(input)) throw invalidInput('grant', input, 'must be an object');
  if (input.effect !== 'approve' && input.effect !== 'deny') throw invalidInput('effect', input.effect, "must be 'approve' or 'deny'");
  const toolPattern = compileGrantGlob('toolPattern', input.toolPattern).pattern;
  compileGrantCondition('when', input.when);
  checkLimits('', input);
  const grantedBy = requireIdentity('grantedBy', input.grantedBy);
  const reason = optionalString('reason', input.reason);
  if (reason !== undefined && reason.length > MAX_REASON_LENGTH)
    throw invalidInput('reason', reason, `is longer than ${MAX_REASON_LENGTH} characters`);
  const grant: Grant = {
    id: `grant-${randomUUID()}`,
    effect: input.effect,
    toolPattern,
    scope: checkScope(input.scope),
    uses: 0,
    grantedBy,
    createdAt: new Date(nowMs).toISOString(),
  };
  if (input.when !== undefined) grant.when = input.when;
  const expiresAt = expiryOf(nowMs, input.ttlMs);
  if (expiresAt !== undefined) grant.expiresAt = expiresAt;
  if (input.maxUses !== undefined) grant.maxUses = input.maxUses;
  if (reason !== undefined) grant.reason = reason;
  return grant;
}

const rememberScopes = { thread: 'threadId', run: 'runId', requester: 'requestedBy', global: undefined } as const;

/**
 * The grant a decision with `remember` makes: approve → approve grant, reject → deny grant, scoped
 * to the request's own thread, run or requester. A scope the request lacks is `invalid_input`, never
 * a silently global grant.
 */
export function grantOfRemember(
  remember: RememberInput,
  record: ApprovalRecord,
  decision: Decision,
  context: { respondedBy: string | undefined; feedback: string | undefined; nowMs: number },
): Grant {
  if (!isPlainObject(remember)) throw invalidInput('remember', remember, 'must be an object');
  if (decision === 'modify') throw invalidInput('remember', 'modify', "can only remember an 'approve' or a 'reject'");
  const scopeName = remember.scope;
  if (typeof scopeName !== 'string' || !Object.hasOwn(rememberScopes, scopeName)) {
    throw invalidInput('remember.scope', scopeName, "must be 'thread', 'run', 'requester' or 'global'");
  }
  const field = rememberScopes[scopeName];
  const scope: GrantScope = {};
  if (field !== undefined) {
    const value = record.request[field];
    if (value === undefined) {
      throw invalidInput('remember.scope', scopeName, `needs a request with ${field}, and request '${record.request.id}' has none`);
    }
    scope[field] = value;
  }
  const toolPattern =
    remember.toolPattern === undefined ? record.request.toolName : compileGrantGlob('remember.toolPattern', remember.toolPattern).pattern;
  compileGrantCondition('remember.when', remember.when);
  checkLimits('remember.', remember);
  const grant: Grant = {
    id: `grant-${randomUUID()}`,
    effect: decision === 'approve' ? 'approve' : 'deny',
    toolPattern,
    scope,
    uses: 0,
    grantedBy: context.respondedBy ?? 'anonymous',
    createdAt: new Date(context.nowMs).toISOString(),
    sourceRequestId: record.request.id,
  };
  if (remember.when !== undefined) grant.when = remember.when;
  const expiresAt = expiryOf(context.nowMs, remember.ttlMs);
  if (expiresAt !== undefined) grant.expiresAt = expiresAt;
  if (remember.maxUses !== undefined) grant.maxUses = remember.maxUses;
  if (context.feedback !== undefined) grant.reason = context.feedback.slice(0, MAX_REASON_LENGTH);
  return grant;
}

/** A grant id as given to `revokeGrant`. */
export function requireGrantId(value: unknown): string {
  if (typeof value !== 'string' || !grantIdPattern.test(value)) throw invalidInput('id', value, 'is not a valid grant id');
  return value;
}

/** Checks `listGrants`' query: `active` boolean, `tool` and `threadId` strings, limit 1..1000 (default 100). */
export function normalizeGrantQuery(query: GrantQuery | undefined): GrantQuery & { limit: number } {
  if (query !== undefined && !isPlainObject(query)) throw invalidInput('query', query, 'must be an object');
  const limit = query?.limit ?? 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalidInput('limit', limit, 'must be an integer from 1 to 1000');
  const normalized: GrantQuery & { limit: number } = { limit };
  if (query?.active !== undefined) {
    if (typeof query.active !== 'boolean') throw invalidInput('active', query.active, 'must be a boolean');
    normalized.active = query.active;
  }
  const tool = optionalString('tool', query?.tool);
  if (tool !== undefined) {
    const problem = toolNameProblem(tool);
    if (problem !== undefined) throw invalidInput('tool', tool, `is not a valid tool name: it ${problem}`);
    normalized.tool = tool;
  }
  const threadId = optionalString('threadId', query?.threadId);
  if (threadId !== undefined) normalized.threadId = threadId;
  return normalized;
}

/** Whether a grant can still decide at `atMs`: not revoked, not expired, not used up. */
export function isGrantLive(grant: Grant, atMs: number): boolean {
  if (grant.revokedAt !== undefined) return false;
  if (grant.expiresAt !== undefined && Date.parse(grant.expiresAt) <= atMs) return false;
  return grant.maxUses === undefined || grant.uses < grant.maxUses;
}

/** Whether a grant passes a normalized query's filters, judged at `atMs`. */
export function matchesGrantQuery(grant: Grant, query: GrantQuery, atMs: number): boolean {
  if (query.active !== undefined && isGrantLive(grant, atMs) !== query.active) return false;
  if (query.threadId !== undefined && grant.scope.threadId !== query.threadId) return false;
  if (query.tool !== undefined) {
    try {
      if (!compileToolGlob(grant.toolPattern).test(query.tool)) return false;
    } catch {
      return false;
    }
  }
  return true;
}
