/**
 * The approval manager: evaluate → store → notify → wait. Each concern it uses lives in its own
 * module (validation, expiry timers, waiters, lost replies, notification, the outbox, events, store
 * feed); what stays here (~550 lines, half of them imports, docs and the public method table) is the
 * lifecycle those modules serve: submit, waitFor, respond, cancel and close. Grants (remembered
 * decisions) and respondMany live in ./grants; here they are a few calls: on submit (with giving back a use the call did not spend), on evaluate, on respond.
 * Four eyes (several approvers) lives in ./four-eyes; here it is a step of submit and of respond.
 */
import { randomUUID } from 'node:crypto';
import { statusOfDecision, type RiskLevel } from './constants.js';
import { sha256 } from './canonical-json.js';
import { createExpiryTimers } from './expiry-timers.js';
import {
  approvalInput,
  isRetryOf,
  quorumAction,
  recordApproval,
  requiredApprovals,
  requireQuorumStore,
  startQuorum,
  withQuorum,
} from './four-eyes.js';
import { grantAsFirstApproval } from './four-eyes-grants.js';
import { createGrantOperations, grantResponse } from './grants/grant-operations.js';
import { HitlError } from './hitl-error.js';
import { InputSchemaValidator } from './input-schema.js';
import { defaultScheduler, errorMessage } from './internal.js';
import { createLostReplies } from './lost-replies.js';
import { createManagerEvents, eventOfStatus, hookOfStatus } from './manager-events.js';
import { createMemoryStore, normalizeListQuery } from './memory-store.js';
import { createNotificationDispatch } from './notification-dispatch.js';
import { createManagerOutbox, deliveryMethods } from './outbox/manager-outbox.js';
import { evaluateCall, PolicyEngine } from './policy-engine.js';
import { evaluateRequest } from './request-evaluation.js';
import {
  checkResponse,
  jsonCopy,
  normalizeRequest,
  requireNotRequester,
  requireSameRequest,
  validateOptions,
} from './request-validation.js';
import { createShadowPolicies } from './shadow-policies.js';
import { storeFailure } from './store-failure.js';
import { subscribeStoreFeed } from './store-feed.js';
import type {
  AddApprovalInput,
  Approval,
  ApprovalPolicy,
  ApprovalRecord,
  ApprovalStore,
  DecidePatch,
  InteractionRequest,
  InteractionResponse,
  ListQuery,
  ListResult,
  Logger,
  Manager,
  ManagerEvent,
  ManagerHooks,
  ManagerOptions,
  PolicyEvaluation,
  RespondInput,
  Scheduler,
  StoredRequest,
  WaitOptions,
  PolicyCall,
} from './types.js';
import { invalidInput, isPlain, optionalString, optionalTimeout, requireId } from './validation.js';
import { createWaiters, outcomeOf } from './waiters.js';

/** The latest instant a JavaScript Date can hold; a deadline past it never comes. */
const MAX_DATE_MS = 8_640_000_000_000_000;

/**
 * Creates an approval manager: the policy engine, the request lifecycle and the events, on a store
 * (memory by default). Managers share nothing unless you pass them the same store.
 *
 * @example
 * ```ts
 * import { createLogNotifier, createManager, RiskLevel } from '@hitl/core';
 *
 * const manager = createManager({ timeoutMs: 60_000, notifiers: [createLogNotifier(console)] });
 * manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly });
 * manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
 *
 * await manager.shouldApprove('get_weather', 0.95, RiskLevel.ReadOnly); // true
 *
 * // Somewhere else (an HTTP handler, say): await manager.respond(id, { decision: 'approve' });
 * const response = await manager.requestInteraction({
 *   toolName: 'delete_user',
 *   description: 'Delete user 12345',
 *   input: { user_id: '12345' },
 *   riskLevel: RiskLevel.Irreversible,
 *   confidence: 0.85,
 * });
 * ```
 */
