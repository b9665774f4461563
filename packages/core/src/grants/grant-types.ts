// The public types of remembered decisions (grants) and of decisions on many requests.
import type { RequestStatus } from '../constants.js';
import type { AddApprovalInput, ApprovalRecord, DecidePatch } from '../types.js';
import type { OutboxJobInput } from '../outbox/types.js';

/**
 * A remembered decision: "allow `send_email` in this thread", "never allow `drop_*`". Calls it covers
 * are decided without asking anyone, and the record says which grant decided
 * (`evaluation.grant`, `response.metadata.grant`). A grant never overrides a `deny` policy, and never
 * satisfies a policy with `grants: false`.
 *
 * @example
 * ```ts
 * const grant: Grant = await manager.grant({
 *   effect: 'approve',
 *   toolPattern: 'send_email',
 *   scope: { threadId: 'support-chat-17' },
 *   maxUses: 5,
 *   grantedBy: 'alice',
 * });
 * grant.uses; // 0
 * ```
 */
export interface Grant {
  /** `'grant-'` + a random UUID. */
  id: string;
  /** `'approve'` runs the calls it covers; `'deny'` refuses them ("never"). */
  effect: GrantEffect;
  /** A tool-name glob, with the same rules as a policy's `toolPattern`. */
  toolPattern: string;
  /** A CEL condition over the call, as a policy's string `when`; the grant covers a call only when it holds. */
  when?: string;
  /**
   * Where the grant applies: each field present must equal the call's (`requestedBy` compared as
   * identities are). A call without that field is not covered. Empty: every call.
   */
  scope: GrantScope;
  /** ISO 8601; absent when the grant lives until revoked (or used up). */
  expiresAt?: string;
  /** The most calls the grant decides, across every instance sharing the store. */
  maxUses?: number;
  /** Calls decided by the grant so far. */
  uses: number;
  /** Who made it (the reviewer who chose "remember", or the caller of `manager.grant`). */
  grantedBy: string;
  /** ISO 8601. */
  createdAt: string;
  reason?: string;
  /** ISO 8601: when it was revoked; a revoked grant decides nothing. */
  revokedAt?: string;
  revokedBy?: string;
  /** The request whose decision made the grant (`respond` with `remember`). */
  sourceRequestId?: string;
}

/**
 * What a grant does to the calls it covers.
 *
 * @example
 * ```ts
 * const never: GrantEffect = 'deny';
 * ```
 */
export type GrantEffect = 'approve' | 'deny';

/**
 * The context a grant is limited to; see {@link Grant.scope}.
 *
 * @example
 * ```ts
 * const scope: GrantScope = { threadId: 'support-chat-17', requestedBy: 'ann' };
 * ```
 */
export interface GrantScope {
  threadId?: string;
  runId?: string;
  requestedBy?: string;
}

/**
 * What `manager.grant` takes: a grant made in code or by an admin rather than from a decision.
 *
 * @example
 * ```ts
 * await manager.grant({ effect: 'deny', toolPattern: 'drop_*', grantedBy: 'ops', reason: 'never in production' });
 * ```
 */
export interface GrantInput {
  effect: GrantEffect;
  toolPattern: string;
  when?: string;
  scope?: GrantScope;
  /** How long the grant lives, in ms (> 0). Absent: until revoked. */
  ttlMs?: number;
  /** An integer ≥ 1. Absent: unlimited. */
  maxUses?: number;
  /** Non-empty; an identity like `respondedBy`. */
  grantedBy: string;
  reason?: string;
}

/**
 * `remember` of `RespondInput`: turn this decision into a grant. An approve makes an approve
 * grant, a reject a deny grant (a `modify` cannot be remembered). The scope takes the request's
 * own `threadId` / `runId` / `requestedBy`; a scope the request lacks is `invalid_input`.
 *
 * @example
 * ```ts
 * await manager.respond(id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'thread', ttlMs: 3_600_000 } });
 * ```
 */
export interface RememberInput {
  /** `'thread'`, `'run'`, `'requester'` (the request's requestedBy) or `'global'` (every call of the tool). */
  scope: RememberScope;
  ttlMs?: number;
  maxUses?: number;
  /** Default: the request's tool name exactly. */
  toolPattern?: string;
  /** A CEL condition, as {@link Grant.when}. */
  when?: string;
}

/**
 * Where a remembered decision applies.
 *
 * @example
 * ```ts
 * const scope: RememberScope = 'thread';
 * ```
 */
export type RememberScope = 'thread' | 'run' | 'requester' | 'global';

/**
 * Filters of `manager.listGrants`. Results are newest first.
 *
 * @example
 * ```ts
 * const { items } = await manager.listGrants({ active: true, tool: 'send_email' });
 * ```
 */
