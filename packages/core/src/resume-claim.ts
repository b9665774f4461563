/** The resume claim: which instance resumes a paused agent run once its request is decided, taken exactly once with a lease. */
import { HitlError } from './hitl-error.js';
import type { ApprovalRecord } from './types.js';
import { invalidInput } from './validation.js';

/**
 * A held claim on resuming the run that a decided request paused: who holds it, until when, and
 * how many times it has been taken (more than once means an earlier holder let its lease run out).
 *
 * @example
 * ```ts
 * const claim: ResumeClaim | undefined = await store.claimResume?.('hitl-1', 'instance-a', 30_000);
 * if (claim) console.log(claim.owner, claim.attempt, claim.leaseExpiresAt);
 * ```
 */
export interface ResumeClaim {
  requestId: string;
  /** The resumer that holds the claim. */
  owner: string;
  /** 1 for the first claim; one more for each claim taken over after a lease ran out. */
  attempt: number;
  /** ISO 8601, by the store's clock: after this instant another resumer may take the claim. */
  leaseExpiresAt: string;
}

/**
 * Which decided requests still wait for their run to be resumed: the catch-up scan a resumer makes
 * when it starts, for decisions made while no resumer was listening.
 *
 * @example
 * ```ts
 * const page = await store.listUnresumed?.({ resumeWith: 'langgraph', limit: 100 });
 * ```
 */
