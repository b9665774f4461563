// Resolving and checking respondMany's target: listed ids, or every pending request of a run or a thread, all or nothing.
import { HitlError } from '../hitl-error.js';
import { requireNotRequester } from '../request-validation.js';
import type { ApprovalRecord, ApprovalStore } from '../types.js';
import { invalidInput, isPlainObject, requireId } from '../validation.js';
import { requireIdentity } from '../identity.js';
import type { RespondManyTarget } from './grant-types.js';

/**
 * The most requests one `respondMany` decides.
 *
 * @example
 * ```ts
 * import { MAX_RESPOND_MANY } from '@hitl/core';
 * const ids = pendingIds.slice(0, MAX_RESPOND_MANY);
 * ```
 */
export const MAX_RESPOND_MANY = 500;

function listedIds(ids: unknown): string[] {
  if (!Array.isArray(ids) || ids.length === 0) throw invalidInput('target.ids', ids, 'must be a non-empty array of request ids');
  if (ids.length > MAX_RESPOND_MANY) throw invalidInput('target.ids', `${ids.length} ids`, `has more than ${MAX_RESPOND_MANY} ids`);
  const seen = new Set<string>();
  ids.forEach((id, position) => {
    requireId(`target.ids[${position}]`, id);
    if (seen.has(id)) throw invalidInput(`target.ids[${position}]`, id, 'is listed twice');
    seen.add(id);
  });
  return [...seen];
}

/**
 * The records a target names. Listed ids must all exist (`not_found` names those that do not) and
 * be pending (`conflict` names those that are not); a run or a thread gives its pending requests
 * (none is an empty list), at most {@link MAX_RESPOND_MANY} (more is `invalid_input`).
 */
export async function resolveTarget(store: ApprovalStore, target: RespondManyTarget): Promise<ApprovalRecord[]> {
  if (!isPlainObject(target)) throw invalidInput('target', target, 'must be { ids }, { runId } or { threadId }');
  const keys = Object.keys(target);
  if (keys.length !== 1) throw invalidInput('target', keys.join(', '), 'must have exactly one of ids, runId, threadId');
  if ('ids' in target) {
    const ids = listedIds(target.ids);
    const found = await Promise.all(ids.map((id) => store.get(id)));
    const missing = ids.filter((_id, position) => found[position] === undefined);
    if (missing.length > 0)
      throw new HitlError(
        'not_found',
        `nothing was decided: ${missing.length} request(s) do not exist: ${missing.slice(0, 20).join(', ')}`,
        { details: { ids: missing } },
      );
    const records = found as ApprovalRecord[];
    const decided = records.filter((record) => record.status !== 'pending').map((record) => record.request.id);
    if (decided.length > 0)
      throw new HitlError(
        'conflict',
        `nothing was decided: ${decided.length} request(s) are no longer pending: ${decided.slice(0, 20).join(', ')}`,
        { details: { ids: decided } },
      );
    return records;
  }
  const field = 'runId' in target ? 'runId' : 'threadId' in target ? 'threadId' : undefined;
  if (field === undefined) throw invalidInput('target', keys[0], 'must have exactly one of ids, runId, threadId');
  const value = requireIdentity(`target.${field}`, (target as Record<string, unknown>)[field]);
  const page = await store.list({ status: 'pending', [field]: value, limit: MAX_RESPOND_MANY + 1 });
  if (page.items.length > MAX_RESPOND_MANY) {
    throw invalidInput(`target.${field}`, value, `has more than ${MAX_RESPOND_MANY} pending requests; decide them by ids in batches`);
  }
  return page.items;
}

/** The no-self-approval rule over many records: `forbidden` naming every request the reviewer made. */
export function requireNoneByRequester(records: ApprovalRecord[], respondedBy: string | undefined): void {
  const refused: string[] = [];
  let first: HitlError | undefined;
  for (const record of records) {
    try {
      requireNotRequester(record, respondedBy);
    } catch (error) {
      if (!HitlError.is(error, 'forbidden')) throw error;
      first ??= error;
      refused.push(record.request.id);
    }
  }
  if (first !== undefined) {
    throw new HitlError(
      'forbidden',
      `nothing was decided: ${first.message}${refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''}`,
      { details: { ids: refused } },
    );
  }
}
