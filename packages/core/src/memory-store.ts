/**
 * `createMemoryStore`: the in-process ApprovalStore, and the list query rules every store follows.
 * Over 300 lines because the store is one closure over its records, subscribers and outbox, beside the shared list rules.
 */
import { isRequestStatus } from './constants.js';
import { applyApproval, changeOfApproval, checkAddApprovalInput } from './four-eyes.js';
import { HitlError } from './hitl-error.js';
import { createMemoryGrants } from './grants/memory-grants.js';
import type { DecideManyItem, Grant } from './grants/grant-types.js';
import type {
  AddApprovalInput,
  ApprovalRecord,
  ApprovalStore,
  CreateResult,
  DecidePatch,
  ListQuery,
  ListResult,
  StoreChange,
} from './types.js';
import { createMemoryResumeClaims } from './resume-claim.js';
import type { RequestStatus } from './constants.js';
import { checkGetManyIds, invalidInput, optionalString } from './validation.js';
import { createMemoryOutbox } from './outbox/memory-outbox.js';
import { checkJobInputs } from './outbox/job-validation.js';
import type { AddApprovalWriteOptions, StoreWriteOptions } from './outbox/types.js';

/** Freezes an object and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** The list filters matched exactly against a record's request. */
const exactFilters = ['toolName', 'threadId', 'runId', 'requestedBy'] as const;
const isoInstant = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

/**
 * An ISO 8601 date (`2026-05-01`, midnight UTC) or date-time with a zone (`2026-05-01T12:00:00Z`,
 * `…+02:00`), as the `toISOString()` form stores compare with. Throws `invalid_input` naming the field.
 */
function isoFilter(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' && isoInstant.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw invalidInput(field, value, 'is not an ISO 8601 date or date-time with a time zone (e.g. 2026-05-01T12:00:00Z)');
  return new Date(ms).toISOString();
}

/**
 * Checks and fills in the defaults of a list query: limit 1..1000 (default 50), known status,
 * string filters, and `createdAfter`/`createdBefore` as ISO 8601 (returned in `toISOString()` form).
 */
export function normalizeListQuery(query: ListQuery | undefined): Required<Pick<ListQuery, 'limit'>> & ListQuery {
  const { status, cursor } = query ?? {};
  const limit = query?.limit ?? 50;
  if (status !== undefined && !isRequestStatus(status)) {
    throw invalidInput('status', status, 'is not a request status (pending, approved, rejected, modified, expired, cancelled)');
  }
  optionalString('cursor', cursor);
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw invalidInput('limit', limit, 'must be an integer from 1 to 1000');
  }
  const normalized: Required<Pick<ListQuery, 'limit'>> & ListQuery = { limit };
  if (status !== undefined) normalized.status = status;
  for (const field of exactFilters) {
    const value = optionalString(field, query?.[field]);
    if (value !== undefined) normalized[field] = value;
  }
  const createdAfter = isoFilter('createdAfter', query?.createdAfter);
  if (createdAfter !== undefined) normalized.createdAfter = createdAfter;
  const createdBefore = isoFilter('createdBefore', query?.createdBefore);
  if (createdBefore !== undefined) normalized.createdBefore = createdBefore;
  if (cursor !== undefined) normalized.cursor = cursor;
  return normalized;
}

/** Whether a record passes a normalized query's filters (not its paging). */
export function matchesListQuery(record: ApprovalRecord, query: ListQuery): boolean {
  if (query.status !== undefined && record.status !== query.status) return false;
  for (const field of exactFilters) {
    const wanted = query[field];
    if (wanted !== undefined && record.request[field] !== wanted) return false;
  }
  if (query.createdAfter === undefined && query.createdBefore === undefined) return true;
  const created = Date.parse(record.createdAt);
  if (query.createdAfter !== undefined && !(created >= Date.parse(query.createdAfter))) return false;
  if (query.createdBefore !== undefined && !(created < Date.parse(query.createdBefore))) return false;
  return true;
}

const cursorPattern = /^m([0-9]{1,15})$/;

/**
 * The embedded store: records in this process's memory, gone when it exits. The default store of
 * `createManager`. Share one between managers to simulate several instances in tests.
 *
 * @example
 * ```ts
 * import { createManager, createMemoryStore } from '@hitl/core';
 * const store = createMemoryStore();
 * const manager = createManager({ store });
 * ```
 */
