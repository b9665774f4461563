/**
 * A manager's in-memory index of live grants, kept current by the store's change feed. It only
 * pre-selects: a use is confirmed by the store (`useGrant`), which judges revocation, expiry and
 * `maxUses` itself. Grants are bucketed by their most selective scope field (run, thread, requester
 * or none) and, inside a bucket, by exact tool name; only glob patterns are tested one by one. A
 * call looks at most four buckets, so 10,000 grants spread over threads cost a few map lookups.
 */
import type { CompiledCondition } from '../conditions.js';
import { identityKey } from '../identity.js';
import type { ToolGlob } from '../tool-glob.js';
import type { Grant } from './grant-types.js';
import { compileGrantCondition, compileGrantGlob } from './grant-validation.js';

/** A grant with its glob and condition compiled. */
export interface IndexedGrant {
  readonly grant: Grant;
  /** Absent for an exact tool name (found by map lookup). */
  readonly glob?: ToolGlob;
  readonly condition?: CompiledCondition;
  readonly expiresAtMs: number;
  /** `scope.requestedBy` folded as identities compare. */
  readonly requesterKey?: string;
}

/** What the index needs of a call. */
export interface GrantCallContext {
  toolName: string;
  threadId?: string | undefined;
  runId?: string | undefined;
  requestedBy?: string | undefined;
}

interface Bucket {
  exact: Map<string, IndexedGrant[]>;
  patterns: IndexedGrant[];
}

/** Tool-name characters only: such a pattern matches exactly one name. */
const exactName = /^[A-Za-z0-9_.:-]+$/;

function bucketKey(grant: Grant): string {
  const { runId, threadId, requestedBy } = grant.scope;
  if (runId !== undefined) return `r\u0000${runId}`;
  if (threadId !== undefined) return `t\u0000${threadId}`;
  if (requestedBy !== undefined) return `u\u0000${identityKey(requestedBy)}`;
  return '*';
}

/** Compiles a stored grant for the index; undefined when it cannot be (it then decides nothing here). */
function compile(grant: Grant): IndexedGrant | undefined {
  try {
    const exact = exactName.test(grant.toolPattern);
    const entry: { -readonly [K in keyof IndexedGrant]: IndexedGrant[K] } = {
      grant,
      expiresAtMs: grant.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(grant.expiresAt),
    };
    if (!exact) entry.glob = compileGrantGlob('toolPattern', grant.toolPattern);
    const condition = compileGrantCondition('when', grant.when);
    if (condition !== undefined) entry.condition = condition;
    if (grant.scope.requestedBy !== undefined) entry.requesterKey = identityKey(grant.scope.requestedBy);
    return entry;
  } catch {
    return undefined;
  }
}

export class GrantIndex {
  private readonly buckets = new Map<string, Bucket>();
  private readonly keys = new Map<string, { key: string; entry: IndexedGrant }>();

  /** How many grants are indexed. */
  get size(): number {
    return this.keys.size;
  }

  /** Adds (or replaces) a grant; a revoked or uncompilable grant is removed instead. */
  add(grant: Grant): void {
    this.remove(grant.id);
    if (grant.revokedAt !== undefined || (grant.maxUses !== undefined && grant.uses >= grant.maxUses)) return;
    const entry = compile(grant);
    if (entry === undefined) return;
    const key = bucketKey(grant);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { exact: new Map(), patterns: [] };
      this.buckets.set(key, bucket);
    }
    if (entry.glob === undefined) {
      const list = bucket.exact.get(grant.toolPattern);
      if (list === undefined) bucket.exact.set(grant.toolPattern, [entry]);
      else list.push(entry);
    } else {
      bucket.patterns.push(entry);
    }
    this.keys.set(grant.id, { key, entry });
  }

  has(id: string): boolean {
    return this.keys.has(id);
  }

  remove(id: string): void {
    const found = this.keys.get(id);
    if (found === undefined) return;
    this.keys.delete(id);
    const { key, entry } = found;
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return;
    const without = (list: IndexedGrant[]) => list.filter((item) => item !== entry);
    if (entry.glob !== undefined) {
      bucket.patterns = without(bucket.patterns);
    } else {
      const next = without(bucket.exact.get(entry.grant.toolPattern) ?? []);
      if (next.length === 0) bucket.exact.delete(entry.grant.toolPattern);
      else bucket.exact.set(entry.grant.toolPattern, next);
    }
    if (bucket.patterns.length === 0 && bucket.exact.size === 0) this.buckets.delete(key);
  }

  clear(): void {
    this.buckets.clear();
    this.keys.clear();
  }

  /**
   * The indexed grants that cover a call by tool name and scope and have not expired at `nowMs`
   * (conditions are the caller's to test). Undefined when there are none: the common case
   * allocates nothing.
   */
  covering(call: GrantCallContext, nowMs: number): IndexedGrant[] | undefined {
    let found: IndexedGrant[] | undefined;
    const visit = (key: string) => {
      const bucket = this.buckets.get(key);
      if (bucket === undefined) return;
      const exact = bucket.exact.get(call.toolName);
      if (exact !== undefined) for (const entry of exact) if (this.applies(entry, call, nowMs)) (found ??= []).push(entry);
      for (const entry of bucket.patterns) if (this.applies(entry, call, nowMs) && entry.glob?.test(call.toolName) === true) (found ??= []).push(entry);
    };
    if (call.runId !== undefined) visit(`r\u0000${call.runId}`);
    if (call.threadId !== undefined) visit(`t\u0000${call.threadId}`);
    if (call.requestedBy !== undefined) visit(`u\u0000${identityKey(call.requestedBy)}`);
    visit('*');
    return found;
  }

  /** Every scope field of the grant must equal the call's: a field the call lacks means "not covered". */
  private applies(entry: IndexedGrant, call: GrantCallContext, nowMs: number): boolean {
    if (entry.expiresAtMs <= nowMs) return false;
    const { scope } = entry.grant;
    if (scope.runId !== undefined && scope.runId !== call.runId) return false;
    if (scope.threadId !== undefined && scope.threadId !== call.threadId) return false;
    if (entry.requesterKey !== undefined && (call.requestedBy === undefined || identityKey(call.requestedBy) !== entry.requesterKey)) return false;
    return true;
  }
}