export function createManager(options: ManagerOptions = {}): Manager {
  validateOptions(options);
  const {
    timeoutMs = 300_000,
    onTimeout = 'error',
    notifiers = [],
    policies = [],
    defaultOutcome = 'review',
    hooks = {} as ManagerHooks,
    logger = console as Logger,
    now = Date.now,
    generateId = () => `hitl-${randomUUID()}`,
  } = options;
  const scheduler: Scheduler = options.scheduler ?? defaultScheduler;
  const ownsStore = options.store === undefined;
  const store: ApprovalStore = options.store ?? createMemoryStore();
  const engine = new PolicyEngine(defaultOutcome);
  const addPolicy = (policy: ApprovalPolicy) => (requireQuorumStore(store, policy), engine.add(policy));
  for (const policy of policies) addPolicy(policy);
  const inputSchemas = new InputSchemaValidator();
  let closed = false;
  const isClosed = () => closed;

  const iso = (ms: number) => new Date(ms).toISOString();

  const ensureOpen = () => {
    if (closed) throw new HitlError('cancelled', 'the manager is closed');
  };

  const events = createManagerEvents({ hooks, logger });
  const { emit, runHook, reportError } = events;
  // Undefined unless `shadowPolicies` is set: then `submit` also asks a candidate set, only to report.
  const shadow = createShadowPolicies({ policies: options.shadowPolicies, defaultOutcome, reportError });
  // With a store that has an outbox, notifications and hooks are durable jobs written with each change.
  const policyNamed = (name: string) => engine.policyNamed(name);
  const sideEffects = createManagerOutbox({
    store,
    notifiers,
    hooks,
    options: options.outbox,
    policyNamed,
    scheduler,
    now,
    emit,
    reportError,
    isClosed,
  });
  const expiry = createExpiryTimers({
    store,
    scheduler,
    now,
    onTimeout,
    isClosed,
    runHook: sideEffects ? () => undefined : runHook,
    reportError,
    decide: sideEffects?.decide,
  });
  const outcome = (record: ApprovalRecord) => outcomeOf(record, onTimeout, now);
  const waiters = createWaiters({ store, scheduler, outcomeOf: outcome, onPending: (record) => expiry.schedule(record) });
  const dispatch = createNotificationDispatch({ notifiers, emit, reportError, isClosed });

  /** What a stored request calls for: reviewers told and its expiry armed, or its automatic decision's hook. */
  const followUpCreate = (record: ApprovalRecord) => {
    if (sideEffects) {
      // The outbox jobs written with the record do the rest, here or on another instance.
      expiry.schedule(record);
      sideEffects.recover(record, 'create');
      return;
    }
    if (record.evaluation.outcome === 'review') {
      // Decided already (by someone quicker than the news of its creation): nobody to tell.
      if (record.status !== 'pending') return;
      expiry.schedule(record);
      dispatch.notify(record);
      return;
    }
    const hook = hookOfStatus[record.status];
    if (hook) runHook(hook, record);
  };

  const followUpDecision = (record: ApprovalRecord) => {
    if (sideEffects) return sideEffects.recover(record, 'decide');
    const hook = hookOfStatus[record.status];
    if (hook) runHook(hook, record);
  };

  /**
   * After a decision, its hook; after one approval of several, the reviewers hear that another
   * approver is needed: with an outbox by the `request.approval_added` jobs written with the
   * approval, else in process.
   */
  const followUpAnswer = (record: ApprovalRecord) => {
    if (record.status !== 'pending') return followUpDecision(record);
    if (!sideEffects) dispatch.notify(record);
  };

  const lostReplies = createLostReplies({ followUpCreate, followUpDecision });

  const unsubscribeStore = subscribeStoreFeed(store, {
    emit,
    created: (record) => lostReplies.claimCreate(record),
    decided: (record) => {
      expiry.clear(record.request.id);
      const eventType = eventOfStatus[record.status];
      if (eventType) emit({ type: eventType, record } as ManagerEvent);
      waiters.settle(record);
      lostReplies.claimDecision(record);
    },
  });

  /** What the policies say about a stored request (see request-evaluation.ts), with the policy's quorum (four eyes). */
  const evaluateStored = (request: StoredRequest): PolicyEvaluation => {
    const evaluation = evaluateRequest(engine, request);
    return request.type === 'approval'
      ? withQuorum(evaluation, evaluation.policy === undefined ? undefined : engine.policyNamed(evaluation.policy))
      : evaluation;
  };

  const grants = createGrantOperations({
    store,
    engine,
    now,
    logger,
    ensureOpen,
    evaluatePolicies: evaluateStored,
    followUpDecision: followUpAnswer,
    reportError,
    // Declared further down (respond's own path); called only after construction.
    decidePending: (id, patch) => decidePending(id, patch),
    addApproval: (id, input) => writeApproval(id, input),
    ...(sideEffects
      ? {
          decideMany: (items: Parameters<typeof sideEffects.decideMany>[0], options?: Parameters<typeof sideEffects.decideMany>[1]) =>
            sideEffects.decideMany(items, options),
        }
      : {}),
  });

  const vet = async (request: StoredRequest, evaluation: PolicyEvaluation) => {
    if (!hooks.onRequest) return;
    let verdict: boolean | void;
    try {
      verdict = await hooks.onRequest(request, evaluation);
    } catch (error) {
      if (HitlError.is(error)) throw error;
      throw new HitlError(
        'forbidden',
        `request '${request.id}' for '${request.toolName}' was vetoed by the onRequest hook: ${errorMessage(error)}`,
        {
          cause: error,
          details: { ids: [request.id] },
        },
      );
    }
    if (verdict === false) {
      throw new HitlError('forbidden', `request '${request.id}' for '${request.toolName}' was vetoed by the onRequest hook`, {
        details: { ids: [request.id] },
      });
    }
  };

  const submit = async (request: InteractionRequest): Promise<ApprovalRecord> => {
    ensureOpen();
    const { stored, inputText } = normalizeRequest(request, generateId);
    const inputHash = sha256(inputText);
    const id = stored.id;
    if (request.id !== undefined) {
      const existing = await store.get(id).catch((error: unknown) => Promise.reject(storeFailure(error)));
      if (existing) return sameRequest(existing, inputHash, stored);
    }
    const policies = evaluateStored(stored);
    // Only when a shadow set is configured: the candidate policies' view, never used to decide.
    const shadowed = shadow?.compare(stored, policies);
    // Four eyes: a grant is at most one of the approvals, never the whole quorum.
    const granted = await grants.evaluateRequest(stored, policies);
    // The grant whose use this call holds: given back if the call stops before the grant decides it.
    let usedGrant = granted.grant;
    let evaluation: PolicyEvaluation;
    let grantedApproval: Approval | undefined;
    try {
      ({ evaluation, approval: grantedApproval } = await grantAsFirstApproval(store, {
        request: stored,
        policies,
        evaluation: granted,
        at: () => iso(now()),
      }));
      if (usedGrant !== undefined && evaluation.grant === undefined) {
        // Four eyes: the grant counted for nothing here (it could not be read back).
        await grants.release(usedGrant);
        usedGrant = undefined;
      }
      await vet(stored, evaluation);
      ensureOpen();
    } catch (error) {
      if (usedGrant !== undefined) await grants.release(usedGrant);
      throw error;
    }

    const createdMs = now();
    const createdAt = iso(createdMs);
    const record: ApprovalRecord = { request: stored, status: 'pending', evaluation, inputHash, createdAt };
    if (evaluation.outcome === 'review') {
      const policyTimeout = evaluation.policy === undefined ? undefined : engine.policyNamed(evaluation.policy)?.timeoutMs;
      const timeout = stored.timeoutMs ?? policyTimeout ?? timeoutMs;
      if (Number.isFinite(timeout) && createdMs + timeout < MAX_DATE_MS) record.expiresAt = iso(createdMs + timeout);
      startQuorum(record);
      if (grantedApproval !== undefined) record.approvals = [grantedApproval];
    } else {
      const decision = evaluation.outcome === 'approve' ? 'approve' : 'reject';
      record.status = statusOfDecision[decision];
      record.closedAt = createdAt;
      record.response =
        evaluation.grant !== undefined
          ? grantResponse(id, evaluation, createdAt)
          : {
              requestId: id,
              decision,
              feedback: evaluation.reason,
              respondedAt: createdAt,
              automatic: true,
              metadata: { cause: 'policy' },
            };
    }

    let result;
    try {
      result = sideEffects ? await sideEffects.create(record, followUpCreate) : await store.create(record);
    } catch (error) {
      const failure = storeFailure(error);
      if (HitlError.is(failure, 'store_unavailable')) lostReplies.rememberCreate(id);
      if (usedGrant !== undefined) await grants.releaseUnlessStored(id, usedGrant);
      throw failure;
    }
    if (!result.created) {
      // Another write of this id was first: the grant decided nothing here.
      if (usedGrant !== undefined) await grants.release(usedGrant);
      return sameRequest(result.record, inputHash, stored);
    }
    if (shadowed) emit({ type: 'policy-shadowed', record: result.record, live: evaluation, shadow: shadowed });
    if (!sideEffects) followUpCreate(result.record);
    return result.record;
  };

  /**
   * An idempotent retry returns the existing record; the same id for another call is a conflict.
   * When the record is this manager's own earlier write (its reply lost), its follow-up runs now.
   */
  const sameRequest = (existing: ApprovalRecord, inputHash: string, request: StoredRequest): ApprovalRecord => {
    requireSameRequest(existing, inputHash, request);
    lostReplies.claimCreate(existing);
    expiry.schedule(existing);
    return existing;
  };

  const waitFor = (id: string, waitOptions: WaitOptions = {}): Promise<InteractionResponse> => {
    try {
      ensureOpen();
      requireId('id', id);
      if (!isPlain(waitOptions)) throw invalidInput('options', waitOptions, 'must be an object');
      optionalTimeout('options.timeoutMs', waitOptions.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return waiters.wait(id, waitOptions.signal, waitOptions.timeoutMs);
  };

  /**
   * `store.decide` from pending. When the store refuses because the request has expired, the
   * expiry is recorded at once (whoever else was due to record it), so the request does not stay
   * pending past its deadline; the caller still gets the `conflict`.
   */
  const decidePending = (id: string, patch: DecidePatch): Promise<ApprovalRecord> =>
    writePending(id, () => (sideEffects ? sideEffects.decide(id, patch) : store.decide(id, 'pending', patch)));

  /** Four eyes: one approval; with an outbox, the one completing the quorum writes the decision's jobs with it. */
  const writeApproval = (id: string, input: AddApprovalInput): Promise<ApprovalRecord> =>
    writePending(id, () => (sideEffects ? sideEffects.addApproval(id, input) : recordApproval(store, id, input)));

  /** A write that needs the request pending (a decision, an approval); see {@link decidePending}. */
  const writePending = async (id: string, write: () => Promise<ApprovalRecord>): Promise<ApprovalRecord> => {
    try {
      return await write();
    } catch (error) {
      const failure = storeFailure(error);
      if (HitlError.is(failure, 'conflict')) {
        const current = await store.get(id).catch(() => undefined);
        if (current?.status === 'pending' && current.expiresAt !== undefined) {
          await expiry.expire(id, current.expiresAt).catch(() => undefined);
        }
      }
      throw failure;
    }
  };

  const cancel = async (id: string, reason?: string): Promise<ApprovalRecord> => {
    ensureOpen();
    requireId('id', id);
    optionalString('reason', reason);
    const record = await decidePending(id, { status: 'cancelled', closedAt: iso(now()), closedReason: reason ?? 'cancelled' });
    if (!sideEffects) runHook('onCancel', record);
    return record;
  };

  const responseOfDecided = (record: ApprovalRecord): InteractionResponse => {
    const result = outcome(record);
    if (result instanceof Error) throw result;
    return result;
  };

  const requestInteraction = async (
    request: InteractionRequest,
    callOptions: { signal?: AbortSignal } = {},
  ): Promise<InteractionResponse> => {
    const signal = callOptions?.signal;
    if (signal?.aborted) throw new HitlError('cancelled', `request for '${String(request?.toolName)}' was aborted before it was submitted`);
    const record = await submit(request);
    if (record.status !== 'pending') return responseOfDecided(record);
    const id = record.request.id;
    try {
      return await waitFor(id, signal ? { signal } : {});
    } catch (error) {
      if (HitlError.is(error, 'cancelled') && signal?.aborted && !closed) {
        await cancel(id, 'aborted by the requesting agent').catch(() => undefined);
      }
      throw error;
    }
  };

  const respond = async (id: string, input: RespondInput): Promise<ApprovalRecord> => {
    ensureOpen();
    requireId('id', id);
    const { decision, feedback, respondedBy, metadata, modified, idempotencyKey } = checkResponse(input);
    /** A retry of a decision that was recorded (its reply lost on the way back) gets that record again. */
    const sameDecision = (record: ApprovalRecord): boolean => isRetryOf(record, idempotencyKey, decision);

    let current: ApprovalRecord | undefined;
    try {
      current = await store.get(id);
    } catch (error) {
      throw storeFailure(error);
    }
    if (!current) throw new HitlError('not_found', `request '${id}' does not exist`, { details: { ids: [id] } });
    if (current.status !== 'pending') {
      if (sameDecision(current)) {
        lostReplies.claimDecision(current);
        return current;
      }
      throw new HitlError('conflict', `request '${id}' is already ${current.status}`, { details: { ids: [id] } });
    }
    requireNotRequester(current, respondedBy);
    if (sameDecision(current)) return current;
    const action = requiredApprovals(current) > 1 ? quorumAction(current, decision, respondedBy) : 'decide';
    if (modified !== undefined && current.request.inputSchema !== undefined) {
      inputSchemas.check('modified', current.request.inputSchema, modified);
    }
    const respondedAt = iso(now());
    const decisionId = idempotencyKey ?? randomUUID();
    const response: InteractionResponse = { requestId: id, decision, respondedAt, decisionId };
    if (feedback !== undefined) response.feedback = feedback;
    if (modified !== undefined) response.modified = modified;
    if (respondedBy !== undefined) response.respondedBy = respondedBy;
    if (metadata !== undefined) response.metadata = jsonCopy('metadata', metadata).copy;
    const grant = grants.remembered(input.remember, current, response);
    const patch: DecidePatch = { status: statusOfDecision[decision], response, closedAt: respondedAt };

    let decided: ApprovalRecord;
    try {
      // Four eyes: an approve of a request that needs several approvals is one of them.
      const approval = action === 'approval' ? approvalInput(current, response) : undefined;
      if (grant !== undefined)
        decided = await grants.decideWithGrant(approval === undefined ? { id, expectedStatus: 'pending', patch } : { id, approval }, grant);
      else decided = approval === undefined ? await decidePending(id, patch) : await writeApproval(id, approval);
    } catch (error) {
      if (HitlError.is(error, 'conflict') && idempotencyKey !== undefined) {
        const latest = await store.get(id).catch(() => undefined);
        if (latest && sameDecision(latest)) {
          lostReplies.claimDecision(latest);
          return latest;
        }
      }
      // The store may have recorded it with the reply lost: follow it up if the news comes.
      if (HitlError.is(error, 'store_unavailable')) lostReplies.rememberDecision(decisionId);
      throw error;
    }
    followUpAnswer(decided);
    if (grant !== undefined) await grants.learned(grant, id);
    return decided;
  };

  const manager: Manager = {
    addPolicy,
    removePolicy(name: string) {
      return engine.remove(name);
    },
    setPolicies(list: ApprovalPolicy[]) {
      if (!Array.isArray(list)) throw invalidInput('policies', list, 'must be an array');
      for (const policy of list) requireQuorumStore(store, policy);
      engine.replace(list);
    },
    listPolicies() {
      return engine.list();
    },
    evaluate: ((toolName: string | PolicyCall, confidence?: number, riskLevel?: RiskLevel, input?: Record<string, unknown>) =>
      grants.evaluateNow(toolName, evaluateCall(engine, toolName, confidence, riskLevel, input))) as Manager['evaluate'],
    async shouldApprove(toolName, confidence, riskLevel) {
      return engine.evaluate(toolName, confidence, riskLevel).outcome === 'approve';
    },
    submit,
    waitFor,
    requestInteraction,
    respond,
    async get(id: string) {
      ensureOpen();
      requireId('id', id);
      try {
        return await store.get(id);
      } catch (error) {
        throw storeFailure(error);
      }
    },
    async list(query?: ListQuery): Promise<ListResult> {
      ensureOpen();
      const normalized = normalizeListQuery(query);
      try {
        return await store.list(normalized);
      } catch (error) {
        throw storeFailure(error);
      }
    },
    cancel,
    ...grants.methods,
    ...deliveryMethods({ store, now, ensureOpen, wake: () => sideEffects?.wake() }),
    subscribe(listener) {
      if (typeof listener !== 'function') throw invalidInput('listener', listener, 'must be a function');
      return events.subscribe(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      expiry.clearAll();
      sideEffects?.close();
      unsubscribeStore();
      grants.close();
      dispatch.close(new HitlError('cancelled', 'the manager is closed'));
      waiters.failAll(() => new HitlError('cancelled', 'the manager was closed while waiting'));
      events.clear();
      lostReplies.clear();
      if (ownsStore) await store.close?.();
    },
  };
  return manager;
}
