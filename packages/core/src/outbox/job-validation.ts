/** Checks of outbox calls shared by every store: job inputs, claim options and list queries, each failing with `invalid_input` naming the field. */
import { invalidInput, isPlainObject } from '../validation.js';
import type { OutboxClaimOptions, OutboxJobFilter, OutboxJobInput, OutboxJobState, OutboxListQuery } from './types.js';

const STATES: readonly OutboxJobState[] = ['pending', 'claimed', 'done', 'dead'];
const MAX_ID_LENGTH = 512;

const isIso = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

/** Throws `invalid_input` naming the first malformed job and field. */
export function checkJobInputs(jobs: unknown): asserts jobs is readonly OutboxJobInput[] {
  if (!Array.isArray(jobs)) throw invalidInput('jobs', jobs, 'must be an array');
  jobs.forEach((job: unknown, index) => {
    const field = `jobs[${index}]`;
    if (!isPlainObject(job)) throw invalidInput(field, job, 'must be an object');
    for (const key of ['id', 'kind', 'topic'] as const) {
      const value = job[key];
      if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) {
        throw invalidInput(`${field}.${key}`, value, `must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
      }
    }
    for (const key of ['requestId', 'target'] as const) {
      if (job[key] !== undefined && typeof job[key] !== 'string') throw invalidInput(`${field}.${key}`, job[key], 'must be a string');
    }
    if (job.payload !== undefined && !isPlainObject(job.payload)) throw invalidInput(`${field}.payload`, job.payload, 'must be an object');
    if (!isIso(job.dueAt)) throw invalidInput(`${field}.dueAt`, job.dueAt, 'must be an ISO 8601 date-time');
    const maxAttempts = job.maxAttempts;
    if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
      throw invalidInput(`${field}.maxAttempts`, maxAttempts, 'must be an integer from 1 to 100');
    }
    const claim = job.claim;
    if (
      claim !== undefined &&
      (!isPlainObject(claim) || typeof claim.owner !== 'string' || claim.owner === '' || !isIso(claim.leaseUntil))
    ) {
      throw invalidInput(`${field}.claim`, claim, 'must be { owner: string, leaseUntil: ISO 8601 date-time }');
    }
  });
}

/** `kinds` and `targets` checked (arrays of strings) and copied. */
export function normalizeJobFilter(filter: OutboxJobFilter): OutboxJobFilter {
  const normalized: OutboxJobFilter = {};
  for (const field of ['kinds', 'targets'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    if (!Array.isArray(value) || value.length > 1000 || value.some((item) => typeof item !== 'string')) {
      throw invalidInput(field, value, 'must be an array of at most 1000 strings');
    }
    normalized[field] = [...value];
  }
  return normalized;
}

/** The claim options checked, `kinds` and `targets` copied. */
export function normalizeClaim(options: OutboxClaimOptions): OutboxClaimOptions {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { owner, limit, leaseMs, now } = options;
  if (typeof owner !== 'string' || owner === '' || owner.length > MAX_ID_LENGTH)
    throw invalidInput('owner', owner, 'must be a non-empty string');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalidInput('limit', limit, 'must be an integer from 1 to 1000');
  if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < 1)
    throw invalidInput('leaseMs', leaseMs, 'must be a positive number of ms');
  if (!isIso(now)) throw invalidInput('now', now, 'must be an ISO 8601 date-time');
  return { owner, limit, leaseMs, now: new Date(Date.parse(now)).toISOString(), ...normalizeJobFilter(options) };
}

/** The options of `nextDue` checked and copied. */
export function normalizeNextDue(
  options: ({ exceptOwner?: string } & OutboxJobFilter) | undefined,
): { exceptOwner?: string } & OutboxJobFilter {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { exceptOwner } = options;
  if (exceptOwner !== undefined && (typeof exceptOwner !== 'string' || exceptOwner === ''))
    throw invalidInput('exceptOwner', exceptOwner, 'must be a non-empty string');
  return { ...(exceptOwner === undefined ? {} : { exceptOwner }), ...normalizeJobFilter(options) };
}

/** True when a job passes `filter` (see {@link OutboxJobFilter}). */
export function matchesJobFilter(job: { kind: string; target?: string }, filter: OutboxJobFilter): boolean {
  if (filter.kinds && !filter.kinds.includes(job.kind)) return false;
  return !filter.targets || job.target === undefined || filter.targets.includes(job.target);
}

/** A list query checked, with its default limit of 50. */
export function normalizeOutboxQuery(query: OutboxListQuery | undefined): OutboxListQuery & { limit: number } {
  if (query !== undefined && !isPlainObject(query)) throw invalidInput('query', query, 'must be an object');
  const { state, requestId, cursor } = query ?? {};
  const limit = query?.limit ?? 50;
  if (state !== undefined && !STATES.includes(state as OutboxJobState))
    throw invalidInput('state', state, `is not a delivery state (${STATES.join(', ')})`);
  if (requestId !== undefined && typeof requestId !== 'string') throw invalidInput('requestId', requestId, 'must be a string');
  if (cursor !== undefined && typeof cursor !== 'string') throw invalidInput('cursor', cursor, 'must be a string');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalidInput('limit', limit, 'must be an integer from 1 to 1000');
  const normalized: OutboxListQuery & { limit: number } = { limit };
  if (state !== undefined) normalized.state = state as OutboxJobState;
  if (requestId !== undefined) normalized.requestId = requestId;
  if (cursor !== undefined) normalized.cursor = cursor;
  return normalized;
}

/** `dueAt` as an ISO 8601 string in `toISOString()` form; throws `invalid_input` otherwise. */
export function requireInstant(field: string, value: unknown): string {
  if (!isIso(value)) throw invalidInput(field, value, 'must be an ISO 8601 date-time');
  return new Date(Date.parse(value)).toISOString();
}
