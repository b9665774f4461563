import { randomUUID } from 'node:crypto';
import { isDecision, isInteractionType, isRiskLevel, statusOfDecision, type RiskLevel } from './constants.js';
import { canonicalJson, sha256 } from './canonical-json.js';
import { HitlError } from './hitl-error.js';
import { createMemoryStore, normalizeListQuery } from './memory-store.js';
import { requireIdentity, sameIdentity } from './identity.js';
import { InputSchemaValidator, normalizeInputSchema } from './input-schema.js';
import { contextOfRequest, evaluateCall, PolicyEngine } from './policy-engine.js';
import { requireToolName } from './tool-name.js';
import type {
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
  Notifier,
  PolicyEvaluation,
  RespondInput,
  Scheduler,
  StoreChange,
  StoredRequest,
  WaitOptions,
  PolicyCall,
} from './types.js';
import {
  invalidInput,
  isPlain,
  isPlainObject,
  optionalPlainObject,
  optionalString,
  optionalTimeout,
  optionalUnitInterval,
  requireId,
  requireNonEmptyString,
} from './validation.js';

/** setTimeout's largest delay; longer waits are re-armed in steps. */
const MAX_TIMER_DELAY = 2_147_483_647;
/** The latest instant a JavaScript Date can hold; a deadline past it never comes. */
const MAX_DATE_MS = 8_640_000_000_000_000;
const EXPIRY_RETRY_MS = 1_000;
/** How soon to retry an expiry the store refused because its own clock is behind ours. */
const SKEW_RETRY_MS = 100;
/** How many unacknowledged writes a manager remembers (see `unclaimedCreates`). */
const UNCLAIMED_LIMIT = 10_000;

interface Waiter {
  settle(record: ApprovalRecord): void;
  fail(error: HitlError): void;
}

type DecisionHook = 'onApprove' | 'onReject' | 'onModify' | 'onTimeout' | 'onCancel';

const hookOfStatus: Partial<Record<ApprovalRecord['status'], DecisionHook>> = {
  approved: 'onApprove',
  rejected: 'onReject',
  modified: 'onModify',
  expired: 'onTimeout',
  cancelled: 'onCancel',
};

const eventOfStatus: Partial<Record<ApprovalRecord['status'], ManagerEvent['type']>> = {
  approved: 'request-decided',
  rejected: 'request-decided',
  modified: 'request-decided',
  expired: 'request-expired',
  cancelled: 'request-cancelled',
};

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns a store's unexpected failure into `store_unavailable`; HitlErrors pass through. */
function storeFailure(error: unknown): HitlError {
  if (HitlError.is(error)) return error;
  return new HitlError('store_unavailable', `the approval store failed: ${errorMessage(error)}`, { cause: error });
}

/** A JSON copy of a JSON-safe object, so later changes by the caller cannot reach the stored record. */
function jsonCopy(field: string, value: Record<string, unknown>): { copy: Record<string, unknown>; text: string } {
  const text = canonicalJson(value, field);
  return { copy: JSON.parse(text) as Record<string, unknown>, text };
}

