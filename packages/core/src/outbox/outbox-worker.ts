/**
 * The manager's outbox worker: handles the jobs it wrote itself at once (written already claimed),
 * and claims due jobs — retries, reminders, escalations, jobs of a process that died — in rounds
 * woken by its own writes, by the earliest due job and, on a shared store, by polling.
 * Over 300 lines because handling, claiming and rescheduling jobs are one closure over the worker's timer, rounds and jobs in flight.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { approvalBy } from '../four-eyes.js';
import { HitlError } from '../hitl-error.js';
import { errorMessage } from '../internal.js';
import type { DecisionHook } from '../manager-events.js';
import type { RequestStatus } from '../constants.js';
import type { ApprovalRecord, ApprovalStore, ManagerEvent, ManagerHooks, Notifier, Scheduler } from '../types.js';
import { MANAGER_JOB_KINDS, type Claim, type JobPlan } from './job-plan.js';
import type { NotificationEventType, OutboxJob, OutboxJobFilter, OutboxJobInput, OutboxOptions, OutboxStore } from './types.js';

/** How many times a job is tried before it is dead, unless `OutboxOptions.maxAttempts` says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 8;
const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_BATCH = 50;
/** Rounds one wake-up may run back to back before yielding to the timer. */
const MAX_ROUNDS = 20;
const MAX_TIMER_DELAY = 2_147_483_647;
/** Rounds run back to back when jobs fall due while a round runs, before waiting for the timer. */
const MAX_CATCH_UPS = 3;

/** 1 s after the first failure, doubling, at most 5 minutes. */
export const defaultBackoff = (attempt: number): number => Math.min(1_000 * 2 ** Math.max(attempt - 1, 0), 300_000);

export interface OutboxWorkerOptions {
  store: ApprovalStore;
  outbox: OutboxStore;
  plan: JobPlan;
  notifiers: readonly Notifier[];
  hooks: ManagerHooks;
  options: OutboxOptions;
  scheduler: Scheduler;
  now: () => number;
  emit(event: ManagerEvent): void;
  reportError(error: unknown, record?: ApprovalRecord): void;
  isClosed(): boolean;
}

export interface OutboxWorker {
  readonly maxAttempts: number;
  /** The claim a job written now by this manager carries. */
  claim(): Claim;
  /** Handles this manager's own just-written jobs (those claimed by it) and wakes for the later ones. */
  run(jobs: readonly OutboxJobInput[], record: ApprovalRecord): void;
  /** Looks for due jobs soon. */
  wake(): void;
  close(): void;
}

/** A job of this manager's own write, as the outbox holds it after the write. */
function asClaimed(input: OutboxJobInput): OutboxJob {
  const nowIso = new Date().toISOString();
  const job: OutboxJob = {
    id: input.id,
    kind: input.kind,
    topic: input.topic,
    state: 'claimed',
    attempts: 1,
    maxAttempts: input.maxAttempts,
    dueAt: input.claim?.leaseUntil ?? input.dueAt,
    createdAt: nowIso,
    updatedAt: nowIso,
  };
  if (input.requestId !== undefined) job.requestId = input.requestId;
  if (input.target !== undefined) job.target = input.target;
  if (input.payload !== undefined) job.payload = input.payload;
  if (input.claim) job.owner = input.claim.owner;
  return job;
}

