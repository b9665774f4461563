/** The resume loop durable adapters run: hears decisions on the store's change feed, scans for missed ones, hands each decided, marked request to the adapter, and renews the claim of a long run. */
import { randomUUID } from 'node:crypto';
import { errorMessage } from './internal.js';
import { isResumable, resumeClaimsUnsupported } from './resume-claim.js';
import type { ResumeClaim, Resumer } from './resume-claim.js';
import type { ApprovalRecord, ApprovalStore, Logger, Scheduler } from './types.js';

/** What an adapter's handler did with a decided request. */
export type ResumeStep =
  /** Resumed, or found nothing left to resume (its claim is completed, or someone else's is). */
  | 'done'
  /** The run has not reached its pause yet (the decision was quicker than the pause's checkpoint): look again shortly. */
  | 'later';

/** How many times a resume whose run throws is tried (one claim each, a lease apart) before it is given up and completed. */
export const MAX_RESUME_ATTEMPTS = 3;

/** Claims bound to one resumer (its owner id and lease). */
export interface ResumeClaims {
  readonly owner: string;
  claim(requestId: string): Promise<ResumeClaim | undefined>;
  complete(requestId: string): Promise<boolean>;
  /** Claims and completes each id at once (requests a resume settled together with another one). Failures are ignored. */
  settle(requestIds: readonly string[]): Promise<void>;
  /**
   * Runs the resume under a held claim: completes it (and settles `others`) when `resume` returns;
   * when it throws, completes it anyway on the last of {@link MAX_RESUME_ATTEMPTS} attempts (the
   * failure is logged: a run that always fails is not retried forever), else rethrows so the claim
   * runs out and is tried again.
   */
  runClaimed<T>(claim: ResumeClaim, others: readonly string[], resume: () => Promise<T>): Promise<T | undefined>;
}

export interface ResumeLoopOptions {
  store: ApprovalStore;
  /** The `metadata.resumeWith` value of the requests this loop resumes. */
  resumeWith: string;
  /** Resumes the run a decided request paused, claiming through `claims`. Called at most once at a time per request. */
  handle(record: ApprovalRecord, claims: ResumeClaims): Promise<ResumeStep>;
  owner?: string;
  leaseMs?: number;
  /** How many requests are handled at once. Default 8. */
  concurrency?: number;
  /** Delays between looks at a run that has not paused yet. Default 10, 20, 40 … 2 560 ms (about 5 s in all). */
  retryDelaysMs?: readonly number[];
  logger?: Logger;
  scheduler?: Scheduler;
}

/** The loop is a {@link Resumer}. */
export type ResumeLoop = Resumer;

const DEFAULT_RETRY_DELAYS = [10, 20, 40, 80, 160, 320, 640, 1_280, 2_560];

function hasClaims(
  store: ApprovalStore,
): store is ApprovalStore & Required<Pick<ApprovalStore, 'claimResume' | 'completeResume' | 'listUnresumed'>> {
  return typeof store.claimResume === 'function' && typeof store.completeResume === 'function' && typeof store.listUnresumed === 'function';
}

/**
 * Creates the loop. Decisions arrive on the store's change feed (every instance of a PostgreSQL
 * store hears every decision through LISTEN/NOTIFY); at start, and then every `leaseMs`, a catch-up
 * scan (`listUnresumed`) finds decisions made while no resumer listened and claims whose holder
 * died (their lease ran out). Exactly-once comes from the claim, not from the loop: any number of
 * loops on any number of instances may hear the same decision.
 */
