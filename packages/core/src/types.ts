// The public types of @hitl/core: policies, requests, records, stores, notifiers, events and the
// manager. Over 750 lines because each is documented where it is declared (the JSDoc is the API
// reference); splitting them would only scatter one reference over several files.
import type { Decision, InteractionType, RequestStatus, RiskLevel } from './constants.js';
import type { HitlError } from './hitl-error.js';
import type { ResumeClaim, UnresumedPage, UnresumedQuery } from './resume-claim.js';
import type {
  ApprovalStoreGrants,
  Grant,
  GrantChange,
  GrantInput,
  GrantList,
  GrantQuery,
  RememberInput,
  RespondManyTarget,
} from './grants/grant-types.js';
import type {
  AddApprovalWriteOptions,
  NotificationEventType,
  NotificationMessage,
  OutboxJob,
  OutboxListQuery,
  OutboxListResult,
  OutboxOptions,
  OutboxStore,
  StoreWriteOptions,
} from './outbox/types.js';

/**
 * A rule that decides, from the tool's name, the model's confidence and the action's risk, whether a
 * call runs at once, waits for a human, or is refused. Policies are tried in insertion order; the
 * first whose `toolPattern` matches decides.
 *
 * @example
 * ```ts
 * const readOnly: ApprovalPolicy = {
 *   name: 'read-only-auto',
 *   toolPattern: '{get,search}_*',
 *   minConfidence: 0.5,
 *   maxRiskLevel: RiskLevel.ReadOnly,
 * };
 * ```
 */
export interface ApprovalPolicy {
  /** Unique, non-empty. */
  name: string;
  /**
   * A case-sensitive glob on the tool name, compiled once: `'get_*'`, `'{get,list}_*'`, `'!admin_*'`,
   * `'*'`. Supports `*`, `?`, `[a-z]`, `[!a]`, `{a,b}`, `{1..5}` (at most 256 alternatives) and one
   * leading `!`; refuses extglobs, `**` and `/`.
   */
  toolPattern: string;
  /** In [0, 1], default 0. Auto-approval needs `confidence >= minConfidence`. */
  minConfidence?: number;
  /** The highest risk auto-approved. Required unless `requireExplicit` or `deny` is set. */
  maxRiskLevel?: RiskLevel;
  /** Matched tools always need a human. */
  requireExplicit?: boolean;
  /** Matched tools are rejected without asking anyone. */
  deny?: boolean;
  /** Overrides the manager's `timeoutMs` for requests this policy sends to review. */
  timeoutMs?: number;
  /**
   * A condition on the call: the policy applies only when its glob matches **and** this holds. A
   * string is a [CEL](https://cel.dev) expression over the {@link PolicyCall} fields, compiled once
   * by `addPolicy` (a syntax or type error is `invalid_input` naming the policy and the column); a
   * function is for code-defined policies. A condition that errors, exceeds its cost limit or gives
   * a non-boolean makes this policy decide `review`: never approve, never skipped.
   *
   * @example
   * ```ts
   * const smallRefunds: ApprovalPolicy = {
   *   name: 'small-refunds',
   *   toolPattern: 'refund_payment',
   *   maxRiskLevel: 'irreversible',
   *   when: 'input.amount <= 50 && input.currency == "EUR"',
   * };
   * ```
   */
  when?: PolicyCondition;
  /**
   * Four eyes: how many **distinct** reviewers must approve a request this policy sends to review,
   * an integer from 1 to 10 (default 1). Until the last approval lands the request stays `pending`
   * (its `approvals` fill up); one `reject` closes it; the requester never counts, the same reviewer
   * twice is `conflict`, and `modify` is refused (`conflict`) while approvals are required.
   *
   * @example
   * ```ts
   * const dualControl: ApprovalPolicy = { name: 'big-transfers', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 };
   * ```
   */
  approvals?: number;
  /**
   * Four eyes with grants: `true` lets a covering approve grant decide a request that needs several
   * approvals outright (`approved`, naming the grant, one use counted), as it decides a request that
   * needs one. Default `false`: a grant is at most one of the approvals (by the grant's maker), never
   * the whole quorum. Taken when the request is created; cannot be combined with `grants: false`.
   *
   * @example
   * ```ts
   * // Two people approve a payout, but a thread a manager has vouched for ("allow for this thread") needs nobody.
   * const payouts: ApprovalPolicy = { name: 'payouts', toolPattern: 'payout_*', requireExplicit: true, approvals: 2, grantCoversQuorum: true };
   * ```
   */
  grantCoversQuorum?: boolean;
  /**
   * `false`: no grant (remembered decision) ever satisfies this policy, so every call it applies to
   * needs a fresh human decision ("every transfer is reviewed"). Deny grants still apply. Default `true`.
   */
  grants?: boolean;
  /**
   * Reminds reviewers of a request still pending: `request.reminder` to every notifier that takes
   * it, every `everyMs` after creation, `times` times (default: until the request is decided or
   * expires — with `timeoutMs: Infinity`, for as long as it waits). Durable timers in the store's
   * outbox: they survive restarts and any instance sends them. Needs a store with an outbox.
   *
   * @example
   * ```ts
   * const policy: ApprovalPolicy = { name: 'payments', toolPattern: 'pay_*', requireExplicit: true, remind: { everyMs: 3_600_000, times: 3 } };
   * ```
   */
  remind?: { everyMs: number; times?: number };
  /**
   * Escalates a request still pending `afterMs` after creation: `request.escalated` to the notifiers
   * named (by their `name`), whatever events they take otherwise. Durable like `remind`.
   *
   * @example
   * ```ts
   * const policy: ApprovalPolicy = { name: 'prod', toolPattern: 'deploy_*', requireExplicit: true, escalate: { afterMs: 900_000, notifiers: ['oncall'] } };
   * ```
   */
  escalate?: { afterMs: number; notifiers: string[] };
}

