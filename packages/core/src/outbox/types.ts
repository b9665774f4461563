/** The public types of the outbox: durable jobs a store writes with the change that causes them, claimed under a lease by any live manager. */
import type { Approval, ApprovalRecord } from '../types.js';

/**
 * Where a job is in its life. `claimed` jobs whose lease has ended are claimable again.
 *
 * @example
 * ```ts
 * const state: OutboxJobState = 'dead';
 * const { items } = await manager.listDeliveries({ state });
 * ```
 */
export type OutboxJobState = 'pending' | 'claimed' | 'done' | 'dead';

/**
 * A job to write, as passed to {@link ApprovalStore.create}/{@link ApprovalStore.decide} (with the
 * change, atomically) or to {@link OutboxStore.complete} (follow-ups of a finished job).
 *
 * The outbox is general: `kind` names the consumer. The manager uses `'hook'` (run a decision hook),
 * `'notify'` (one event to one notifier) and `'transition'` (a change made without a manager, such as
 * a sweeper's expiry, whose follow-up jobs are still to be written). Other consumers pick their own
 * kinds and claim only those (`claim({ kinds })`).
 *
 * @example
 * ```ts
 * const job: OutboxJobInput = {
 *   id: 'hitl-42:request.decided:webhook',
 *   kind: 'notify',
 *   requestId: 'hitl-42',
 *   topic: 'request.decided',
 *   target: 'webhook',
 *   dueAt: new Date().toISOString(),
 *   maxAttempts: 8,
 * };
 * ```
 */
export interface OutboxJobInput {
  /** Unique and stable: writing a job whose id exists already does nothing. Receivers dedupe on it. At most 512 characters. */
  id: string;
  kind: string;
  /** The request the job is about, if any. */
  requestId?: string;
  /** What to do: an event type (`'request.created'`), a hook name (`'onApprove'`), a consumer's own word. */
  topic: string;
  /** Who to do it for: a notifier's name, say. */
  target?: string;
  /** Any JSON object the consumer needs. */
  payload?: Record<string, unknown>;
  /** ISO 8601: not claimable before this instant. */
  dueAt: string;
  /** How many claims a job gets before it is dead, 1..100. */
  maxAttempts: number;
  /**
   * Writes the job already claimed by `owner` until `leaseUntil` (counting as its first attempt):
   * the writer handles it at once, and another claims it only if the writer is gone when the lease ends.
   */
  claim?: { owner: string; leaseUntil: string };
}

/**
 * A job as the outbox holds it.
 *
 * @example
 * ```ts
 * const [dead] = (await manager.listDeliveries({ state: 'dead' })).items;
 * console.log(dead?.id, dead?.attempts, dead?.lastError);
 * ```
 */
export interface OutboxJob extends Omit<OutboxJobInput, 'claim'> {
  state: OutboxJobState;
  /** Claims so far (the current one included). */
  attempts: number;
  /** ISO 8601. Pending: when it is due. Claimed: when its lease ends. */
  dueAt: string;
  /** Who holds (or last held) the claim. */
  owner?: string;
  /** What the last failed attempt said. */
  lastError?: string;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601: the last change of state. */
  updatedAt: string;
}

/**
 * Options of {@link OutboxStore.claim}.
 *
 * @example
 * ```ts
 * const options: OutboxClaimOptions = { owner: 'instance-a', limit: 50, leaseMs: 30_000, now: new Date().toISOString() };
 * ```
 */
export interface OutboxClaimOptions extends OutboxJobFilter {
  /** Who claims: a token unique to this claimer (a manager makes a random one). */
  owner: string;
  /** The most jobs to claim, 1..1000. */
  limit: number;
  /** How long the claim holds, in ms; after it, another claimer may take the job. */
  leaseMs: number;
  /** ISO 8601: the claimer's clock. Jobs due at or before it, and claims whose lease ended by it, are taken. */
  now: string;
}