export function createMemoryStore(): ApprovalStore {
  const records: ApprovalRecord[] = [];
  const indexById = new Map<string, number>();
  const listeners = new Set<(change: StoreChange) => void>();
  /** Ids in the order they were decided, for the resume catch-up scan. */
  const decisionOrder: string[] = [];
  let closed = false;

  const ensureOpen = () => {
    if (closed) throw new HitlError('store_unavailable', 'the memory store is closed');
  };

  const outbox = createMemoryOutbox(ensureOpen);
  /** The jobs a write carries, checked before anything changes. */
  const jobsOf = (options: StoreWriteOptions | undefined) => {
    const jobs = options?.jobs ?? [];
    checkJobInputs(jobs);
    return jobs;
  };

  const emit = (change: StoreChange) => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the store's state is already consistent.
      }
    }
  };

  const resumeClaims = createMemoryResumeClaims({
    getRecord: (id) => {
      const index = indexById.get(id);
      return index === undefined ? undefined : records[index];
    },
    decidedInOrder: () => decisionOrder.map((id) => records[indexById.get(id) as number] as ApprovalRecord),
    ensureOpen,
  });

  const grants = createMemoryGrants(ensureOpen);

  /** The record `decide` would change, or the error it would throw. */
  const checkDecide = (id: string, expectedStatus: RequestStatus, patch: DecidePatch): number => {
    const index = indexById.get(id);
    if (index === undefined) throw new HitlError('not_found', `request '${id}' does not exist`, { details: { ids: [id] } });
    const current = records[index] as ApprovalRecord;
    if (current.status !== expectedStatus) {
      throw new HitlError('conflict', `request '${id}' is already ${current.status}`, { details: { ids: [id] } });
    }
    if (patch.status !== 'expired' && current.expiresAt !== undefined && Date.parse(patch.closedAt) >= Date.parse(current.expiresAt)) {
      throw new HitlError('conflict', `request '${id}' expired at ${current.expiresAt}`, { details: { ids: [id] } });
    }
    return index;
  };

  /** Stores a checked decision, with its outbox jobs (written before listeners hear of it). */
  const applyDecide = (index: number, patch: DecidePatch, jobs?: Parameters<typeof outbox.write>[0]): ApprovalRecord => {
    const current = records[index] as ApprovalRecord;
    const next: ApprovalRecord = { ...current, status: patch.status, closedAt: patch.closedAt };
    if (patch.response !== undefined) next.response = patch.response;
    if (patch.closedReason !== undefined) next.closedReason = patch.closedReason;
    const stored = deepFreeze(next);
    records[index] = stored;
    if (jobs !== undefined && jobs.length > 0) outbox.write(jobs, new Date().toISOString());
    decisionOrder.push(stored.request.id);
    emit({ type: 'decided', record: stored });
    return stored;
  };

  /**
   * Four eyes: stores the record an approval left (see `applyApproval`), with the decision's jobs
   * when it completed the quorum or the partial approval's when it did not, and tells the subscribers.
   */
  const storeApproval = (
    index: number,
    next: ApprovalRecord,
    jobs?: Parameters<typeof outbox.write>[0],
    partialJobs?: Parameters<typeof outbox.write>[0],
  ): ApprovalRecord => {
    const stored = deepFreeze(next);
    records[index] = stored;
    const written = stored.status === 'approved' ? jobs : partialJobs;
    if (written !== undefined && written.length > 0) outbox.write(written, new Date().toISOString());
    emit(changeOfApproval(stored));
    return stored;
  };

  return {
    ...resumeClaims,
    outbox,

    async create(record: ApprovalRecord, options?: StoreWriteOptions): Promise<CreateResult> {
      ensureOpen();
      const jobs = jobsOf(options);
      const existing = indexById.get(record.request.id);
      if (existing !== undefined) return { record: records[existing] as ApprovalRecord, created: false };
      const stored = deepFreeze(record);
      indexById.set(stored.request.id, records.length);
      records.push(stored);
      if (jobs.length > 0) outbox.write(jobs, new Date().toISOString());
      emit({ type: 'created', record: stored });
      return { record: stored, created: true };
    },

    async get(id: string): Promise<ApprovalRecord | undefined> {
      ensureOpen();
      const index = indexById.get(id);
      return index === undefined ? undefined : records[index];
    },

    async getMany(ids: readonly string[]): Promise<ApprovalRecord[]> {
      ensureOpen();
      const found: ApprovalRecord[] = [];
      for (const id of new Set(checkGetManyIds(ids))) {
        const index = indexById.get(id);
        if (index !== undefined) found.push(records[index] as ApprovalRecord);
      }
      return found;
    },

    async list(query: ListQuery): Promise<ListResult> {
      ensureOpen();
      const normalized = normalizeListQuery(query);
      const { limit, cursor } = normalized;
      let start = records.length - 1;
      if (cursor !== undefined) {
        const match = cursorPattern.exec(cursor);
        if (!match) throw invalidInput('cursor', cursor, 'is not a cursor returned by list');
        start = Math.min(Number(match[1]) - 1, records.length - 1);
      }
      const items: ApprovalRecord[] = [];
      let lastIndex = -1;
      for (let index = start; index >= 0; index--) {
        const record = records[index] as ApprovalRecord;
        if (!matchesListQuery(record, normalized)) continue;
        if (items.length === limit) return { items, nextCursor: `m${lastIndex}` };
        items.push(record);
        lastIndex = index;
      }
      return { items };
    },

    async decide(id: string, expectedStatus, patch: DecidePatch, options?: StoreWriteOptions): Promise<ApprovalRecord> {
      ensureOpen();
      const jobs = jobsOf(options);
      return applyDecide(checkDecide(id, expectedStatus, patch), patch, jobs);
    },

    async addApproval(id: string, input: AddApprovalInput, options?: AddApprovalWriteOptions): Promise<ApprovalRecord> {
      ensureOpen();
      checkAddApprovalInput(input);
      const jobs = jobsOf(options);
      const partialJobs = jobsOf({ jobs: options?.partialJobs ?? [] });
      const index = indexById.get(id);
      if (index === undefined) throw new HitlError('not_found', `request '${id}' does not exist`);
      // Checked and written in one synchronous step: no other call runs in between.
      return storeApproval(index, applyApproval(records[index] as ApprovalRecord, structuredClone(input)), jobs, partialJobs);
    },

    /** All checks first, then every change, with no await in between: all or nothing. */
    async decideMany(items: DecideManyItem[], options?: { grant?: Grant }): Promise<ApprovalRecord[]> {
      ensureOpen();
      const jobLists = items.map((item) => (item.jobs === undefined ? undefined : jobsOf({ jobs: item.jobs })));
      const partialJobLists = items.map((item) =>
        item.approval === undefined || item.partialJobs === undefined ? undefined : jobsOf({ jobs: item.partialJobs }),
      );
      const failures: Record<'not_found' | 'conflict', string[]> = { not_found: [], conflict: [] };
      const indexes: number[] = [];
      /** Four eyes: the record each approval item would leave, computed before anything changes. */
      const approved = new Map<number, ApprovalRecord>();
      let approvalRefusal: HitlError | undefined;
      items.forEach((item, position) => {
        try {
          if (item.approval === undefined) {
            indexes.push(checkDecide(item.id, item.expectedStatus, item.patch));
            return;
          }
          const index = indexById.get(item.id);
          if (index === undefined) throw new HitlError('not_found', `request '${item.id}' does not exist`);
          approved.set(position, applyApproval(records[index] as ApprovalRecord, checkAddApprovalInput(structuredClone(item.approval))));
          indexes.push(index);
        } catch (error) {
          if (!HitlError.is(error, 'not_found') && !HitlError.is(error, 'conflict')) throw error;
          if (item.approval !== undefined && error.code === 'conflict') approvalRefusal ??= error;
          failures[error.code as 'not_found' | 'conflict'].push(item.id);
        }
      });
      for (const code of ['not_found', 'conflict'] as const) {
        const ids = failures[code];
        if (ids.length > 0) {
          const what = code === 'not_found' ? 'do not exist' : 'are no longer pending';
          const why = code === 'conflict' && approvalRefusal !== undefined ? ` (${approvalRefusal.message})` : '';
          throw new HitlError(code, `nothing was decided: ${ids.length} request(s) ${what}${why}: ${ids.slice(0, 20).join(', ')}`, {
            details: { ids },
          });
        }
      }
      if (options?.grant !== undefined) grants.checkNew(options.grant);
      const decided = items.map((item, position) => {
        const index = indexes[position] as number;
        const next = approved.get(position);
        return next === undefined
          ? applyDecide(index, item.patch as DecidePatch, jobLists[position])
          : storeApproval(index, next, jobLists[position], partialJobLists[position]);
      });
      if (options?.grant !== undefined) grants.insert(options.grant);
      return decided;
    },

    createGrant: grants.createGrant,
    getGrant: grants.getGrant,
    revokeGrant: grants.revokeGrant,
    listGrants: grants.listGrants,
    useGrant: grants.useGrant,
    useGrantNow: grants.useGrantNow,
    releaseGrantUse: grants.releaseGrantUse,
    subscribeGrants: grants.subscribeGrants,

    subscribe(listener: (change: StoreChange) => void): () => void {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async close(): Promise<void> {
      closed = true;
      listeners.clear();
      grants.clear();
    },
  };
}