export interface GrantQuery {
  /** `true`: only grants that can still decide (not revoked, not expired, not used up); `false`: only the others. */
  active?: boolean;
  /** Grants whose pattern matches this tool name. */
  tool?: string;
  /** Grants scoped to exactly this thread. */
  threadId?: string;
  /** 1..1000, default 100. */
  limit?: number;
}

/**
 * What `manager.listGrants` answers.
 *
 * @example
 * ```ts
 * const { items }: GrantList = await manager.listGrants();
 * ```
 */
export interface GrantList {
  items: Grant[];
}

/**
 * What a store reports to {@link ApprovalStoreGrants.subscribeGrants} listeners (and
 * `manager.subscribeGrants` passes on).
 *
 * @example
 * ```ts
 * manager.subscribeGrants((change: GrantChange) => console.log(change.type, change.grant.toolPattern));
 * ```
 */
export interface GrantChange {
  type: 'grant-created' | 'grant-revoked';
  grant: Grant;
}

/**
 * The requests `manager.respondMany` decides: listed ids, or every pending request of a run
 * or of a thread.
 *
 * @example
 * ```ts
 * await manager.respondMany({ runId: 'turn-42' }, { decision: 'approve', respondedBy: 'alice' });
 * ```
 */
export type RespondManyTarget = { ids: string[] } | { runId: string } | { threadId: string };

/**
 * One decision of {@link ApprovalStoreGrants.decideMany}, or (four eyes) one approval of a request
 * that needs several (see `ApprovalStore.addApproval`).
 *
 * @example
 * ```ts
 * const item: DecideManyItem = { id, expectedStatus: 'pending', patch: { status: 'approved', closedAt: new Date().toISOString() } };
 * const approval: DecideManyItem = { id, approval: { approval: { by: 'alice', at }, required: 2, response } };
 * ```
 */
export type DecideManyItem =
  | {
      id: string;
      expectedStatus: RequestStatus;
      patch: DecidePatch;
      approval?: undefined;
      /** Outbox jobs (stores with an outbox) written in the same transaction as this decision. */
      jobs?: OutboxJobInput[];
    }
  | {
      id: string;
      approval: AddApprovalInput;
      expectedStatus?: undefined;
      patch?: undefined;
      /** Outbox jobs written with this approval, and only when it moves the request to `approved`. */
      jobs?: OutboxJobInput[];
      /** Outbox jobs written with this approval, and only when it leaves the request pending. */
      partialJobs?: OutboxJobInput[];
    };

/**
 * The optional grant and bulk-decision methods of an `ApprovalStore`. A store without them keeps
 * working; grants and `respondMany` then answer `invalid_input` naming the missing method. The
 * conformance suite (`storeConformanceCases` in `@hitl/core/testing`) checks them.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * const used = await store.useGrant?.(grantId, new Date().toISOString()); // undefined once used up
 * ```
 */
export interface ApprovalStoreGrants {
  /** Stores a new grant (its id is new). */
  createGrant?(grant: Grant): Promise<Grant>;
  getGrant?(id: string): Promise<Grant | undefined>;
  /** Marks a grant revoked. `not_found` for an unknown id; an already revoked grant is returned as it is. */
  revokeGrant?(id: string, revocation: { revokedBy: string; revokedAt: string }): Promise<Grant>;
  /** Newest first, filtered; `active` is judged at `at` (ISO 8601; a shared store may use its own clock). */
  listGrants?(query: GrantQuery & { at: string }): Promise<Grant[]>;
  /**
   * Counts one use of a grant atomically, if it is live at `at` (not revoked, not expired, not used
   * up): returns the grant after the count, or `undefined` when it could not be used. A store shared
   * across processes judges expiry by its own clock.
   */
  useGrant?(id: string, at: string): Promise<Grant | undefined>;
  /**
   * Gives back one use counted by `useGrant` (or `useGrantNow`) for a call the grant did not decide
   * after all (the call was vetoed or not stored, or someone else decided the request first), in one
   * atomic step: `uses` goes down by one and never below 0, so it never passes `maxUses`. Returns the
   * grant after it, or `undefined` when there was no use to give back (an unknown grant, or `uses` 0).
   */
  releaseGrantUse?(id: string): Promise<Grant | undefined>;
  /**
   * `useGrant` done synchronously, answering whether the use was counted: only for stores that live
   * in this process (the memory store). It lets `evaluate` decide a call a grant covers with no await.
   */
  useGrantNow?(id: string, atMs: number): boolean;
  /**
   * Decides every item, all or nothing, in one transaction, and stores `grant` (if given) in the
   * same transaction. `conflict` (details.ids: the ids) when any item is not at its expected status
   * or has expired; `not_found` (details.ids) when any does not exist. Nothing changes then.
   */
  decideMany?(items: DecideManyItem[], options?: { grant?: Grant }): Promise<ApprovalRecord[]>;
  /** Listens to grant changes, including those made by other processes sharing the store. */
  subscribeGrants?(listener: (change: GrantChange) => void): () => void;
}
