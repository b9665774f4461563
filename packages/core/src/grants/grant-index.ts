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
  /** The last evaluation this grant gave, for the tool it gave it for: the hot path reuses it. */
  cached?: { toolName: string; evaluation: Readonly<import('../types.js').PolicyEvaluation> };
}

/** What the index needs of a call. */
export interface GrantCallContext {
  toolName: string;
  threadId?: string | undefined;
  runId?: string | undefined;
  requestedBy?: string | undefined;
}

/** The grants of one scope value: exact tool names by map, globs in a list with a per-name match cache. */
class Bucket {
  readonly exact = new Map<string, IndexedGrant[]>();
  private patterns: IndexedGrant[] = [];
  /** Which globs match a tool name, remembered (valid names are short and few): one map lookup per call. */
  private readonly matches = new Map<string, readonly IndexedGrant[]>();

  get empty(): boolean {
    return this.exact.size === 0 && this.patterns.length === 0;
  }

  add(entry: IndexedGrant): void {
    if (entry.glob === undefined) {
      const list = this.exact.get(entry.grant.toolPattern);
      if (list === undefined) this.exact.set(entry.grant.toolPattern, [entry]);
      else list.push(entry);
      return;
    }
    this.patterns = [...this.patterns, entry];
    this.matches.clear();
  }

  remove(entry: IndexedGrant): void {
    if (entry.glob !== undefined) {
      this.patterns = this.patterns.filter((item) => item !== entry);
      this.matches.clear();
      return;
    }
    const next = (this.exact.get(entry.grant.toolPattern) ?? []).filter((item) => item !== entry);
    if (next.length === 0) this.exact.delete(entry.grant.toolPattern);
    else this.exact.set(entry.grant.toolPattern, next);
  }

  /** The glob grants matching a tool name (scope and expiry not checked). */
  patternsFor(toolName: string): readonly IndexedGrant[] {
    if (this.patterns.length === 0) return none;
    let found = this.matches.get(toolName);
    if (found === undefined) {
      found = this.patterns.filter((entry) => entry.glob?.test(toolName) === true);
      if (this.matches.size >= MATCH_CACHE_LIMIT) this.matches.clear();
      this.matches.set(toolName, found);
    }
    return found;
  }
}

const none: readonly IndexedGrant[] = Object.freeze([]);
/** Tool names whose glob matches a bucket remembers; a valid name is at most 128 characters. */
const MATCH_CACHE_LIMIT = 4096;

/** Tool-name characters only: such a pattern matches exactly one name. */
const exactName = /^[A-Za-z0-9_.:-]+$/;

type ScopeKind = 'run' | 'thread' | 'requester' | 'global';

/** The most selective scope field of a grant and its value: the bucket it lives in. */
function bucketOf(grant: Grant): [ScopeKind, string] {
  const { runId, threadId, requestedBy } = grant.scope;
  if (runId !== undefined) return ['run', runId];
  if (threadId !== undefined) return ['thread', threadId];
  if (requestedBy !== undefined) return ['requester', identityKey(requestedBy)];
  return ['global', ''];
}

/**
 * Compiles a stored grant for the index. An approve grant that cannot be compiled (a stored pattern or
 * condition a later version refuses) is left out: it approves nothing. A deny grant that cannot be
 * compiled still covers every call in its scope with a condition that cannot be tested, so those
 * calls go to a human instead of slipping past the "never" a reviewer recorded.
 */
function compile(grant: Grant): IndexedGrant | undefined {
  try {
    return compileStrictly(grant);
  } catch (error) {
    if (grant.effect !== 'deny') return undefined;
    const reason = `stored condition could not be compiled (${error instanceof Error ? error.message : String(error)})`;
    return {
      grant,
      glob: { pattern: grant.toolPattern, negated: false, words: 1, fixedLength: 0, lastSteps: 0, test: () => true },
      condition: { kind: 'cel', source: String(grant.when ?? grant.toolPattern), test: () => ({ ok: false, reason }) },
      expiresAtMs: grant.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(grant.expiresAt),
    };
  }
}