export function createResumeLoop(options: ResumeLoopOptions): ResumeLoop {
  const { store, resumeWith, handle, leaseMs = 60_000, concurrency = 8, retryDelaysMs = DEFAULT_RETRY_DELAYS, logger = console } = options;
  if (!hasClaims(store)) throw resumeClaimsUnsupported('options.store');
  const owner = options.owner ?? `resumer-${randomUUID()}`;
  const scheduler: Scheduler = options.scheduler ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };

  /**
   * While a resumed run outlasts a third of the lease, renews the claim (stores with `renewResume`),
   * so a long tool call is not taken over and run again by another resumer. Losing the claim is
   * logged: the run cannot be stopped, and the tool's own idempotency then decides.
   */
  const keepRenewing = (requestId: string): { stop(): void } => {
    let timer: unknown;
    let stopped = false;
    const renew = store.renewResume?.bind(store);
    const arm = () => {
      if (stopped || renew === undefined) return;
      timer = scheduler.setTimeout(
        () => {
          timer = undefined;
          renew(requestId, owner, leaseMs).then(
            (held) => {
              if (stopped) return;
              if (held) arm();
              else
                logger.warn(
                  `hitl: the resume of request '${requestId}' lost its claim while running (its lease ran out before it was renewed)`,
                );
            },
            (error: unknown) => {
              if (stopped) return;
              logger.warn(`hitl: could not renew the resume claim of request '${requestId}'; trying again`, errorMessage(error));
              arm();
            },
          );
        },
        Math.max(1, Math.floor(leaseMs / 3)),
      );
    };
    arm();
    return {
      stop() {
        stopped = true;
        if (timer !== undefined) scheduler.clearTimeout(timer);
        timer = undefined;
      },
    };
  };

  const claims: ResumeClaims = {
    owner,
    async runClaimed(claim, others, resume) {
      let result: Awaited<ReturnType<typeof resume>>;
      const renewal = keepRenewing(claim.requestId);
      try {
        result = await resume();
      } catch (error) {
        renewal.stop();
        if (claim.attempt < MAX_RESUME_ATTEMPTS) throw error;
        logger.error(
          `hitl: resuming the run of request '${claim.requestId}' failed ${claim.attempt} times; it is given up`,
          errorMessage(error),
        );
        await store.completeResume(claim.requestId, owner);
        await claims.settle(others);
        return undefined;
      }
      renewal.stop();
      if (!(await store.completeResume(claim.requestId, owner))) {
        logger.warn(`hitl: the resume of request '${claim.requestId}' finished after its claim's lease ran out (raise leaseMs)`);
      }
      await claims.settle(others);
      return result;
    },
    claim: (requestId) => store.claimResume(requestId, owner, leaseMs),
    complete: (requestId) => store.completeResume(requestId, owner),
    async settle(requestIds) {
      for (const requestId of requestIds) {
        try {
          if (await store.claimResume(requestId, owner, leaseMs)) await store.completeResume(requestId, owner);
        } catch {
          // The catch-up scan finds it again; settling it then finds nothing to resume.
        }
      }
    },
  };

  let closed = false;
  let unsubscribe: (() => void) | undefined;
  const queue: ApprovalRecord[] = [];
  const queued = new Set<string>();
  const running = new Map<string, Promise<ResumeStep>>();
  const timers = new Set<unknown>();
  let idleWaiters: (() => void)[] = [];

  const later = (delayMs: number, action: () => void) => {
    if (closed) return;
    const timer = scheduler.setTimeout(() => {
      timers.delete(timer);
      if (!closed) action();
    }, delayMs);
    timers.add(timer);
  };

  const settleIdle = () => {
    if (queue.length > 0 || running.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const run = (record: ApprovalRecord, attempt: number): Promise<ResumeStep> => {
    const id = record.request.id;
    const task = (async (): Promise<ResumeStep> => {
      try {
        return await handle(record, claims);
      } catch (error) {
        logger.error(
          `hitl: resuming the run of request '${id}' failed; it is retried once its claim's lease runs out`,
          errorMessage(error),
        );
        later(leaseMs, () => enqueue(record));
        return 'done';
      }
    })();
    running.set(id, task);
    void task.then((step) => {
      running.delete(id);
      if (step === 'later') {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined)
          logger.warn(`hitl: request '${id}' is decided but its run never paused on it; the catch-up scan looks again`);
        else later(delay, () => enqueueAttempt(record, attempt + 1));
      }
      pump();
      settleIdle();
    });
    return task;
  };

  const attempts = new Map<string, number>();
  const pump = () => {
    while (!closed && running.size < concurrency && queue.length > 0) {
      const record = queue.shift() as ApprovalRecord;
      queued.delete(record.request.id);
      if (running.has(record.request.id)) continue;
      const attempt = attempts.get(record.request.id) ?? 0;
      attempts.delete(record.request.id);
      void run(record, attempt);
    }
  };

  const enqueueAttempt = (record: ApprovalRecord, attempt: number) => {
    const id = record.request.id;
    if (closed || queued.has(id) || running.has(id)) return;
    queued.add(id);
    attempts.set(id, attempt);
    queue.push(record);
    pump();
  };
  const enqueue = (record: ApprovalRecord) => enqueueAttempt(record, 0);

  const scan = async () => {
    let cursor: string | undefined;
    for (let page = 0; page < 1_000 && !closed; page++) {
      const result = await store.listUnresumed(cursor === undefined ? { resumeWith, limit: 200 } : { resumeWith, limit: 200, cursor });
      for (const record of result.items) enqueue(record);
      cursor = result.nextCursor;
      if (cursor === undefined) return;
    }
  };

  const scanPeriodically = () =>
    later(leaseMs, () => {
      scan()
        .catch((error: unknown) => logger.warn('hitl: the resume catch-up scan failed; it runs again later', errorMessage(error)))
        .finally(() => {
          if (!closed) scanPeriodically();
        });
    });

  return {
    owner,
    async start() {
      if (closed || unsubscribe) return;
      unsubscribe = store.subscribe((change) => {
        const { record } = change;
        if (record.status !== 'pending' && isResumable(record, resumeWith)) enqueue(record);
      });
      await scan();
      scanPeriodically();
    },
    async resume(requestId) {
      const record = await store.get(requestId);
      if (!record || record.status === 'pending' || !isResumable(record, resumeWith)) return 'not_resumable';
      return running.get(requestId) ?? run(record, retryDelaysMs.length);
    },
    idle() {
      if (queue.length === 0 && running.size === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      unsubscribe?.();
      for (const timer of timers) scheduler.clearTimeout(timer);
      timers.clear();
      queue.length = 0;
      queued.clear();
      await Promise.allSettled([...running.values()]);
      settleIdle();
    },
  };
}
