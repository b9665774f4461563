/**
 * Where grants meet the policies. Order: a `deny` from the policies first (a grant never overrides
 * it); then deny grants; then approve grants, unless the applicable policy says `grants: false`;
 * then the policies' own answer. A grant decides only once the store confirmed its use (one atomic
 * count); any error while looking a grant up falls through to the policies, never to approve. A use
 * counts only when it decides (or is one approval of) a call: grants the caller knows cannot count
 * are skipped before counting, and a use whose call stops later is given back ({@link GrantGate.release}).
 */
import { sameIdentity } from '../identity.js';
import { errorMessage } from '../internal.js';
import type { ApprovalStore, Logger, PolicyCall, PolicyEvaluation } from '../types.js';
import { GrantIndex, type IndexedGrant } from './grant-index.js';
import type { Grant, GrantChange } from './grant-types.js';

/** How many live grants a manager loads into its index when it starts. */
const INDEX_LOAD_LIMIT = 100_000;

export interface GrantGateOptions {
  store: ApprovalStore;
  now: () => number;
  logger: Logger;
  /** Whether the policy an evaluation names refuses grants (`grants: false`). */
  refusesGrants(policyName: string): boolean;
  /**
   * Four eyes: whether the policy an evaluation names needs several approvals. A grant is at most
   * one of them, which only `submit` can record, so `evaluateNow` never approves such a call by a grant.
   */
  needsSeveralApprovals?(policyName: string): boolean;
}

/** What the call's grant lookup found before any use is counted. */
type Found = { kind: 'none' } | { kind: 'review'; reason: string } | { kind: 'grants'; deny: IndexedGrant[]; approve: IndexedGrant[] };

/** What a grant decides for a call to `toolName`, built once per grant and tool (a frozen object the hot path reuses). */
function grantEvaluation(entry: IndexedGrant, toolName: string): PolicyEvaluation {
  if (entry.cached?.toolName === toolName) return entry.cached.evaluation;
  const { grant } = entry;
  const verb = grant.effect === 'approve' ? 'approves' : 'denies';
  const where = [
    grant.scope.threadId && `thread '${grant.scope.threadId}'`,
    grant.scope.runId && `run '${grant.scope.runId}'`,
    grant.scope.requestedBy && `requester '${grant.scope.requestedBy}'`,
  ]
    .filter(Boolean)
    .join(', ');
  const evaluation: PolicyEvaluation = Object.freeze({
    outcome: grant.effect === 'approve' ? 'approve' : 'deny',
    reason: `grant '${grant.id}' (by ${grant.grantedBy}) ${verb} '${toolName}'${where ? ` in ${where}` : ''}`,
    grant: grant.id,
  });
  entry.cached = { toolName, evaluation };
  return evaluation;
}

