// The manager's grant methods: grant, revokeGrant, listGrants, respondMany, and deciding the pending requests a new grant covers.
import { randomUUID } from 'node:crypto';
import { statusOfDecision } from '../constants.js';
import { approvalInput, requiredApprovals } from '../four-eyes.js';
import { approvalsAmong, grantApproval, grantMayApprove, needsSeveral } from '../four-eyes-grants.js';
import { HitlError } from '../hitl-error.js';
import { requireIdentity } from '../identity.js';
import { contextOfRequest } from '../policy-engine.js';
import { checkResponse, jsonCopy } from '../request-validation.js';
import { storeFailure } from '../store-failure.js';
import type { PolicyEngine } from '../policy-engine.js';
import type {
  AddApprovalInput,
  ApprovalRecord,
  ApprovalStore,
  DecidePatch,
  InteractionResponse,
  ListQuery,
  Logger,
  PolicyCall,
  PolicyEvaluation,
  RespondInput,
  StoredRequest,
} from '../types.js';
import { invalidInput, isPlainObject } from '../validation.js';
import { GrantGate } from './grant-gate.js';
import type {
  DecideManyItem,
  Grant,
  GrantChange,
  GrantInput,
  GrantList,
  GrantQuery,
  RememberInput,
  RespondManyTarget,
} from './grant-types.js';
import { grantOfInput, grantOfRemember, normalizeGrantQuery, requireGrantId } from './grant-validation.js';
import { MAX_RESPOND_MANY, requireNoneByRequester, resolveTarget } from './respond-many.js';

export interface GrantOperationsContext {
  store: ApprovalStore;
  engine: PolicyEngine;
  now: () => number;
  logger: Logger;
  ensureOpen(): void;
  /** What the policies alone say about a stored request. */
  evaluatePolicies(request: StoredRequest): PolicyEvaluation;
  /** Hooks of a decision this manager made. */
  followUpDecision(record: ApprovalRecord): void;
  /** Decides one pending request the way `respond` does (with its outbox jobs, when the store has an outbox). */
  decidePending(id: string, patch: DecidePatch): Promise<ApprovalRecord>;
  /** Four eyes: records one approval the way `respond` does (the final one with the decision's outbox jobs). */
  addApproval(id: string, input: AddApprovalInput): Promise<ApprovalRecord>;
  /** Decides many all or nothing the way `respond` would each (outbox jobs in the same write), when the store has an outbox. */
  decideMany?: (items: DecideManyItem[], options?: { grant?: Grant }) => Promise<ApprovalRecord[]>;
  reportError(error: Error, record?: ApprovalRecord): void;
}

type StoreMethod = 'createGrant' | 'getGrant' | 'revokeGrant' | 'listGrants' | 'decideMany';

/** The store method, or `invalid_input` saying the store cannot keep grants or decide in bulk. */
export function requireStoreMethod<K extends StoreMethod>(store: ApprovalStore, method: K): NonNullable<ApprovalStore[K]> {
  const found = store[method];
  if (typeof found !== 'function') {
    throw new HitlError(
      'invalid_input',
      `the store has no ${method}(): it cannot keep grants or decide requests together (use createMemoryStore or @hitl/store-postgres)`,
      {
        details: { field: `store.${method}` },
      },
    );
  }
  return found.bind(store) as NonNullable<ApprovalStore[K]>;
}

/** The call a stored request is, as conditions and grants see it. */
export function callOfRequest(request: StoredRequest): PolicyCall {
  const context = contextOfRequest(request);
  const call: PolicyCall = {
    toolName: request.toolName,
    input: context.input ?? {},
    confidence: request.confidence ?? 0,
    riskLevel: request.riskLevel ?? 'irreversible',
  };
  if (context.requestedBy !== undefined) call.requestedBy = context.requestedBy;
  if (context.threadId !== undefined) call.threadId = context.threadId;
  if (context.runId !== undefined) call.runId = context.runId;
  if (context.metadata !== undefined) call.metadata = context.metadata;
  return call;
}

/** The automatic response of a call a grant decided. */
export function grantResponse(requestId: string, evaluation: PolicyEvaluation, respondedAt: string): InteractionResponse {
  return {
    requestId,
    decision: evaluation.outcome === 'approve' ? 'approve' : 'reject',
    feedback: evaluation.reason,
    respondedAt,
    automatic: true,
    metadata: { cause: 'grant', grant: evaluation.grant },
  };
}