function compileStrictly(grant: Grant): IndexedGrant {
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
}

export class GrantIndex {
  private readonly scopes: Record<ScopeKind, Map<string, Bucket>> = {
    run: new Map(),
    thread: new Map(),
    requester: new Map(),
    global: new Map(),
  };
  private readonly entries = new Map<string, { kind: ScopeKind; value: string; entry: IndexedGrant }>();

  /** How many grants are indexed. */
  get size(): number {
    return this.entries.size;
  }

  /** Adds (or replaces) a grant; a revoked, used-up or uncompilable grant is removed instead. */
  add(grant: Grant): void {
    this.remove(grant.id);
    if (grant.revokedAt !== undefined || (grant.maxUses !== undefined && grant.uses >= grant.maxUses)) return;
    const entry = compile(grant);
    if (entry === undefined) return;
    const [kind, value] = bucketOf(grant);
    const buckets = this.scopes[kind];
    let bucket = buckets.get(value);
    if (bucket === undefined) {
      bucket = new Bucket();
      buckets.set(value, bucket);
    }
    bucket.add(entry);
    this.entries.set(grant.id, { kind, value, entry });
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  remove(id: string): void {
    const found = this.entries.get(id);
    if (found === undefined) return;
    this.entries.delete(id);
    const buckets = this.scopes[found.kind];
    const bucket = buckets.get(found.value);
    if (bucket === undefined) return;
    bucket.remove(found.entry);
    if (bucket.empty) buckets.delete(found.value);
  }

  clear(): void {
    for (const buckets of Object.values(this.scopes)) buckets.clear();
    this.entries.clear();
  }

  /**
   * The indexed grants that cover a call by tool name and scope and have not expired at `nowMs`
   * (conditions are the caller's to test): at most four map lookups, each followed by a lookup by
   * tool name. Undefined when there are none: the common case allocates nothing.
   */
  covering(call: GrantCallContext, nowMs: number): IndexedGrant[] | undefined {
    const { scopes } = this;
    let found: IndexedGrant[] | undefined;
    if (call.runId !== undefined && scopes.run.size > 0) found = this.visit(scopes.run.get(call.runId), call, nowMs, found);
    if (call.threadId !== undefined && scopes.thread.size > 0) found = this.visit(scopes.thread.get(call.threadId), call, nowMs, found);
    if (call.requestedBy !== undefined && scopes.requester.size > 0)
      found = this.visit(scopes.requester.get(identityKey(call.requestedBy)), call, nowMs, found);
    return this.visit(scopes.global.get(''), call, nowMs, found);
  }

  private visit(
    bucket: Bucket | undefined,
    call: GrantCallContext,
    nowMs: number,
    found: IndexedGrant[] | undefined,
  ): IndexedGrant[] | undefined {
    if (bucket === undefined) return found;
    const exact = bucket.exact.get(call.toolName);
    if (exact !== undefined) for (const entry of exact) if (this.applies(entry, call, nowMs)) (found ??= []).push(entry);
    for (const entry of bucket.patternsFor(call.toolName)) if (this.applies(entry, call, nowMs)) (found ??= []).push(entry);
    return found;
  }

  /** Every scope field of the grant must equal the call's: a field the call lacks means "not covered". */
  private applies(entry: IndexedGrant, call: GrantCallContext, nowMs: number): boolean {
    if (entry.expiresAtMs <= nowMs) return false;
    const { scope } = entry.grant;
    if (scope.runId !== undefined && scope.runId !== call.runId) return false;
    if (scope.threadId !== undefined && scope.threadId !== call.threadId) return false;
    if (entry.requesterKey !== undefined && (call.requestedBy === undefined || identityKey(call.requestedBy) !== entry.requesterKey))
      return false;
    return true;
  }
}