/**
 * What a policy's condition sees of a tool call, and what the object form of
 * {@link Manager.evaluate} takes. In CEL, absent `requestedBy`, `threadId` and `runId` are `null`
 * and absent `metadata` is `{}`.
 *
 * @example
 * ```ts
 * const call: PolicyCall = {
 *   toolName: 'refund_payment',
 *   input: { amount: 40, currency: 'EUR' },
 *   confidence: 0.9,
 *   riskLevel: 'irreversible',
 *   threadId: 'support-chat-17',
 * };
 * manager.evaluate(call);
 * ```
 */
export interface PolicyCall {
  toolName: string;
  /** The tool call's arguments. */
  input: Record<string, unknown>;
  /** In [0, 1]. */
  confidence: number;
  riskLevel: RiskLevel;
  requestedBy?: string;
  threadId?: string;
  runId?: string;
  metadata?: Record<string, unknown>;
}

/**
 * A policy's `when`: a CEL expression over {@link PolicyCall}, or a function of it that returns a boolean.
 *
 * @example
 * ```ts
 * const ownDomain: PolicyCondition = 'input.to.all(a, a.endsWith("@ourco.com"))';
 * const small: PolicyCondition = (call) => typeof call.input.amount === 'number' && call.input.amount <= 50;
 * ```
 */
export type PolicyCondition = string | ((call: PolicyCall) => boolean);

/** What the policies say about one call. */
export type PolicyOutcome = 'approve' | 'review' | 'deny';

/**
 * The result of {@link Manager.evaluate}: the outcome, the policy that decided, and why.
 *
 * @example
 * ```ts
 * const { outcome, policy, reason } = manager.evaluate('get_weather', 0.4, 'read_only');
 * // 'review', 'read-only-auto', "confidence 0.40 is below 0.50 required by 'read-only-auto'"
 * ```
 */
export interface PolicyEvaluation {
  outcome: PolicyOutcome;
  /** The matched policy's name; absent when no policy matched. */
  policy?: string;
  reason: string;
  /** How many distinct approvals the review needs; present only when the policy asks for more than one. */
  approvals?: number;
  /** Four eyes: `true` when the policy lets an approve grant decide the request outright (`ApprovalPolicy.grantCoversQuorum`); present only then. */
  grantCoversQuorum?: boolean;
  /** The id of the grant (remembered decision) that decided; absent when the policies did. */
  grant?: string;
}