export function createOutboxWorker({
  store,
  outbox,
  plan,
  notifiers,
  hooks,
  options,
  scheduler,
  now,
  emit,
  reportError,
  isClosed,
}: OutboxWorkerOptions): OutboxWorker {
  const owner = `manager-${randomUUID()}`;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const backoff = options.backoff ?? defaultBackoff;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const byName = new Map(notifiers.map((notifier) => [notifier.name, notifier]));
  // Only the jobs this manager can run: a notification for a notifier it lacks waits for one that has it.
  const jobFilter: OutboxJobFilter = { kinds: MANAGER_JOB_KINDS, targets: [...byName.keys()] };
  const controller = new AbortController();
  // Every delivery in flight listens to it (notifiers forward it to their requests): no listener cap.
  setMaxListeners(0, controller.signal);
  const iso = (ms: number) => new Date(ms).toISOString();
  let timer: unknown;
  let timerAt = Number.POSITIVE_INFINITY;
  let draining: Promise<void> | undefined;
  let again = false;
  let catchUps = 0;

  /** Runs `action` with a signal that aborts when the manager closes. A hung attempt is bounded by the lease: another manager takes the job then. */
  const bounded = async <T>(action: (signal: AbortSignal) => Promise<T> | T): Promise<T> => action(controller.signal);

  const finishQuietly = (promise: Promise<unknown>) => {
    promise.catch((error: unknown) => {
      if (!isClosed()) reportError(error);
    });
  };

  const fail = async (job: OutboxJob, error: unknown, record?: ApprovalRecord): Promise<void> => {
    const message = errorMessage(error);
    if (job.attempts >= job.maxAttempts) {
      await outbox.dead(job.id, owner, message);
      return;
    }
    await outbox.reschedule(job.id, owner, { dueAt: iso(now() + Math.max(0, backoff(job.attempts))), error: message });
    void record;
    wake();
  };

  const runHook = (job: OutboxJob, record: ApprovalRecord | undefined): Promise<void> => {
    const hook = hooks[job.topic as DecisionHook];
    if (!record || typeof hook !== 'function') return outbox.complete(job.id, owner).then(() => undefined);
    // Called before any await, so a hook of this manager's own transition runs before its call returns.
    let result: unknown;
    try {
      result = hook.call(hooks, record);
    } catch (error) {
      reportError(error, record);
    }
    return (async () => {
      try {
        await bounded(() => result);
      } catch (error) {
        reportError(error, record);
      }
      await outbox.complete(job.id, owner);
    })();
  };

  const send = (job: OutboxJob, record: ApprovalRecord | undefined): Promise<void> => {
    const type = job.topic as NotificationEventType;
    // Notices about a pending request: reminders, escalations and (four eyes) "another approver is needed".
    const whilePending = type === 'request.reminder' || type === 'request.escalated' || type === 'request.approval_added';
    // A request decided (or gone) before such a notice goes out needs none.
    if (!record || (whilePending && record.status !== 'pending')) return outbox.complete(job.id, owner).then(() => undefined);
    const notifier = byName.get(job.target ?? '');
    const reminder = type === 'request.reminder' ? Number(job.payload?.reminder) : undefined;
    const approval =
      type === 'request.approval_added' && typeof job.payload?.by === 'string' ? approvalBy(record, job.payload.by) : undefined;
    const attempt = (signal: AbortSignal): Promise<void | 'gone'> => {
      if (!notifier) throw new HitlError('notify_failed', `no notifier named '${String(job.target)}' on this manager`);
      if (notifier.deliver) {
        return notifier.deliver(
          {
            id: job.id,
            type,
            record,
            attempt: job.attempts,
            ...(reminder === undefined ? {} : { reminder }),
            ...(approval === undefined ? {} : { approval }),
          },
          { signal },
        );
      }
      return notifier.notify(record, { signal });
    };
    let started: Promise<void | 'gone'>;
    try {
      started = Promise.resolve(attempt(controller.signal));
    } catch (error) {
      started = Promise.reject(error);
    }
    return (async () => {
      let outcome: void | 'gone';
      try {
        outcome = await bounded(() => started);
      } catch (error) {
        if (isClosed()) return;
        const failure = HitlError.is(error, 'notify_failed')
          ? error
          : new HitlError(
              'notify_failed',
              `notifier '${String(job.target)}' failed for request '${record.request.id}': ${errorMessage(error)}`,
              {
                cause: error,
              },
            );
        emit({ type: 'notify-failed', record, notifier: String(job.target), error: failure });
        reportError(failure, record);
        // `notify` keeps its own retries (and its own failure is final); only `deliver` is retried here.
        if (notifier && !notifier.deliver) await outbox.dead(job.id, owner, failure.message);
        else await fail(job, failure, record);
        return;
      }
      if (outcome === 'gone') {
        await outbox.dead(job.id, owner, `notifier '${String(job.target)}' says its receiver is gone (410)`);
        return;
      }
      const next =
        type === 'request.reminder' && job.payload
          ? plan.nextReminder({ requestId: record.request.id, target: String(job.target), payload: job.payload }, record)
          : undefined;
      await outbox.complete(job.id, owner, next ? { jobs: [next] } : undefined);
      if (next) wake();
    })();
  };

  /** A change made without a manager (a sweeper's expiry): write its follow-ups, claimed by us, and run them. */
  const transition = async (job: OutboxJob): Promise<void> => {
    const record = job.requestId === undefined ? undefined : await store.get(job.requestId);
    const status = record?.status as RequestStatus | undefined;
    const jobs = record && status !== 'pending' && status !== undefined ? plan.forDecision(record.request.id, status, now(), claim) : [];
    if ((await outbox.complete(job.id, owner, { jobs })) && record) run(jobs, record);
  };

  const handle = (job: OutboxJob, record?: ApprovalRecord): Promise<void> => {
    const withRecord = (use: (found: ApprovalRecord | undefined) => Promise<void>) =>
      record !== undefined || job.requestId === undefined ? use(record) : store.get(job.requestId).then(use);
    if (job.kind === 'hook') return withRecord((found) => runHook(job, found));
    if (job.kind === 'notify') return withRecord((found) => send(job, found));
    if (job.kind === 'transition') return transition(job);
    return outbox.dead(job.id, owner, `unknown job kind '${job.kind}'`).then(() => undefined);
  };

  const claim = (): Claim => ({ owner, leaseUntil: iso(now() + leaseMs) });

  /**
   * The requests of a claimed batch's notifications and hooks in one read when the store has
   * `getMany` (a job whose request is not found reads it again on its own).
   */
  const readRecords = async (jobs: readonly OutboxJob[]): Promise<Map<string, ApprovalRecord>> => {
    const found = new Map<string, ApprovalRecord>();
    if (typeof store.getMany !== 'function') return found;
    const ids = [
      ...new Set(jobs.filter((job) => job.kind !== 'transition' && job.requestId !== undefined).map((job) => job.requestId as string)),
    ];
    if (ids.length === 0) return found;
    try {
      for (const record of await store.getMany(ids)) found.set(record.request.id, record);
    } catch (error) {
      // Each job reads its own request then, and fails on its own if the store is still down.
      if (!isClosed()) reportError(error);
    }
    return found;
  };

  const run = (jobs: readonly OutboxJobInput[], record: ApprovalRecord) => {
    let later = false;
    for (const input of jobs) {
      if (input.claim?.owner === owner) finishQuietly(handle(asClaimed(input), record));
      else later = true;
    }
    if (later) wake();
  };

  const arm = (atMs: number) => {
    if (isClosed() || atMs >= timerAt) return;
    if (timer !== undefined) scheduler.clearTimeout(timer);
    timerAt = atMs;
    timer = scheduler.setTimeout(
      () => {
        timer = undefined;
        timerAt = Number.POSITIVE_INFINITY;
        wake();
      },
      Math.min(Math.max(atMs - now(), 0), MAX_TIMER_DELAY),
    );
  };

  /** Resolves when `work` settles or, at the latest, after a lease: a job that hangs that long is another manager's by then (real time). */
  const atMostALease = async (work: Promise<unknown>): Promise<void> => {
    let cap: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([work, new Promise<void>((resolve) => (cap = setTimeout(resolve, leaseMs)).unref())]);
    clearTimeout(cap);
  };

  const drain = async (): Promise<void> => {
    // Two batches in flight at most: the next batch is claimed while this one is delivered.
    let previous: Promise<unknown> = Promise.resolve();
    for (let round = 0; round < MAX_ROUNDS && !isClosed(); round++) {
      again = false;
      const jobs = await outbox.claim({ owner, limit: batchSize, leaseMs, now: iso(now()), ...jobFilter });
      const records = await readRecords(jobs);
      const handled = Promise.all(
        jobs.map((job) =>
          handle(job, records.get(job.requestId ?? '')).catch((error: unknown) => (isClosed() ? undefined : reportError(error))),
        ),
      );
      await atMostALease(previous);
      previous = handled;
      if (jobs.length < batchSize && !again) break;
    }
    await atMostALease(previous);
    if (isClosed()) return;
    const next = await outbox.nextDue({ exceptOwner: owner, ...jobFilter });
    const poll = outbox.pollIntervalMs;
    let at = next === undefined ? Number.POSITIVE_INFINITY : Date.parse(next);
    if (poll !== undefined && Number.isFinite(poll)) at = Math.min(at, now() + poll);
    if (!Number.isFinite(at)) return;
    // Due already (the clock moved while this round ran): another round now, a few times at most.
    if (at <= now() && catchUps < MAX_CATCH_UPS) {
      catchUps += 1;
      again = true;
      return;
    }
    catchUps = 0;
    arm(at);
  };

  const wake = () => {
    if (isClosed()) return;
    if (draining) {
      again = true;
      return;
    }
    draining = drain()
      .catch((error: unknown) => {
        if (isClosed()) return;
        reportError(error);
        const poll = outbox.pollIntervalMs ?? 1_000;
        arm(now() + poll);
      })
      .finally(() => {
        draining = undefined;
        if (again) wake();
      });
  };

  return {
    maxAttempts,
    claim,
    run,
    wake,
    close() {
      controller.abort(new HitlError('cancelled', 'the manager is closed'));
      if (timer !== undefined) scheduler.clearTimeout(timer);
      timer = undefined;
    },
  };
}