export function createGrantOperations(context: GrantOperationsContext) {
  const { store, engine, now, logger, ensureOpen, evaluatePolicies, followUpDecision, decidePending, addApproval } = context;
  /** `store.decideMany`, through the outbox when the manager has one; invalid_input when the store lacks it. */
  const decideTogether = (items: DecideManyItem[], options?: { grant?: Grant }): Promise<ApprovalRecord[]> => {
    const decideMany = requireStoreMethod(store, 'decideMany');
    return context.decideMany ? context.decideMany(items, options) : decideMany.call(store, items, options);
  };
  const reportError = (error: unknown, record?: ApprovalRecord) => context.reportError(error as Error, record);
  const gate = new GrantGate({
    store,
    now,
    logger,
    refusesGrants: (name) => engine.policyNamed(name)?.grants === false,
    // Four eyes: a grant counts as one approval, which only submit records; the sync fast path never approves such a call.
    needsSeveralApprovals: (name) => (engine.policyNamed(name)?.approvals ?? 1) > 1,
  });
  const listeners = new Set<() => void>();
  const iso = (ms: number) => new Date(ms).toISOString();
  const guard = async <T>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      throw storeFailure(error);
    }
  };

  /**
   * One pending request a new grant may cover, decided by the same rules as a new call: deny
   * policies, deny grants and `grants: false` still win, and a decision counts one use. A grant that
   * cannot be one of its approvals (four eyes: made by the requester, or its maker approved already)
   * is skipped before counting; a use whose write the store refused (someone decided first) is given back.
   */
  const decideOneCovered = async (record: ApprovalRecord): Promise<void> => {
    const several = needsSeveral(record);
    const evaluation = await gate.evaluate(
      callOfRequest(record.request),
      evaluatePolicies(record.request),
      several ? grantMayApprove(record.request, record) : undefined,
    );
    if (evaluation.grant === undefined) return;
    const at = iso(now());
    const response = grantResponse(record.request.id, evaluation, at);
    let decided: ApprovalRecord;
    try {
      if (several) {
        // Four eyes: the grant is one approval (by its maker), never the whole quorum.
        const approval = await grantApproval(store, { request: record.request, evaluation, at, record });
        if (approval === undefined || store.addApproval === undefined) {
          await gate.release(evaluation.grant);
          return;
        }
        decided = await addApproval(record.request.id, { approval, required: requiredApprovals(record), response });
      } else {
        decided = await decidePending(record.request.id, { status: statusOfDecision[response.decision], response, closedAt: at });
      }
    } catch (error) {
      // A refusal (conflict, not_found) means nothing was written; after store_unavailable the write may have landed, so the use stays.
      if (HitlError.is(error) && !HitlError.is(error, 'store_unavailable')) await gate.release(evaluation.grant);
      if (!HitlError.is(error, 'conflict')) reportError(error, record);
      return;
    }
    followUpDecision(decided);
  };

  /**
   * A new approve grant decides the pending requests it covers (the other calls of the same turn),
   * each by {@link decideOneCovered}, every page of them: list cursors move to older records only,
   * so the loop ends when the store reports no further page (or repeats a cursor).
   */
  const decideCovered = async (grant: Grant, exceptId?: string): Promise<void> => {
    if (grant.effect !== 'approve') return;
    const filter: ListQuery = { status: 'pending', limit: MAX_RESPOND_MANY };
    if (grant.scope.runId !== undefined) filter.runId = grant.scope.runId;
    if (grant.scope.threadId !== undefined) filter.threadId = grant.scope.threadId;
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await store.list(cursor === undefined ? filter : { ...filter, cursor });
      for (const record of page.items) {
        if (record.request.id === exceptId || record.request.type !== 'approval') continue;
        try {
          await decideOneCovered(record);
        } catch (error) {
          reportError(error, record);
        }
      }
      cursor = page.nextCursor;
      if (cursor !== undefined && seen.has(cursor)) break;
      if (cursor !== undefined) seen.add(cursor);
    } while (cursor !== undefined);
  };

  const grant = async (input: GrantInput): Promise<Grant> => {
    ensureOpen();
    const create = requireStoreMethod(store, 'createGrant');
    const stored = await guard(() => create(grantOfInput(input, now())));
    gate.learn(stored);
    await decideCovered(stored).catch((error: unknown) => reportError(error));
    return stored;
  };

  const revokeGrant = async (id: string, input: { revokedBy: string }): Promise<Grant> => {
    ensureOpen();
    requireGrantId(id);
    if (!isPlainObject(input)) throw invalidInput('input', input, 'must be { revokedBy }');
    const revokedBy = requireIdentity('revokedBy', input.revokedBy);
    const revoke = requireStoreMethod(store, 'revokeGrant');
    const revoked = await guard(() => revoke(id, { revokedBy, revokedAt: iso(now()) }));
    gate.learn(revoked);
    return revoked;
  };

  const listGrants = async (query?: GrantQuery): Promise<GrantList> => {
    ensureOpen();
    const normalized = normalizeGrantQuery(query);
    const list = requireStoreMethod(store, 'listGrants');
    return { items: await guard(() => list({ ...normalized, at: iso(now()) })) };
  };

  const getGrant = async (id: string): Promise<Grant | undefined> => {
    ensureOpen();
    requireGrantId(id);
    const get = requireStoreMethod(store, 'getGrant');
    return guard(() => get(id));
  };

  const respondMany = async (target: RespondManyTarget, input: RespondInput): Promise<ApprovalRecord[]> => {
    ensureOpen();
    const { decision, feedback, respondedBy, metadata, modified, idempotencyKey } = checkResponse(input);
    if (decision === 'modify' || modified !== undefined)
      throw invalidInput('decision', decision, "must be 'approve' or 'reject' when deciding many requests");
    if (idempotencyKey !== undefined) throw invalidInput('idempotencyKey', idempotencyKey, 'is not supported when deciding many requests');
    if (input.remember !== undefined)
      throw invalidInput('remember', input.remember, 'is not supported when deciding many requests; respond to one of them with remember');
    requireStoreMethod(store, 'decideMany');
    const records = await guard(() => resolveTarget(store, target));
    if (records.length === 0) return [];
    requireNoneByRequester(records, respondedBy);
    const approvals = approvalsAmong(records, decision, respondedBy);
    const respondedAt = iso(now());
    const metadataCopy = metadata === undefined ? undefined : jsonCopy('metadata', metadata).copy;
    const items: DecideManyItem[] = records.map((record) => {
      const response: InteractionResponse = { requestId: record.request.id, decision, respondedAt, decisionId: randomUUID() };
      if (feedback !== undefined) response.feedback = feedback;
      if (respondedBy !== undefined) response.respondedBy = respondedBy;
      if (metadataCopy !== undefined) response.metadata = metadataCopy;
      // Four eyes: on a request that needs several approvals, this approve is one of them.
      if (approvals.has(record.request.id)) return { id: record.request.id, approval: approvalInput(record, response) };
      return {
        id: record.request.id,
        expectedStatus: 'pending',
        patch: { status: statusOfDecision[decision], response, closedAt: respondedAt },
      };
    });
    const decided = await guard(() => decideTogether(items));
    for (const record of decided) followUpDecision(record);
    return decided;
  };

  const subscribeGrants = (listener: (change: GrantChange) => void): (() => void) => {
    if (typeof listener !== 'function') throw invalidInput('listener', listener, 'must be a function');
    const unsubscribe = store.subscribeGrants?.(listener) ?? (() => {});
    const remove = () => {
      listeners.delete(remove);
      unsubscribe();
    };
    listeners.add(remove);
    return remove;
  };

  return {
    /** The grant methods of the manager. */
    methods: { grant, getGrant, revokeGrant, listGrants, respondMany, subscribeGrants },
    /**
     * `submit`'s grant step: approval requests only (other types always go to a human). On a policy
     * that needs several approvals, a grant that cannot be one of them is skipped before counting.
     */
    async evaluateRequest(request: StoredRequest, policy: PolicyEvaluation): Promise<PolicyEvaluation> {
      if (request.type !== 'approval') return policy;
      const accepts = (policy.approvals ?? 1) > 1 ? grantMayApprove(request) : undefined;
      return gate.evaluate(callOfRequest(request), policy, accepts);
    },
    /** Gives back the use a grant step counted for a call that then stopped (vetoed, refused): it decided nothing. */
    release: (grantId: string): Promise<void> => gate.release(grantId),
    /**
     * After `store.create` failed for a call a grant decided: gives the use back when the record was
     * not stored. When the store cannot say (it is down), the use stays counted: one call fewer, never one more.
     */
    async releaseUnlessStored(id: string, grantId: string): Promise<void> {
      let stored: ApprovalRecord | undefined;
      try {
        stored = await store.get(id);
      } catch {
        return;
      }
      if (stored === undefined) await gate.release(grantId);
    },
    /** `evaluate`'s grant step. Grants cover calls (the object form); the positional form asks the policies alone. */
    evaluateNow: (call: unknown, policy: PolicyEvaluation) =>
      typeof call === 'object' && call !== null ? gate.evaluateNow(call as PolicyCall, policy) : policy,
    /** The grant `remember` asks for, named in the response; undefined without `remember`. */
    remembered(remember: RememberInput | undefined, record: ApprovalRecord, response: InteractionResponse): Grant | undefined {
      if (remember === undefined) return undefined;
      const { decision, respondedBy, feedback } = response;
      const grant = grantOfRemember(remember, record, decision, { respondedBy, feedback, nowMs: Date.parse(response.respondedAt) });
      response.grantId = grant.id;
      return grant;
    },
    /** A decision (or, four eyes, an approval) and its grant, stored together (`decideMany` with the grant: one transaction on PostgreSQL). */
    async decideWithGrant(item: DecideManyItem, grant: Grant): Promise<ApprovalRecord> {
      const [decided] = await guard(() => decideTogether([item], { grant }));
      return decided as ApprovalRecord;
    },
    /** After a remembered decision: index the grant at once, and let it decide the other pending calls it covers. */
    async learned(grant: Grant, decidedId: string): Promise<void> {
      gate.learn(grant);
      await decideCovered(grant, decidedId).catch((error: unknown) => reportError(error));
    },
    close(): void {
      gate.close();
      for (const remove of [...listeners]) remove();
    },
  };
}