export interface UnresumedQuery {
  /** Only records whose `request.metadata.resumeWith` is this value (the adapter that paused them). */
  resumeWith: string;
  /** 1..1000, default 100. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * One page of decided requests whose resume claim is not completed, oldest decision first.
 *
 * @example
 * ```ts
 * const page: UnresumedPage = await store.listUnresumed!({ resumeWith: 'langgraph' });
 * for (const record of page.items) await resumer.resume(record.request.id);
 * ```
 */
export interface UnresumedPage {
  items: ApprovalRecord[];
  nextCursor?: string;
}

/**
 * A running resumer (`createResumer` of `@hitl/langchain/middleware` or `@hitl/vercel-ai`): it
 * hears decisions, claims each paused run's resume exactly once across instances, and resumes it.
 *
 * @example
 * ```ts
 * await resumer.start();
 * process.on('SIGTERM', () => void resumer.close());
 * ```
 */
export interface Resumer {
  /** This resumer's id in the claims. */
  readonly owner: string;
  /** Listens for decisions, then scans for the ones made while nobody listened. Resolves after the scan. */
  start(): Promise<void>;
  /** Resumes the run of one decided request now (without `start`: in a worker, a cron job, a test). */
  resume(requestId: string): Promise<'done' | 'later' | 'not_resumable'>;
  /** Resolves once no resume is queued or running. */
  idle(): Promise<void>;
  /** Stops listening and scanning; waits for the resumes running now. */
  close(): Promise<void>;
}

/**
 * The key of `request.metadata` that marks a request whose run pauses until it is decided and is
 * then resumed by a resumer (its value names the adapter: `'langgraph'`, `'ai-sdk'`, or your own).
 *
 * @example
 * ```ts
 * await manager.submit({ toolName: 'delete_user', input: { user_id: '42' }, metadata: { [RESUME_WITH_KEY]: 'my-worker' } });
 * ```
 */
export const RESUME_WITH_KEY = 'resumeWith';

/**
 * The longest lease a resume claim may ask for: one day.
 *
 * @example
 * ```ts
 * const leaseMs = Math.min(expectedResumeMs * 10, MAX_RESUME_LEASE_MS);
 * ```
 */
export const MAX_RESUME_LEASE_MS = 86_400_000;

/** Checks the arguments of `claimResume` / `renewResume` / `completeResume`; throws `HitlError('invalid_input')` naming the field. */
export function validateResumeClaimArguments(requestId: unknown, owner: unknown, leaseMs?: unknown): void {
  if (typeof requestId !== 'string' || requestId === '') throw invalidInput('requestId', requestId, 'must be a non-empty string');
  if (typeof owner !== 'string' || owner === '' || owner.length > 200)
    throw invalidInput('owner', owner, 'must be a string of 1 to 200 characters');
  if (leaseMs === undefined) return;
  if (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > MAX_RESUME_LEASE_MS) {
    throw invalidInput('leaseMs', leaseMs, `must be an integer number of milliseconds from 1 to ${MAX_RESUME_LEASE_MS}`);
  }
}

/** Checks an {@link UnresumedQuery} and fills in the default limit. */
export function normalizeUnresumedQuery(
  query: unknown,
): Required<Pick<UnresumedQuery, 'resumeWith' | 'limit'>> & Pick<UnresumedQuery, 'cursor'> {
  if (typeof query !== 'object' || query === null) throw invalidInput('query', query, 'must be an object');
  const { resumeWith, limit = 100, cursor } = query as UnresumedQuery;
  if (typeof resumeWith !== 'string' || resumeWith === '' || resumeWith.length > 100) {
    throw invalidInput('resumeWith', resumeWith, 'must be a string of 1 to 100 characters');
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw invalidInput('limit', limit, 'must be an integer from 1 to 1000');
  if (cursor !== undefined && typeof cursor !== 'string') throw invalidInput('cursor', cursor, 'must be a string');
  return cursor === undefined ? { resumeWith, limit } : { resumeWith, limit, cursor };
}

/** Whether a record is one a resumer of `resumeWith` resumes once decided. */
export function isResumable(record: ApprovalRecord, resumeWith: string): boolean {
  return record.request.metadata?.[RESUME_WITH_KEY] === resumeWith;
}

interface MemoryClaim {
  owner: string;
  attempt: number;
  leaseExpiresMs: number;
  completed: boolean;
}

/** The resume claims of a memory store: the same rules as the durable stores, in one process. */
export function createMemoryResumeClaims(options: {
  getRecord(id: string): ApprovalRecord | undefined;
  /** Decided records, in the order they were decided. */
  decidedInOrder(): ApprovalRecord[];
  ensureOpen(): void;
  now?: () => number;
}) {
  const { getRecord, decidedInOrder, ensureOpen, now = Date.now } = options;
  const claims = new Map<string, MemoryClaim>();
  return {
    async claimResume(requestId: string, owner: string, leaseMs: number) {
      validateResumeClaimArguments(requestId, owner, leaseMs);
      ensureOpen();
      const record = getRecord(requestId);
      if (record === undefined || record.status === 'pending') return undefined;
      const current = claims.get(requestId);
      const at = now();
      if (current && (current.completed || current.leaseExpiresMs > at)) return undefined;
      const next: MemoryClaim = { owner, attempt: (current?.attempt ?? 0) + 1, leaseExpiresMs: at + leaseMs, completed: false };
      claims.set(requestId, next);
      const claim: ResumeClaim = { requestId, owner, attempt: next.attempt, leaseExpiresAt: new Date(next.leaseExpiresMs).toISOString() };
      return claim;
    },

    async renewResume(requestId: string, owner: string, leaseMs: number) {
      validateResumeClaimArguments(requestId, owner, leaseMs);
      ensureOpen();
      const current = claims.get(requestId);
      if (!current || current.completed || current.owner !== owner) return undefined;
      current.leaseExpiresMs = now() + leaseMs;
      const claim: ResumeClaim = {
        requestId,
        owner,
        attempt: current.attempt,
        leaseExpiresAt: new Date(current.leaseExpiresMs).toISOString(),
      };
      return claim;
    },

    async completeResume(requestId: string, owner: string) {
      validateResumeClaimArguments(requestId, owner);
      ensureOpen();
      const current = claims.get(requestId);
      if (!current || current.completed || current.owner !== owner) return false;
      current.completed = true;
      return true;
    },

    async listUnresumed(query: UnresumedQuery): Promise<UnresumedPage> {
      const { resumeWith, limit, cursor } = normalizeUnresumedQuery(query);
      ensureOpen();
      let start = 0;
      if (cursor !== undefined) {
        const match = /^u([0-9]{1,15})$/.exec(cursor);
        if (!match) throw invalidInput('cursor', cursor, 'is not a cursor returned by listUnresumed');
        start = Number(match[1]);
      }
      const decided = decidedInOrder();
      const items: ApprovalRecord[] = [];
      for (let index = start; index < decided.length; index++) {
        const record = decided[index] as ApprovalRecord;
        if (!isResumable(record, resumeWith) || claims.get(record.request.id)?.completed) continue;
        if (items.length === limit) return { items, nextCursor: `u${index}` };
        items.push(record);
      }
      return { items };
    },
  };
}

/** Thrown by a resumer when a store cannot hold resume claims. */
export function resumeClaimsUnsupported(field = 'store'): HitlError {
  return new HitlError(
    'invalid_input',
    `${field} cannot hold resume claims (it has no claimResume, completeResume and listUnresumed methods)`,
    {
      details: { field },
    },
  );
}