function validateOptions(options: ManagerOptions): void {
  if (!isPlain(options)) throw invalidInput('options', options, 'must be an object');
  optionalTimeout('options.timeoutMs', options.timeoutMs);
  if (options.onTimeout !== undefined && options.onTimeout !== 'error' && options.onTimeout !== 'reject') {
    throw invalidInput('options.onTimeout', options.onTimeout, "must be 'error' or 'reject'");
  }
  if (options.defaultOutcome !== undefined && options.defaultOutcome !== 'review' && options.defaultOutcome !== 'deny') {
    throw invalidInput('options.defaultOutcome', options.defaultOutcome, "must be 'review' or 'deny'");
  }
  if (options.notifiers !== undefined) {
    if (!Array.isArray(options.notifiers)) throw invalidInput('options.notifiers', options.notifiers, 'must be an array');
    options.notifiers.forEach((notifier: Notifier, index) => {
      if (typeof notifier !== 'object' || notifier === null || typeof notifier.notify !== 'function') {
        throw invalidInput(`options.notifiers[${index}]`, notifier, 'must be an object with a notify function');
      }
      requireNonEmptyString(`options.notifiers[${index}].name`, notifier.name);
    });
  }
  if (options.policies !== undefined && !Array.isArray(options.policies)) {
    throw invalidInput('options.policies', options.policies, 'must be an array');
  }
  const store = options.store;
  if (store !== undefined) {
    for (const method of ['create', 'get', 'list', 'decide', 'subscribe'] as const) {
      if (typeof store !== 'object' || store === null || typeof store[method] !== 'function') {
        throw invalidInput(`options.store.${method}`, store?.[method], 'must be a function (options.store must implement ApprovalStore)');
      }
    }
  }
  for (const name of ['now', 'generateId'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw invalidInput(`options.${name}`, options[name], 'must be a function');
    }
  }
  if (options.hooks !== undefined && !isPlain(options.hooks)) throw invalidInput('options.hooks', options.hooks, 'must be an object');
}

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
  const scheduler: Scheduler = options.scheduler ?? {
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  const ownsStore = options.store === undefined;
  const store: ApprovalStore = options.store ?? createMemoryStore();
  const engine = new PolicyEngine(defaultOutcome);
  for (const policy of policies) engine.add(policy);
  const notifierList = [...notifiers];
  const inputSchemas = new InputSchemaValidator();

  const listeners = new Set<(event: ManagerEvent) => void>();
  const waiters = new Map<string, Set<Waiter>>();
  const expiryTimers = new Map<string, unknown>();
  const notifyController = new AbortController();
  let closed = false;

  const iso = (ms: number) => new Date(ms).toISOString();

  const ensureOpen = () => {
    if (closed) throw new HitlError('cancelled', 'the manager is closed');
  };

  const reportError = (error: unknown, record?: ApprovalRecord) => {
    const failure = error instanceof Error ? error : new Error(String(error));
    if (hooks.onError) {
      try {
        hooks.onError(failure, record);
        return;
      } catch (hookError) {
        logger.error('hitl: onError hook threw', hookError);
      }
    }
    logger.error(`hitl: ${failure.message}`, failure);
  };

  const runHook = (name: DecisionHook, record: ApprovalRecord) => {
    const hook = hooks[name];
    if (!hook) return;
    try {
      const result = hook.call(hooks, record);
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error: unknown) => reportError(error, record));
      }
    } catch (error) {
      reportError(error, record);
    }
  };

  const emit = (event: ManagerEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        reportError(error, event.record);
      }
    }
  };

  /** The response a waiter gets for a final record, or the error it fails with. */
  const outcomeOf = (record: ApprovalRecord): InteractionResponse | HitlError => {
    const id = record.request.id;
    switch (record.status) {
      case 'approved':
      case 'rejected':
      case 'modified':
        return (
          record.response ?? new HitlError('store_unavailable', `request '${id}' is ${record.status} but has no response`)
        );
      case 'expired':
        if (onTimeout === 'reject') {
          return (
            record.response ?? {
              requestId: id,
              decision: 'reject',
              feedback: record.closedReason ?? 'the request expired without a decision',
              respondedAt: record.closedAt ?? record.expiresAt ?? iso(now()),
              automatic: true,
              metadata: { cause: 'expiry' },
            }
          );
        }
        return new HitlError('timeout', `request '${id}' expired at ${record.expiresAt ?? record.closedAt} without a decision`);
      case 'cancelled':
        return new HitlError('cancelled', `request '${id}' was cancelled${record.closedReason ? `: ${record.closedReason}` : ''}`);
      default:
        return new HitlError('store_unavailable', `request '${id}' has an unknown status`);
    }
  };

  const settleWaiters = (record: ApprovalRecord) => {
    const set = waiters.get(record.request.id);
    if (!set) return;
    for (const waiter of [...set]) waiter.settle(record);
  };

  const clearExpiry = (id: string) => {
    const handle = expiryTimers.get(id);
    if (handle !== undefined) {
      scheduler.clearTimeout(handle);
      expiryTimers.delete(id);
    }
  };

  const expire = async (id: string, expiresAt: string): Promise<void> => {
    const closedAt = iso(now());
    const closedReason = `no decision before ${expiresAt}`;
    const patch: DecidePatch = { status: 'expired', closedAt, closedReason };
    if (onTimeout === 'reject') {
      patch.response = {
        requestId: id,
        decision: 'reject',
        feedback: `expired: ${closedReason}`,
        respondedAt: closedAt,
        automatic: true,
        metadata: { cause: 'expiry' },
      };
    }
    const record = await store.decide(id, 'pending', patch);
    runHook('onTimeout', record);
  };

  const armExpiry = (id: string, deadline: number, expiresAt: string) => {
    if (closed) return;
    const delay = Math.min(Math.max(deadline - now(), 0), MAX_TIMER_DELAY);
    const handle = scheduler.setTimeout(() => {
      expiryTimers.delete(id);
      if (closed) return;
      if (now() < deadline) {
        armExpiry(id, deadline, expiresAt);
        return;
      }
      expire(id, expiresAt).catch(async (error: unknown) => {
        if (HitlError.is(error, 'not_found')) return;
        let retryMs = EXPIRY_RETRY_MS;
        if (HitlError.is(error, 'conflict')) {
          // Someone else decided it, or a store that keeps its own clock (a database's) says the
          // deadline has not come yet by that clock: then try again shortly.
          const current = await store.get(id).catch(() => undefined);
          if (current?.status !== 'pending') return;
          retryMs = SKEW_RETRY_MS;
        } else {
          reportError(storeFailure(error));
        }
        if (!closed && !expiryTimers.has(id)) armExpiry(id, now() + retryMs, expiresAt);
      });
    }, delay);
    expiryTimers.set(id, handle);
  };

  const scheduleExpiry = (record: ApprovalRecord) => {
    if (record.status !== 'pending' || record.expiresAt === undefined) return;
    const id = record.request.id;
    if (expiryTimers.has(id)) return;
    armExpiry(id, Date.parse(record.expiresAt), record.expiresAt);
  };

  /**
   * Writes of this manager that failed with `store_unavailable`: request ids it tried to create,
   * decision ids it tried to record. Such a write may have committed with only its reply lost (a
   * dropped connection). If the news arrives later — through the store's change feed, or a retry
   * that finds the write — the follow-up it missed (notify reviewers, run the decision hook) runs then, once.
   */
  const unclaimedCreates = new Set<string>();
  const unclaimedDecisions = new Set<string>();
  const remember = (set: Set<string>, key: string) => {
    set.add(key);
    if (set.size > UNCLAIMED_LIMIT) set.delete(set.values().next().value as string);
  };

  /** What a stored request calls for: reviewers told and its expiry armed, or its automatic decision's hook. */
  const followUpCreate = (record: ApprovalRecord) => {
    if (record.evaluation.outcome === 'review') {
      // Decided already (by someone quicker than the news of its creation): nobody to tell.
      if (record.status !== 'pending') return;
      scheduleExpiry(record);
      notify(record);
      return;
    }
    const hook = hookOfStatus[record.status];
    if (hook) runHook(hook, record);
  };

  const followUpDecision = (record: ApprovalRecord) => {
    const hook = hookOfStatus[record.status];
    if (hook) runHook(hook, record);
  };

  const claimCreate = (record: ApprovalRecord) => {
    if (unclaimedCreates.delete(record.request.id)) followUpCreate(record);
  };

  const claimDecision = (record: ApprovalRecord) => {
    const decisionId = record.response?.decisionId;
    if (decisionId !== undefined && unclaimedDecisions.delete(decisionId)) followUpDecision(record);
  };

  const onStoreChange = (change: StoreChange) => {
    const { record } = change;
    if (change.type === 'created') {
      emit({ type: 'request-created', record });
      claimCreate(record);
    }
    if (record.status === 'pending') return;
    clearExpiry(record.request.id);
    const eventType = eventOfStatus[record.status];
    if (eventType) emit({ type: eventType, record } as ManagerEvent);
    settleWaiters(record);
    claimDecision(record);
  };
  const unsubscribeStore = store.subscribe(onStoreChange);

  const notify = (record: ApprovalRecord) => {
    for (const notifier of notifierList) {
      const fail = (error: unknown) => {
        // A delivery cut short by close() is the shutdown the caller asked for, not a failure.
        if (closed) return;
        const failure = HitlError.is(error, 'notify_failed')
          ? error
          : new HitlError('notify_failed', `notifier '${notifier.name}' failed for request '${record.request.id}': ${errorMessage(error)}`, {
              cause: error,
            });
        emit({ type: 'notify-failed', record, notifier: notifier.name, error: failure });
        reportError(failure, record);
      };
      try {
        Promise.resolve(notifier.notify(record, { signal: notifyController.signal })).then(undefined, fail);
      } catch (error) {
        fail(error);
      }
    }
  };

  const normalizeRequest = (request: InteractionRequest): { stored: StoredRequest; inputText: string } => {
    if (!isPlain(request)) throw invalidInput('request', request, 'must be an object');
    const id = request.id === undefined ? requireId('generated id', generateId()) : requireId('request.id', request.id);
    const type = request.type ?? 'approval';
    if (!isInteractionType(type)) throw invalidInput('request.type', type, "is not an interaction type ('approval', 'feedback', 'input' or 'annotation')");
    const toolName = requireToolName('request.toolName', request.toolName);
    const stored: StoredRequest = { id, type, toolName };
    const description = optionalString('request.description', request.description);
    if (description !== undefined) stored.description = description;
    let inputText = '{}';
    if (optionalPlainObject('request.input', request.input) !== undefined) {
      const { copy, text } = jsonCopy('request.input', request.input as Record<string, unknown>);
      stored.input = copy;
      inputText = text;
    }
    if (request.riskLevel !== undefined) {
      if (!isRiskLevel(request.riskLevel)) {
        throw invalidInput('request.riskLevel', request.riskLevel, "is not a risk level ('read_only', 'data_modification' or 'irreversible')");
      }
      stored.riskLevel = request.riskLevel;
    }
    const confidence = optionalUnitInterval('request.confidence', request.confidence);
    if (confidence !== undefined) stored.confidence = confidence;
    const timeout = optionalTimeout('request.timeoutMs', request.timeoutMs);
    if (timeout !== undefined) stored.timeoutMs = timeout;
    if (request.requestedBy !== undefined) stored.requestedBy = requireIdentity('request.requestedBy', request.requestedBy);
    if (request.threadId !== undefined) stored.threadId = requireIdentity('request.threadId', request.threadId);
    if (request.runId !== undefined) stored.runId = requireIdentity('request.runId', request.runId);
    if (request.inputSchema !== undefined) stored.inputSchema = normalizeInputSchema('request.inputSchema', request.inputSchema).copy;
    if (optionalPlainObject('request.metadata', request.metadata) !== undefined) {
      stored.metadata = jsonCopy('request.metadata', request.metadata as Record<string, unknown>).copy;
    }
    return { stored, inputText };
  };

  const evaluateStored = (request: StoredRequest): PolicyEvaluation => {
    const evaluation = engine.evaluate(request.toolName, request.confidence, request.riskLevel, contextOfRequest(request));
    if (request.type === 'approval' || evaluation.outcome === 'review') return evaluation;
    const result: PolicyEvaluation = { outcome: 'review', reason: `'${request.type}' requests always go to a human` };
    if (evaluation.policy !== undefined) result.policy = evaluation.policy;
    return result;
  };

  const vet = async (request: StoredRequest, evaluation: PolicyEvaluation) => {
    if (!hooks.onRequest) return;
    let verdict: boolean | void;
    try {
      verdict = await hooks.onRequest(request, evaluation);
    } catch (error) {
      if (HitlError.is(error)) throw error;
      throw new HitlError('forbidden', `request '${request.id}' for '${request.toolName}' was vetoed by the onRequest hook: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (verdict === false) {
      throw new HitlError('forbidden', `request '${request.id}' for '${request.toolName}' was vetoed by the onRequest hook`);
    }
  };

  const submit = async (request: InteractionRequest): Promise<ApprovalRecord> => {
    ensureOpen();
    const { stored, inputText } = normalizeRequest(request);
    const inputHash = sha256(inputText);
    const id = stored.id;
    if (request.id !== undefined) {
      const existing = await store.get(id).catch((error: unknown) => Promise.reject(storeFailure(error)));
      if (existing) return sameRequest(existing, inputHash, stored);
    }
    const evaluation = evaluateStored(stored);
    await vet(stored, evaluation);
    ensureOpen();

    const createdMs = now();
    const createdAt = iso(createdMs);
    const record: ApprovalRecord = { request: stored, status: 'pending', evaluation, inputHash, createdAt };
    if (evaluation.outcome === 'review') {
      const policyTimeout = evaluation.policy === undefined ? undefined : engine.policyNamed(evaluation.policy)?.timeoutMs;
      const timeout = stored.timeoutMs ?? policyTimeout ?? timeoutMs;
      if (Number.isFinite(timeout) && createdMs + timeout < MAX_DATE_MS) record.expiresAt = iso(createdMs + timeout);
    } else {
      const decision = evaluation.outcome === 'approve' ? 'approve' : 'reject';
      record.status = statusOfDecision[decision];
      record.closedAt = createdAt;
      record.response = {
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
      result = await store.create(record);
    } catch (error) {
      const failure = storeFailure(error);
      if (HitlError.is(failure, 'store_unavailable')) remember(unclaimedCreates, id);
      throw failure;
    }
    if (!result.created) return sameRequest(result.record, inputHash, stored);
    followUpCreate(result.record);
    return result.record;
  };

  /**
   * An idempotent retry returns the existing record; the same id for another call is a conflict.
   * When the record is this manager's own earlier write (its reply lost), its follow-up runs now.
   */
  const sameRequest = (existing: ApprovalRecord, inputHash: string, request: StoredRequest): ApprovalRecord => {
    const id = existing.request.id;
    // A retry is the same call: same tool, same kind of interaction, same risk, same arguments.
    // Anything else under this id must not inherit the existing record's decision.
    if (existing.request.toolName !== request.toolName) {
      throw new HitlError('conflict', `request '${id}' already exists for tool '${existing.request.toolName}', not '${request.toolName}'`);
    }
    if (existing.request.type !== request.type) {
      throw new HitlError('conflict', `request '${id}' already exists as a '${existing.request.type}' request, not '${request.type}'`);
    }
    if ((existing.request.riskLevel ?? 'irreversible') !== (request.riskLevel ?? 'irreversible')) {
      throw new HitlError('conflict', `request '${id}' already exists with risk level '${existing.request.riskLevel ?? 'irreversible'}'`);
    }
    if (existing.inputHash !== inputHash) {
      throw new HitlError('conflict', `request '${id}' already exists with different input`);
    }
    claimCreate(existing);
    scheduleExpiry(existing);
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
    const { signal, timeoutMs: waitTimeout } = waitOptions;
    if (signal?.aborted) return Promise.reject(new HitlError('cancelled', `stopped waiting for request '${id}': the signal was aborted`));

    return new Promise<InteractionResponse>((resolve, reject) => {
      let done = false;
      let waitTimer: unknown;
      const finish = (outcome: InteractionResponse | HitlError) => {
        if (done) return;
        done = true;
        const set = waiters.get(id);
        set?.delete(waiter);
        if (set?.size === 0) waiters.delete(id);
        signal?.removeEventListener('abort', onAbort);
        if (waitTimer !== undefined) scheduler.clearTimeout(waitTimer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const waiter: Waiter = {
        settle: (record) => finish(outcomeOf(record)),
        fail: (error) => finish(error),
      };
      const onAbort = () => finish(new HitlError('cancelled', `stopped waiting for request '${id}': the signal was aborted`));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (waitTimeout !== undefined && Number.isFinite(waitTimeout)) {
        waitTimer = scheduler.setTimeout(
          () => finish(new HitlError('timeout', `stopped waiting for request '${id}' after ${waitTimeout} ms; it is still pending`)),
          Math.min(waitTimeout, MAX_TIMER_DELAY),
        );
      }
      let set = waiters.get(id);
      if (!set) waiters.set(id, (set = new Set()));
      set.add(waiter);

      store.get(id).then(
        (record) => {
          if (done) return;
          if (!record) finish(new HitlError('not_found', `request '${id}' does not exist`));
          else if (record.status !== 'pending') finish(outcomeOf(record));
          else scheduleExpiry(record);
        },
        (error: unknown) => finish(storeFailure(error)),
      );
    });
  };

  /**
   * `store.decide` from pending. When the store refuses because the request has expired, the
   * expiry is recorded at once (whoever else was due to record it), so the request does not stay
   * pending past its deadline; the caller still gets the `conflict`.
   */
  const decidePending = async (id: string, patch: DecidePatch): Promise<ApprovalRecord> => {
    try {
      return await store.decide(id, 'pending', patch);
    } catch (error) {
      const failure = storeFailure(error);
      if (HitlError.is(failure, 'conflict')) {
        const current = await store.get(id).catch(() => undefined);
        if (current?.status === 'pending' && current.expiresAt !== undefined) {
          await expire(id, current.expiresAt).catch(() => undefined);
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
    runHook('onCancel', record);
    return record;
  };

  const responseOfDecided = (record: ApprovalRecord): InteractionResponse => {
    const outcome = outcomeOf(record);
    if (outcome instanceof Error) throw outcome;
    return outcome;
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
    if (!isPlain(input)) throw invalidInput('response', input, 'must be an object');
    const { decision } = input;
    if (!isDecision(decision)) throw invalidInput('decision', decision, "is not a decision ('approve', 'reject' or 'modify')");
    const feedback = optionalString('feedback', input.feedback);
    const respondedBy = input.respondedBy === undefined ? undefined : requireIdentity('respondedBy', input.respondedBy);
    const metadata = optionalPlainObject('metadata', input.metadata);
    let modified: Record<string, unknown> | undefined;
    if (decision === 'modify') {
      if (input.modified === undefined) throw invalidInput('modified', input.modified, "is required when decision is 'modify'");
      if (!isPlainObject(input.modified)) throw invalidInput('modified', input.modified, 'must be a plain object');
      modified = jsonCopy('modified', input.modified).copy;
    } else if (input.modified !== undefined) {
      throw invalidInput('modified', input.modified, "is only allowed when decision is 'modify'");
    }

    const idempotencyKey = optionalString('idempotencyKey', input.idempotencyKey);
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 200)) {
      throw invalidInput('idempotencyKey', idempotencyKey, 'must be 1 to 200 characters');
    }
    /** A retry of a decision that was recorded (its reply lost on the way back) gets that record again. */
    const sameDecision = (record: ApprovalRecord): boolean =>
      idempotencyKey !== undefined && record.response?.decisionId === idempotencyKey && record.response.decision === decision;

    let current: ApprovalRecord | undefined;
    try {
      current = await store.get(id);
    } catch (error) {
      throw storeFailure(error);
    }
    if (!current) throw new HitlError('not_found', `request '${id}' does not exist`);
    if (current.status !== 'pending') {
      if (sameDecision(current)) {
        claimDecision(current);
        return current;
      }
      throw new HitlError('conflict', `request '${id}' is already ${current.status}`);
    }
    const requestedBy = current.request.requestedBy;
    if (requestedBy !== undefined) {
      // An anonymous decision cannot prove it is not the requester's own.
      if (respondedBy === undefined) {
        throw new HitlError('forbidden', `request '${id}' was made by '${requestedBy}': a decision on it must say who respondedBy`, {
          details: { field: 'respondedBy' },
        });
      }
      if (sameIdentity(respondedBy, requestedBy)) {
        throw new HitlError('forbidden', `respondedBy '${respondedBy}' is '${requestedBy}', who made request '${id}', and may not decide it`, {
          details: { field: 'respondedBy', value: respondedBy },
        });
      }
    }
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

    let decided: ApprovalRecord;
    try {
      decided = await decidePending(id, { status: statusOfDecision[decision], response, closedAt: respondedAt });
    } catch (error) {
      if (HitlError.is(error, 'conflict') && idempotencyKey !== undefined) {
        const latest = await store.get(id).catch(() => undefined);
        if (latest && sameDecision(latest)) {
          claimDecision(latest);
          return latest;
        }
      }
      // The store may have recorded it with the reply lost: follow it up if the news comes.
      if (HitlError.is(error, 'store_unavailable')) remember(unclaimedDecisions, decisionId);
      throw error;
    }
    followUpDecision(decided);
    return decided;
  };

  const manager: Manager = {
    addPolicy(policy: ApprovalPolicy) {
      engine.add(policy);
    },
    removePolicy(name: string) {
      return engine.remove(name);
    },
    listPolicies() {
      return engine.list();
    },
    evaluate: ((toolName: string | PolicyCall, confidence?: number, riskLevel?: RiskLevel, input?: Record<string, unknown>) =>
      evaluateCall(engine, toolName, confidence, riskLevel, input)) as Manager['evaluate'],
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
    subscribe(listener) {
      if (typeof listener !== 'function') throw invalidInput('listener', listener, 'must be a function');
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const handle of expiryTimers.values()) scheduler.clearTimeout(handle);
      expiryTimers.clear();
      unsubscribeStore();
      notifyController.abort(new HitlError('cancelled', 'the manager is closed'));
      for (const set of [...waiters.values()]) {
        for (const waiter of [...set]) waiter.fail(new HitlError('cancelled', 'the manager was closed while waiting'));
      }
      waiters.clear();
      listeners.clear();
      unclaimedCreates.clear();
      unclaimedDecisions.clear();
      if (ownsStore) await store.close?.();
    },
  };
  return manager;
}