/**
 * Which jobs a claimer takes: a manager passes the kinds it runs and the names of its notifiers, so
 * a job for a notifier it does not have waits for a manager that has it (a rolling deploy that adds
 * a notifier loses no message to the instances that do not know it yet).
 *
 * @example
 * ```ts
 * const filter: OutboxJobFilter = { kinds: ['notify'], targets: ['webhook'] };
 * ```
 */
export interface OutboxJobFilter {
  /** Only jobs of these kinds. Default: every kind. */
  kinds?: readonly string[];
  /** Only jobs without a target or with one of these targets. Default: any target. */
  targets?: readonly string[];
}

/**
 * A query of {@link OutboxStore.list}: newest first.
 *
 * @example
 * ```ts
 * const query: OutboxListQuery = { state: 'dead', limit: 20 };
 * ```
 */
export interface OutboxListQuery {
  state?: OutboxJobState;
  requestId?: string;
  /** 1..1000, default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * One page of jobs.
 *
 * @example
 * ```ts
 * const page: OutboxListResult = await manager.listDeliveries({ state: 'dead' });
 * ```
 */
export interface OutboxListResult {
  items: OutboxJob[];
  nextCursor?: string;
}

/**
 * The outbox of a store: durable jobs written in the same transaction as the change that causes
 * them, claimed with a lease (`FOR UPDATE SKIP LOCKED` in PostgreSQL) so each job is handled by one
 * claimer at a time and by another one if the first dies. Delivery is at least once: a claimer
 * that dies after acting and before `complete` leaves the job to be claimed and done again.
 *
 * Every state change takes the claimer's `owner` token and applies only while that claimer still
 * holds the job (`state = 'claimed' AND owner = $owner`); it resolves `false` otherwise (the lease
 * ended and someone else took it, or it was finished). The memory store and `@hitl/store-postgres`
 * implement it; third-party stores may leave it out (the manager then notifies in process, as before).
 *
 * @example
 * ```ts
 * const outbox = store.outbox!;
 * for (const job of await outbox.claim({ owner: 'worker-1', limit: 10, leaseMs: 30_000, now: new Date().toISOString() })) {
 *   try {
 *     await handle(job);
 *     await outbox.complete(job.id, 'worker-1');
 *   } catch (error) {
 *     const retryAt = new Date(Date.now() + 2 ** job.attempts * 1_000).toISOString();
 *     if (job.attempts >= job.maxAttempts) await outbox.dead(job.id, 'worker-1', String(error));
 *     else await outbox.reschedule(job.id, 'worker-1', { dueAt: retryAt, error: String(error) });
 *   }
 * }
 * ```
 */
export interface OutboxStore {
  /** Claims up to `limit` due jobs (oldest due first), each attempt counted; jobs others hold are skipped, never waited for. */
  claim(options: OutboxClaimOptions): Promise<OutboxJob[]>;
  /** Marks a claimed job done and writes `jobs` (its follow-ups) in the same transaction. */
  complete(id: string, owner: string, options?: { jobs?: readonly OutboxJobInput[] }): Promise<boolean>;
  /** Gives a claimed job back, due again at `dueAt` (a backoff), with the error that made it fail. */
  reschedule(id: string, owner: string, options: { dueAt: string; error: string }): Promise<boolean>;
  /** Marks a claimed job dead: no more attempts. It stays listed until redelivered. */
  dead(id: string, owner: string, error: string): Promise<boolean>;
  /** Jobs, newest first. */
  list(query?: OutboxListQuery): Promise<OutboxListResult>;
  /** Makes a dead (or done) job pending again, due at `dueAt`, with its attempts reset. Throws `not_found` for an unknown id. */
  redeliver(id: string, dueAt: string): Promise<OutboxJob>;
  /**
   * ISO 8601: when the earliest pending or claimed job becomes claimable; undefined when none is.
   * `exceptOwner` leaves out the jobs that claimer holds (it finishes them itself); `kinds` and
   * `targets` leave out the jobs its claims would not take.
   */
  nextDue(options?: { exceptOwner?: string } & OutboxJobFilter): Promise<string | undefined>;
  /**
   * How often a manager should look for jobs written elsewhere (other processes, a sweeper), in ms.
   * Absent for a store only one process writes to: the manager then wakes only for jobs it knows.
   */
  readonly pollIntervalMs?: number;
}

/**
 * Options of the write calls that carry outbox jobs.
 *
 * @example
 * ```ts
 * await store.create(record, { jobs: [{ id: `${record.request.id}:audit`, kind: 'audit', topic: 'created', dueAt: record.createdAt, maxAttempts: 5 }] });
 * ```
 */
export interface StoreWriteOptions {
  /** Written in the same transaction as the change, and only if the change is made. */
  jobs?: readonly OutboxJobInput[];
}

/**
 * Options of {@link ApprovalStore.addApproval} (four eyes): one approval writes either the
 * decision's jobs (it completed the quorum) or the partial approval's (the request stays pending),
 * in the same write as the approval.
 *
 * @example
 * ```ts
 * await store.addApproval(id, input, { jobs: decisionJobs, partialJobs: [approvalAddedJob] });
 * ```
 */
export interface AddApprovalWriteOptions extends StoreWriteOptions {
  /** Written with the approval only when it moves the request to `approved`. */
  jobs?: readonly OutboxJobInput[];
  /** Written with the approval only when it leaves the request pending: the notices that another approver is needed. */
  partialJobs?: readonly OutboxJobInput[];
}

/**
 * The webhook events a notifier can subscribe to (Standard Webhooks `type`).
 * `request.approval_added` (four eyes): an approval left the request pending, so another approver
 * is needed; it is not sent once the request is decided (`request.decided` follows instead).
 *
 * @example
 * ```ts
 * const events: NotificationEventType[] = ['request.created', 'request.decided'];
 * const webhook = createWebhookNotifier({ url: 'https://agents.example.com/hitl-events', events });
 * ```
 */
export type NotificationEventType =
  | 'request.created'
  | 'request.approval_added'
  | 'request.decided'
  | 'request.expired'
  | 'request.cancelled'
  | 'request.reminder'
  | 'request.escalated';

/**
 * One event for one notifier, as {@link Notifier.deliver} receives it.
 *
 * @example
 * ```ts
 * const message: NotificationMessage = { id: 'hitl-42:request.decided:webhook', type: 'request.decided', record, attempt: 1 };
 * ```
 */
export interface NotificationMessage {
  /** Stable across retries and instances: the Standard Webhooks `webhook-id`. Receivers dedupe on it. */
  id: string;
  type: NotificationEventType;
  /** The record as it is when the message is sent. */
  record: ApprovalRecord;
  /** 1 for the first attempt. */
  attempt: number;
  /** Reminders: which one this is, from 1. */
  reminder?: number;
  /**
   * `request.approval_added` (four eyes): the approval this message reports. The record says how
   * many approvals it has and needs now (`approvals`, `approvalsRequired`).
   */
  approval?: Approval;
}

/**
 * Options of the manager's outbox worker (`createManager({ outbox })`), used when its store has an outbox.
 *
 * @example
 * ```ts
 * const outbox: OutboxOptions = { maxAttempts: 10, leaseMs: 60_000, backoff: (attempt) => Math.min(2 ** attempt * 1_000, 300_000) };
 * ```
 */
export interface OutboxOptions {
  /** Attempts per job before it is dead. Default 8. */
  maxAttempts?: number;
  /** How long a claim holds before another manager may take the job, in ms. Default 30 000. */
  leaseMs?: number;
  /** The wait before retry `attempt + 1` after failed attempt `attempt`, in ms. Default 1 s doubling to 5 min. */
  backoff?: (attempt: number) => number;
  /** Jobs claimed per round. Default 50. */
  batchSize?: number;
}