/**
 * What an agent asks a human for.
 *
 * @example
 * ```ts
 * const request: InteractionRequest = {
 *   toolName: 'delete_user',
 *   description: 'Delete user 12345',
 *   input: { user_id: '12345' },
 *   riskLevel: 'irreversible',
 *   confidence: 0.85,
 * };
 * ```
 */
export interface InteractionRequest {
  /** Generated when absent (`'hitl-'` + a random UUID). Letters, digits and `._:-`, at most 128 characters. */
  id?: string;
  /** Default `'approval'`. */
  type?: InteractionType;
  toolName: string;
  description?: string;
  /** The tool call's arguments: a JSON object. */
  input?: Record<string, unknown>;
  /** Absent means `'irreversible'` (fail closed). */
  riskLevel?: RiskLevel;
  /** In [0, 1]; absent means 0. */
  confidence?: number;
  /** Overrides the policy's and the manager's timeout. `Infinity` waits forever. */
  timeoutMs?: number;
  /**
   * Who the agent acts for. That person may not approve their own request: ids are compared after
   * trim, Unicode NFKC and case folding, so `'Alice'`, `' alice'` and `'ａｌｉｃｅ'` are one person.
   */
  requestedBy?: string;
  /**
   * The conversation or session the call belongs to (LangChain's `configurable.thread_id`). Validated
   * like an id: at most 256 characters, no control or invisible characters. `list` filters by it.
   */
  threadId?: string;
  /**
   * One agent turn: the tool calls a model made together share it. Validated like `threadId`;
   * `list` filters by it, so a reviewer sees a turn's calls side by side.
   */
  runId?: string;
  /**
   * The tool's input as a JSON Schema (draft-07, 2019-09 or 2020-12; at most 64 KiB). The adapters
   * fill it from the tool. A `modify` decision is validated against it, so an edit the tool would
   * refuse is answered `invalid_input` and never recorded.
   */
  inputSchema?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

/**
 * A decision on a request: by a human, by a policy, or by a timeout (`automatic: true`).
 *
 * @example
 * ```ts
 * const response = await manager.requestInteraction(request);
 * if (response.decision === 'modify') run(response.modified);
 * ```
 */
export interface InteractionResponse {
  requestId: string;
  decision: Decision;
  feedback?: string;
  /** The edited input; present when `decision` is `'modify'`. */
  modified?: Record<string, unknown>;
  respondedBy?: string;
  /** ISO 8601. */
  respondedAt: string;
  /** True when a policy or a timeout decided, not a human. */
  automatic?: boolean;
  /** Automatic responses carry `{ cause: 'policy' | 'expiry' }`: which of the two decided. */
  metadata?: Record<string, unknown>;
  /** Identifies a reviewer's decision: the `idempotencyKey` it was made with, or a random UUID. */
  decisionId?: string;
  /** The grant this decision created (`respond` with `remember`). A call decided *by* a grant says so in `metadata.grant`. */
  grantId?: string;
}

/** A stored request with its id and type filled in. */
export type StoredRequest = Required<Pick<InteractionRequest, 'id' | 'type' | 'toolName'>> & InteractionRequest;

/**
 * A request as stored, with its status, the policy evaluation, the hash of its input and, once
 * decided, the response. Records handed out by the stores are frozen.
 *
 * @example
 * ```ts
 * const record = await manager.submit({ toolName: 'delete_user', input: { user_id: '1' } });
 * record.status; // 'pending'
 * record.evaluation.reason; // "policy 'destructive' requires explicit approval for 'delete_user'"
 * ```
 */
export interface ApprovalRecord {
  request: StoredRequest;
  status: RequestStatus;
  evaluation: PolicyEvaluation;
  /** sha256 (hex) of the canonical JSON of `request.input`: an approval binds to these exact arguments. */
  inputHash: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; absent when the request never expires. */
  expiresAt?: string;
  response?: InteractionResponse;
  /** Why an expired or cancelled request was closed. */
  closedReason?: string;
  /** ISO 8601: when the status left `pending`. */
  closedAt?: string;
  /** How many distinct approvals the request needs; present only when more than one (four eyes). */
  approvalsRequired?: number;
  /** The approvals given so far, oldest first; present on requests with `approvalsRequired`. Kept after a reject or an expiry. */
  approvals?: Approval[];
}

/**
 * One reviewer's approval of a request that needs several ({@link ApprovalPolicy.approvals}).
 *
 * @example
 * ```ts
 * const record = await manager.respond(id, { decision: 'approve', respondedBy: 'alice' });
 * record.approvals; // [{ by: 'alice', at: '2026-01-01T00:00:00.000Z' }]
 * ```
 */
export interface Approval {
  /** The reviewer, as they gave their id; compared after trim, NFKC and case folding. */
  by: string;
  /** ISO 8601. */
  at: string;
  feedback?: string;
  /** The `idempotencyKey` the approval was given with, or a random UUID: a retry with the key gets the record back. */
  decisionId?: string;
}

/**
 * What {@link ApprovalStore.addApproval} records: the approval, how many the request needs, and the
 * response stored when this approval completes the quorum.
 *
 * @example
 * ```ts
 * const input: AddApprovalInput = {
 *   approval: { by: 'alice', at: new Date().toISOString() },
 *   required: 2,
 *   response: { requestId: id, decision: 'approve', respondedBy: 'alice', respondedAt: new Date().toISOString() },
 * };
 * ```
 */
export interface AddApprovalInput {
  approval: Approval;
  /** 2..10: the count at which the request becomes `approved`. */
  required: number;
  /** Stored (with `closedAt` = `approval.at`) when this approval brings the count to `required`. */
  response: InteractionResponse;
}

/** Filters and paging for {@link Manager.list} and {@link ApprovalStore.list}. */
export interface ListQuery {
  status?: RequestStatus;
  toolName?: string;
  threadId?: string;
  runId?: string;
  /** Exact match on `request.requestedBy` as stored. */
  requestedBy?: string;
  /** ISO 8601: only records created at or after this instant. */
  createdAfter?: string;
  /** ISO 8601: only records created strictly before this instant. */
  createdBefore?: string;
  /** 1..1000, default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/** One page of records, newest first. */
export interface ListResult {
  items: ApprovalRecord[];
  /** Present when more records follow. */
  nextCursor?: string;
}

/** The change applied by {@link ApprovalStore.decide}: the only way a status changes. */
export interface DecidePatch {
  status: Exclude<RequestStatus, 'pending'>;
  response?: InteractionResponse;
  closedReason?: string;
  /** ISO 8601: when the decision was made, by the deciding manager's clock. */
  closedAt: string;
}

/** What a store reports to its subscribers: a record was created, or its status changed. */
export interface StoreChange {
  /** `'approval-added'`: one more approval on a request that stays `pending` (four eyes). */
  type: 'created' | 'decided' | 'approval-added';
  record: ApprovalRecord;
}

/** What {@link ApprovalStore.create} did: stored the new record, or found one with that id. */
export interface CreateResult {
  record: ApprovalRecord;
  created: boolean;
}

/**
 * Where records live. Implement it to keep approvals in your own database; `createMemoryStore()`
 * is the embedded default and `@hitl/store-postgres` the durable, shared one.
 *
 * Rules every store keeps: `create` never overwrites (it returns the existing record instead);
 * `decide` is atomic and the only way a status changes (a compare-and-set on `expectedStatus`),
 * and refuses a non-expiry decision once `expiresAt` has passed; every change reaches `subscribe`
 * listeners, including changes made by other processes sharing the store.
 *
 * @example
 * ```ts
 * const store: ApprovalStore = createMemoryStore();
 * const manager = createManager({ store });
 * ```
 */
export interface ApprovalStore extends ApprovalStoreGrants {
  /** `options.jobs` (stores with an {@link outbox}): outbox jobs written atomically with the record, only when it is created. */
  create(record: ApprovalRecord, options?: StoreWriteOptions): Promise<CreateResult>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /**
   * Optional: the records of up to 1,000 ids in one read, in no particular order;
   * unknown ids are left out. The outbox uses it to read the requests of a batch of jobs at once.
   * Throws `invalid_input` (field `ids`) for anything but an array of non-empty strings of that size.
   */
  getMany?(ids: readonly string[]): Promise<ApprovalRecord[]>;
  list(query: ListQuery): Promise<ListResult>;
  /**
   * Moves a record from `expectedStatus` to `patch.status` atomically. Throws `HitlError` with
   * `not_found` when there is no such record and `conflict` when its status is not `expectedStatus`
   * or, for any decision but `expired`, when it has expired.
   */
  decide(id: string, expectedStatus: RequestStatus, patch: DecidePatch, options?: StoreWriteOptions): Promise<ApprovalRecord>;
  /**
   * Four eyes, atomically: appends `input.approval` to a pending request's `approvals` and, when
   * that makes `input.required`, moves it to `approved` with `input.response`. Throws `not_found`
   * for an unknown id and `conflict` when it is not pending, has expired, or already holds an
   * approval by the same reviewer (ids compared by `identityKey`). Optional: without it, policies
   * with `approvals` above 1 are refused by `addPolicy`. Stores with an outbox write `options.jobs`
   * in the same write only when this approval moves the request to `approved`, and
   * `options.partialJobs` only when it leaves the request pending.
   */
  addApproval?(id: string, input: AddApprovalInput, options?: AddApprovalWriteOptions): Promise<ApprovalRecord>;
  subscribe(listener: (change: StoreChange) => void): () => void;
  close?(): Promise<void>;
  /**
   * Durable side effects (optional): when present, the manager writes its notifications, hooks,
   * reminders and escalations as jobs with each change and delivers them at least once from any
   * instance. A store that writes jobs must honour `options.jobs` of `create` and `decide`.
   */
  readonly outbox?: OutboxStore;
  /**
   * Optional (durable resume): takes the claim on resuming the run a decided request paused, for
   * `leaseMs` by the store's clock. Resolves with the claim, or `undefined` when the request is not
   * decided, its resume is completed, or another owner holds an unexpired lease. Atomic: of any
   * number of concurrent claims, at most one gets it; a claim whose lease ran out can be taken again.
   */
  claimResume?(requestId: string, owner: string, leaseMs: number): Promise<ResumeClaim | undefined>;
  /** Optional (durable resume): marks the resume done; true when `owner` held the claim, which no one can take again. */
  completeResume?(requestId: string, owner: string): Promise<boolean>;
  /**
   * Optional (durable resume): extends a claim `owner` still holds (not completed, not taken over)
   * to `leaseMs` from now by the store's clock, and resolves with it; `undefined` when `owner` no
   * longer holds it. A resumer renews its claim while a resumed run outlasts the lease.
   */
  renewResume?(requestId: string, owner: string, leaseMs: number): Promise<ResumeClaim | undefined>;
  /** Optional (durable resume): decided requests marked `metadata.resumeWith` whose resume is not completed, oldest decision first. */
  listUnresumed?(query: UnresumedQuery): Promise<UnresumedPage>;
}

/**
 * Tells humans that a request waits for them. `notify` may take as long as it likes: the manager
 * never awaits it on the request path, and turns a rejection into a `notify-failed` event.
 *
 * @example
 * ```ts
 * const pager: Notifier = {
 *   name: 'pager',
 *   async notify(record, { signal }) {
 *     await fetch('http://127.0.0.1:9000/page', { method: 'POST', body: JSON.stringify(record), signal });
 *   },
 * };
 * ```
 */
export interface Notifier {
  name: string;
  notify(record: ApprovalRecord, context: { signal: AbortSignal }): Promise<void>;
  /**
   * The events this notifier takes (with a store that has an outbox). Default
   * `['request.created', 'request.approval_added', 'request.reminder']`. `request.escalated` also reaches the notifiers a
   * policy's `escalate.notifiers` names, whatever this says.
   */
  readonly events?: readonly NotificationEventType[];
  /**
   * Sends one event (with a store that has an outbox); without it, `notify(record)` is called for
   * each event the notifier takes, once (a rejection is final: `notify` does its own retrying). `message.id` is stable across
   * retries: send it along so receivers dedupe. Resolve when delivered; reject to be retried with
   * backoff; resolve `'gone'` when the receiver says it wants nothing more (no retry).
   */
  deliver?(message: NotificationMessage, context: { signal: AbortSignal }): Promise<void | 'gone'>;
}

/** The logger hitl writes to; `console` fits. */
export interface Logger {
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  info?(message: string, ...details: unknown[]): void;
  debug?(message: string, ...details: unknown[]): void;
}

/** The event names a manager emits, noun then verb. */
export type ManagerEventType =
  | 'request-created'
  | 'request-decided'
  | 'request-expired'
  | 'request-cancelled'
  | 'request-approval-added'
  | 'notify-failed'
  | 'policy-shadowed';

/**
 * What {@link Manager.subscribe} listeners receive.
 *
 * @example
 * ```ts
 * manager.subscribe((event) => {
 *   if (event.type === 'request-decided') console.log(event.record.status);
 * });
 * ```
 */
export type ManagerEvent =
  | { type: 'request-created'; record: ApprovalRecord }
  | { type: 'request-decided'; record: ApprovalRecord }
  | { type: 'request-expired'; record: ApprovalRecord }
  | { type: 'request-cancelled'; record: ApprovalRecord }
  /** Four eyes: `approval` was added; `remaining` more are needed (0 just before the `request-decided`). */
  | { type: 'request-approval-added'; record: ApprovalRecord; approval: Approval; remaining: number }
  | { type: 'notify-failed'; record: ApprovalRecord; notifier: string; error: HitlError }
  /** The `shadowPolicies` would have decided this request differently: `live` decided it, `shadow` is what the candidate set says. */
  | { type: 'policy-shadowed'; record: ApprovalRecord; live: PolicyEvaluation; shadow: PolicyEvaluation };

/**
 * Callbacks run on a transition. With a store that has an outbox (the memory store, PostgreSQL),
 * each decision hook is a durable job: it runs at least once per transition on whichever manager
 * claims it (an expiry made by another instance's sweeper included), and exactly once when no
 * process dies mid-way. Without one, hooks run on the manager that made the transition. A hook
 * that throws never changes the outcome; its error goes to `onError`. `onRequest` runs before anything is stored and may veto
 * the request by returning `false` or throwing: `submit` then throws `HitlError('forbidden')`.
 *
 * @example
 * ```ts
 * const hooks: ManagerHooks = {
 *   onRequest: (request) => request.toolName !== 'drop_database',
 *   onApprove: (record) => audit.log('approved', record.request.id),
 *   onError: (error) => console.error(error),
 * };
 * ```
 */
export interface ManagerHooks {
  onRequest?(request: StoredRequest, evaluation: PolicyEvaluation): boolean | void | Promise<boolean | void>;
  onApprove?(record: ApprovalRecord): void | Promise<void>;
  onReject?(record: ApprovalRecord): void | Promise<void>;
  onModify?(record: ApprovalRecord): void | Promise<void>;
  onTimeout?(record: ApprovalRecord): void | Promise<void>;
  onCancel?(record: ApprovalRecord): void | Promise<void>;
  /** Hook and notifier failures; without it they are logged through `logger.error`. */
  onError?(error: Error, record?: ApprovalRecord): void;
}

/** Timer functions the manager uses for expiry; `globalThis`'s by default. */
export interface Scheduler {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Options of {@link createManager}.
 *
 * @example
 * ```ts
 * const manager = createManager({
 *   timeoutMs: 60_000,
 *   onTimeout: 'reject',
 *   notifiers: [createLogNotifier()],
 *   policies: [{ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' }],
 * });
 * ```
 */
export interface ManagerOptions {
  /** How long a request waits for a human, in ms. Default 300 000; `Infinity` waits forever. */
  timeoutMs?: number;
  /** On expiry `requestInteraction` throws `HitlError('timeout')` (`'error'`, default) or resolves with an automatic reject. */
  onTimeout?: 'error' | 'reject';
  notifiers?: Notifier[];
  /** Added in order, as by `addPolicy`. */
  policies?: ApprovalPolicy[];
  /**
   * A candidate policy set evaluated beside the live one on every `submit`, never deciding anything:
   * where its outcome differs, the manager emits a `policy-shadowed` event (both evaluations and the
   * record). An error in it is reported through `onError`/the logger, never thrown. Validated like
   * `policies` at creation. Absent (the default): no shadow work at all.
   */
  shadowPolicies?: ApprovalPolicy[];
  /** The outcome for tools no policy matches. Default `'review'`. */
  defaultOutcome?: 'review' | 'deny';
  /** Default: a new `createMemoryStore()`, closed by `close()`. A store you pass is yours to close. */
  store?: ApprovalStore;
  hooks?: ManagerHooks;
  logger?: Logger;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The timers expiry runs on. Default the global `setTimeout`/`clearTimeout`. */
  scheduler?: Scheduler;
  /** Makes ids for requests submitted without one. Default `'hitl-' + crypto.randomUUID()`. */
  generateId?: () => string;
  /** Retries, leases and backoff of the outbox worker, when the store has an outbox. */
  outbox?: OutboxOptions;
}

/** A reviewer's answer, as given to {@link Manager.respond}. */
export interface RespondInput {
  decision: Decision;
  feedback?: string;
  /** Required when `decision` is `'modify'`: the input to run instead. */
  modified?: Record<string, unknown>;
  respondedBy?: string;
  metadata?: Record<string, unknown>;
  /**
   * Makes a retry safe: when a decision made with this key was recorded but its reply was lost (a
   * timeout, a dropped connection), repeating the same decision with the same key returns that
   * record instead of `conflict`. Never a second decision.
   */
  idempotencyKey?: string;
  /**
   * Also remember this decision as a grant, stored together with it: an approve makes an approve
   * grant, a reject a deny grant. The decided record names it in `response.grantId`.
   */
  remember?: RememberInput;
}

/** Options of {@link Manager.waitFor}. */
export interface WaitOptions {
  /** Aborting stops waiting (`HitlError('cancelled')`) and leaves the record pending. */
  signal?: AbortSignal;
  /** Stop waiting after this long (`HitlError('timeout')`); the record itself stays as it is. */
  timeoutMs?: number;
}

/**
 * The approval manager: policies, requests, decisions and events. Create one with
 * {@link createManager}; managers share nothing with each other unless they share a store.
 */
export interface Manager {
  /**
   * Adds a policy after the existing ones. Throws `HitlError('invalid_input')` naming the field
   * when the policy is malformed; nothing is added then.
   */
  addPolicy(policy: ApprovalPolicy): void;
  /** Removes a policy by name; returns whether one was removed. */
  removePolicy(name: string): boolean;
  /** The policies in evaluation order (copies). */
  listPolicies(): ApprovalPolicy[];
  /**
   * Replaces every policy at once (a reloaded policy file, say): the whole list is validated first,
   * and on any error (`HitlError('invalid_input')` naming the field) the current policies stay.
   * Each evaluation sees either the old list or the new one, never a mix.
   *
   * @example
   * ```ts
   * manager.setPolicies([{ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' }]);
   * ```
   */
  setPolicies(policies: ApprovalPolicy[]): void;
  /**
   * What the policies say about a call: the first policy whose glob matches and whose condition
   * holds decides. Synchronous; never throws for odd confidence or risk (they mean review).
   *
   * @example
   * ```ts
   * manager.evaluate({ toolName: 'refund_payment', input: { amount: 20 }, confidence: 1, riskLevel: 'irreversible' });
   * manager.evaluate('get_weather', 0.9, 'read_only'); // the positional form: input is {}
   * ```
   */
  evaluate(call: PolicyCall): PolicyEvaluation;
  evaluate(toolName: string, confidence?: number, riskLevel?: RiskLevel, input?: Record<string, unknown>): PolicyEvaluation;
  /** `evaluate(...).outcome === 'approve'`. */
  shouldApprove(toolName: string, confidence?: number, riskLevel?: RiskLevel): Promise<boolean>;
  /** Stores a request and returns at once: decided when a policy decided, else pending. */
  submit(request: InteractionRequest): Promise<ApprovalRecord>;
  /** Resolves with the response once the record is decided. */
  waitFor(id: string, options?: WaitOptions): Promise<InteractionResponse>;
  /** `submit` + `waitFor`: blocks until a human (or a policy, or the timeout) decides. */
  requestInteraction(request: InteractionRequest, options?: { signal?: AbortSignal }): Promise<InteractionResponse>;
  /** Records a decision. Exactly one decision per request wins; the others get `conflict`. */
  respond(id: string, input: RespondInput): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  list(query?: ListQuery): Promise<ListResult>;
  /** Cancels a pending request; its waiters reject with `cancelled`. */
  cancel(id: string, reason?: string): Promise<ApprovalRecord>;
  /** Listens to events; returns the unsubscribe function. */
  subscribe(listener: (event: ManagerEvent) => void): () => void;
  /** Stops timers and subscriptions; pending waiters reject with `cancelled`. Records stay as they are. */
  close(): Promise<void>;
  /**
   * Decides every pending request of `target` all or nothing (one transaction on a store that has
   * `decideMany`). At most 500 requests. A request that is not pending makes it `conflict` with
   * `details.ids` naming them; a self-approval `forbidden`, an unknown id `not_found`, each naming the ids.
   *
   * @example
   * ```ts
   * const records = await manager.respondMany({ runId: 'turn-42' }, { decision: 'approve', respondedBy: 'alice' });
   * ```
   */
  respondMany(target: RespondManyTarget, input: RespondInput): Promise<ApprovalRecord[]>;
  /**
   * Stores a grant (remembered decision). A new approve grant also decides the pending requests it
   * covers, each by the same rules as a new call. A `deny` from the policies always wins, and with
   * `defaultOutcome: 'deny'` a tool no policy matches is denied that way: no approve grant applies to
   * it (add a policy for the tool, say `requireExplicit: true`, for grants to cover it).
   *
   * @example
   * ```ts
   * const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', scope: { threadId: 't-1' }, grantedBy: 'alice' });
   * ```
   */
  grant(input: GrantInput): Promise<Grant>;
  /**
   * Revokes a grant: once this returns, no manager sharing the store decides a call by it.
   * `not_found` for an unknown id; revoking twice returns the first revocation.
   *
   * @example
   * ```ts
   * await manager.revokeGrant(grant.id, { revokedBy: 'alice' });
   * ```
   */
  revokeGrant(id: string, input: { revokedBy: string }): Promise<Grant>;
  /**
   * Grants, newest first.
   *
   * @example
   * ```ts
   * const { items } = await manager.listGrants({ active: true });
   * ```
   */
  listGrants(query?: GrantQuery): Promise<GrantList>;
  /**
   * One grant by id, revoked or not; undefined when there is none.
   *
   * @example
   * ```ts
   * const grant = await manager.getGrant('grant-1b2c');
   * ```
   */
  getGrant(id: string): Promise<Grant | undefined>;
  /**
   * Listens to grants created and revoked (by any manager sharing the store); returns the
   * unsubscribe function. Separate from {@link Manager.subscribe}, whose events all carry a record.
   *
   * @example
   * ```ts
   * manager.subscribeGrants((change) => console.log(change.type, change.grant.id));
   * ```
   */
  subscribeGrants(listener: (change: GrantChange) => void): () => void;
  /**
   * The outbox's jobs (notifications, hooks, reminders, escalations), newest first. Throws
   * `HitlError('invalid_input')` when the store has no outbox.
   *
   * @example
   * ```ts
   * const { items } = await manager.listDeliveries({ state: 'dead' });
   * for (const job of items) await manager.redeliver(job.id);
   * ```
   */
  listDeliveries(query?: OutboxListQuery): Promise<OutboxListResult>;
  /** Makes a dead (or done) job due again now, its attempts reset; `not_found` for an unknown id. */
  redeliver(id: string): Promise<OutboxJob>;
}