export class GrantGate {
  readonly index = new GrantIndex();
  /** Settles when the live grants are loaded (or loading failed: then only grants seen on the feed are indexed). */
  readonly ready: Promise<void>;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: GrantGateOptions) {
    const { store } = options;
    this.unsubscribe = store.subscribeGrants?.((change: GrantChange) => this.apply(change)) ?? (() => {});
    this.ready = this.load();
  }

  private async load(): Promise<void> {
    const { store, now, logger } = this.options;
    if (!store.listGrants) return;
    try {
      const grants = await store.listGrants({ active: true, limit: INDEX_LOAD_LIMIT, at: new Date(now()).toISOString() });
      for (const grant of grants) if (!this.index.has(grant.id)) this.index.add(grant);
    } catch (error) {
      logger.warn(`hitl: could not load grants; calls they cover will go to the policies: ${errorMessage(error)}`);
    }
  }

  private apply(change: GrantChange): void {
    if (change.type === 'grant-revoked') this.index.remove(change.grant.id);
    else this.index.add(change.grant);
  }

  /** A grant this manager made or revoked, indexed at once (the feed may bring it later). */
  learn(grant: Grant): void {
    if (grant.revokedAt !== undefined) this.index.remove(grant.id);
    else this.index.add(grant);
  }

  close(): void {
    this.unsubscribe();
    this.index.clear();
  }

  private find(call: PolicyCall, policy: PolicyEvaluation, nowMs: number): Found {
    if (this.index.size === 0 || policy.outcome === 'deny') return { kind: 'none' };
    const covering = this.index.covering(call, nowMs);
    if (covering === undefined) return { kind: 'none' };
    const deny: IndexedGrant[] = [];
    const approve: IndexedGrant[] = [];
    for (const entry of covering) {
      const result = entry.condition?.test(call);
      if (result !== undefined && !result.ok) {
        // A deny grant that cannot be tested must not let the call through: a human decides.
        if (entry.grant.effect === 'deny')
          return { kind: 'review', reason: `grant '${entry.grant.id}' could not be tested: its ${result.reason}` };
        continue;
      }
      if (result !== undefined && !result.holds) continue;
      if (entry.grant.effect === 'deny') deny.push(entry);
      // No self-approval through a grant: one its maker made never approves the maker's own calls.
      else if (call.requestedBy === undefined || !sameIdentity(entry.grant.grantedBy, call.requestedBy)) approve.push(entry);
    }
    if (deny.length === 0 && approve.length === 0) return { kind: 'none' };
    return { kind: 'grants', deny, approve };
  }

  private needsSeveral(policy: PolicyEvaluation): boolean {
    return policy.policy !== undefined && this.options.needsSeveralApprovals?.(policy.policy) === true;
  }

  private refuses(policy: PolicyEvaluation): boolean {
    return policy.policy !== undefined && this.options.refusesGrants(policy.policy);
  }

  /**
   * `evaluate`'s grant step, synchronous. With a store that counts uses in this process
   * (`useGrantNow`) a covering approve grant decides here; with a shared store it cannot be confirmed
   * without a round trip, so the call goes on to `submit`, which confirms it.
   */
  evaluateNow(call: PolicyCall, policy: PolicyEvaluation): PolicyEvaluation {
    // The common case, no grant at all or a deny policy: one comparison added to today's evaluate.
    if (this.index.size === 0 || policy.outcome === 'deny') return policy;
    try {
      const nowMs = this.options.now();
      const found = this.find(call, policy, nowMs);
      if (found.kind === 'none') return policy;
      if (found.kind === 'review') return { outcome: 'review', reason: found.reason };
      const { store } = this.options;
      for (const entry of found.deny) {
        if (store.useGrantNow === undefined || store.useGrantNow(entry.grant.id, nowMs)) return grantEvaluation(entry, call.toolName);
        this.index.remove(entry.grant.id);
      }
      if (this.refuses(policy) || this.needsSeveral(policy) || store.useGrantNow === undefined) return policy;
      for (const entry of found.approve) {
        if (store.useGrantNow(entry.grant.id, nowMs)) return grantEvaluation(entry, call.toolName);
        this.index.remove(entry.grant.id);
      }
      return policy;
    } catch (error) {
      this.options.logger.warn(`hitl: grant lookup failed; the policies decide '${call.toolName}': ${errorMessage(error)}`);
      return policy;
    }
  }

  /**
   * The same as {@link evaluateNow}, confirming each use with the store (one atomic count). An
   * approve grant `accepts` refuses is skipped before any use is counted (four eyes: a grant made by
   * the requester, or by someone who already approved the request, counts for nothing).
   */
  async evaluate(call: PolicyCall, policy: PolicyEvaluation, accepts?: (grant: Grant) => boolean): Promise<PolicyEvaluation> {
    const { now, logger } = this.options;
    await this.ready;
    const nowMs = now();
    let found: Found;
    try {
      found = this.find(call, policy, nowMs);
    } catch (error) {
      logger.warn(`hitl: grant lookup failed; the policies decide '${call.toolName}': ${errorMessage(error)}`);
      return policy;
    }
    if (found.kind === 'none') return policy;
    if (found.kind === 'review') return { outcome: 'review', reason: found.reason };
    const at = new Date(nowMs).toISOString();
    for (const entry of found.deny) {
      try {
        if (await this.use(entry.grant.id, at, nowMs)) return grantEvaluation(entry, call.toolName);
        this.index.remove(entry.grant.id);
      } catch (error) {
        // The store could not count the use of a deny grant: refusing is the safe side.
        logger.warn(`hitl: could not count a use of deny grant '${entry.grant.id}'; denying: ${errorMessage(error)}`);
        return grantEvaluation(entry, call.toolName);
      }
    }
    if (this.refuses(policy)) return policy;
    for (const entry of found.approve) {
      if (accepts !== undefined && !accepts(entry.grant)) continue;
      try {
        if (await this.use(entry.grant.id, at, nowMs)) return grantEvaluation(entry, call.toolName);
        this.index.remove(entry.grant.id);
      } catch (error) {
        logger.warn(`hitl: could not count a use of grant '${entry.grant.id}'; the policies decide: ${errorMessage(error)}`);
        return policy;
      }
    }
    return policy;
  }

  /**
   * Gives back the use {@link evaluate} counted for a call the grant then did not decide, and
   * re-indexes the grant (it may be live again). A store that cannot give it back keeps the use
   * counted: a grant may then decide one call fewer, never one more.
   */
  async release(id: string): Promise<void> {
    const { store, logger } = this.options;
    if (store.releaseGrantUse === undefined) return;
    try {
      const grant = await store.releaseGrantUse(id);
      if (grant !== undefined) this.learn(grant);
    } catch (error) {
      logger.warn(`hitl: could not give back a use of grant '${id}'; it stays counted: ${errorMessage(error)}`);
    }
  }

  /** Counts one use with the store; true when it was counted (the grant was live). */
  private async use(id: string, at: string, nowMs: number): Promise<boolean> {
    const { store } = this.options;
    if (store.useGrantNow !== undefined) return store.useGrantNow(id, nowMs);
    if (store.useGrant === undefined) return false;
    return (await store.useGrant(id, at)) !== undefined;
  }
}
