/**
 * The manager's side effects through its store's outbox: the jobs each write carries, the worker
 * that runs them, and the delivery listing. Absent when the store has no outbox (the manager then
 * notifies and runs hooks in process, as it always did).
 */
import type { RequestStatus } from '../constants.js';
import { HitlError } from '../hitl-error.js';
import type {
  AddApprovalInput,
  ApprovalRecord,
  ApprovalStore,
  CreateResult,
  DecidePatch,
  ManagerEvent,
  ManagerHooks,
  Notifier,
  Scheduler,
  ApprovalPolicy,
} from '../types.js';
import { invalidInput } from '../validation.js';
import { createJobPlan } from './job-plan.js';
import { createOutboxWorker, DEFAULT_MAX_ATTEMPTS, type OutboxWorker } from './outbox-worker.js';
import { normalizeOutboxQuery } from './job-validation.js';
import type { OutboxJob, OutboxJobInput, OutboxListQuery, OutboxListResult, OutboxOptions } from './types.js';
import type { DecideManyItem, Grant } from '../grants/grant-types.js';

/** How many writes with lost replies a manager remembers the jobs of; the oldest is forgotten first (its lease still runs out). */
const UNACKNOWLEDGED_LIMIT = 10_000;

export interface ManagerOutboxOptions {
  store: ApprovalStore;
  notifiers: readonly Notifier[];
  hooks: ManagerHooks;
  options: OutboxOptions | undefined;
  policyNamed(name: string): ApprovalPolicy | undefined;
  scheduler: Scheduler;
  now: () => number;
  emit(event: ManagerEvent): void;
  reportError(error: unknown, record?: ApprovalRecord): void;
  isClosed(): boolean;
}

export interface ManagerOutbox {
  /** `store.create` with the record's jobs; when created, calls `created` then runs the jobs this manager handles at once. */
  create(record: ApprovalRecord, created: (record: ApprovalRecord) => void): Promise<CreateResult>;
  /** `store.decide` from pending with the decision's jobs; runs them. */
  decide(id: string, patch: DecidePatch): Promise<ApprovalRecord>;
  /**
   * Four eyes: `store.addApproval` with the decision's jobs, which the store writes only when this
   * approval completes the quorum, and the `request.approval_added` jobs, which it writes only when
   * the request stays pending; runs the ones written.
   */
  addApproval(id: string, input: AddApprovalInput): Promise<ApprovalRecord>;
  /** `store.decideMany` (all or nothing) with each decision's jobs in the same write; runs them. */
  decideMany(items: DecideManyItem[], options?: { grant?: Grant }): Promise<ApprovalRecord[]>;
  /**
   * A write of this manager whose reply was lost turned out to be stored (a retry found it, or the
   * change feed brought it): its jobs, written claimed by this manager, run now instead of when
   * their lease ends.
   */
  recover(record: ApprovalRecord, write: 'create' | 'decide'): void;
  /** Looks for due jobs now (after a redelivery). */
  wake(): void;
  close(): void;
}

/** The outbox side of a manager, or undefined when its store has none. */
export function createManagerOutbox({
  store,
  notifiers,
  hooks,
  options = {},
  policyNamed,
  scheduler,
  now,
  emit,
  reportError,
  isClosed,
}: ManagerOutboxOptions): ManagerOutbox | undefined {
  const outbox = store.outbox;
  if (!outbox) return undefined;
  const plan = createJobPlan({ notifiers, hooks, policyNamed, maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
  const worker: OutboxWorker = createOutboxWorker({
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
  });
  // Jobs left by an earlier run (a restart) or by other instances are picked up at once.
  worker.wake();
  /** The jobs of writes that failed with `store_unavailable` (perhaps stored, the reply lost), by write. */
  const unacknowledged = new Map<string, OutboxJobInput[]>();
  const keyOf = (write: 'create' | 'decide', id: string, decisionId: string | undefined) => `${write}:${id}:${decisionId ?? ''}`;
  const remember = (key: string, jobs: OutboxJobInput[], error: unknown) => {
    if (!HitlError.is(error, 'store_unavailable') || jobs.length === 0) return;
    unacknowledged.set(key, jobs);
    if (unacknowledged.size > UNACKNOWLEDGED_LIMIT) unacknowledged.delete(unacknowledged.keys().next().value as string);
  };
  return {
    async create(record, created) {
      const jobs = plan.forCreate(record, now(), worker.claim);
      const key = keyOf('create', record.request.id, undefined);
      if (unacknowledged.size > 0) unacknowledged.delete(key);
      let result: CreateResult;
      try {
        result = jobs.length > 0 ? await store.create(record, { jobs }) : await store.create(record);
      } catch (error) {
        remember(key, jobs, error);
        throw error;
      }
      if (result.created) {
        created(result.record);
        worker.run(jobs, result.record);
      }
      return result;
    },
    async decide(id, patch) {
      const jobs = plan.forDecision(id, patch.status as RequestStatus, now(), worker.claim);
      const key = keyOf('decide', id, patch.response?.decisionId);
      if (unacknowledged.size > 0) unacknowledged.delete(key);
      let record: ApprovalRecord;
      try {
        record = jobs.length > 0 ? await store.decide(id, 'pending', patch, { jobs }) : await store.decide(id, 'pending', patch);
      } catch (error) {
        remember(key, jobs, error);
        throw error;
      }
      worker.run(jobs, record);
      return record;
    },
    async addApproval(id, input) {
      const addApproval = store.addApproval;
      if (!addApproval)
        throw new HitlError('store_unavailable', `request '${id}' needs several approvals but the store has no addApproval()`);
      const jobs = plan.forDecision(id, 'approved', now(), worker.claim);
      const partialJobs = plan.forApproval(id, input.approval, now(), worker.claim);
      const key = keyOf('decide', id, input.response.decisionId);
      if (unacknowledged.size > 0) unacknowledged.delete(key);
      const options = {
        ...(jobs.length > 0 ? { jobs } : {}),
        ...(partialJobs.length > 0 ? { partialJobs } : {}),
      };
      let record: ApprovalRecord;
      try {
        record =
          jobs.length + partialJobs.length > 0
            ? await addApproval.call(store, id, input, options)
            : await addApproval.call(store, id, input);
      } catch (error) {
        remember(key, jobs, error);
        throw error;
      }
      // The store wrote the decision's jobs or the partial approval's, never both.
      if (record.status === 'approved') worker.run(jobs, record);
      else if (record.status === 'pending') worker.run(partialJobs, record);
      return record;
    },
    async decideMany(items, options) {
      const decideMany = store.decideMany;
      if (!decideMany)
        throw new HitlError('invalid_input', "the manager's store cannot decide requests together (it has no decideMany)", {
          details: { field: 'store' },
        });
      // An approval item's jobs are those of the approval that completes the quorum; the store writes them only then,
      // and its partial jobs (another approver is needed) only when the request stays pending.
      const statusOf = (item: DecideManyItem): RequestStatus => (item.approval === undefined ? item.patch.status : 'approved');
      const planned = items.map(
        (item) =>
          ({
            ...item,
            jobs: [...(item.jobs ?? []), ...plan.forDecision(item.id, statusOf(item), now(), worker.claim)],
            ...(item.approval === undefined
              ? {}
              : { partialJobs: [...(item.partialJobs ?? []), ...plan.forApproval(item.id, item.approval.approval, now(), worker.claim)] }),
          }) as DecideManyItem & { jobs: OutboxJobInput[]; partialJobs?: OutboxJobInput[] },
      );
      const keys = planned.map((item) =>
        keyOf('decide', item.id, (item.approval === undefined ? item.patch.response : item.approval.response)?.decisionId),
      );
      for (const key of keys) unacknowledged.delete(key);
      let records: ApprovalRecord[];
      try {
        records = await decideMany.call(store, planned, options);
      } catch (error) {
        planned.forEach((item, index) => remember(keys[index] as string, item.jobs, error));
        throw error;
      }
      records.forEach((record, index) => {
        if (record.status !== 'pending') worker.run(planned[index]?.jobs ?? [], record);
        else worker.run(planned[index]?.partialJobs ?? [], record);
      });
      return records;
    },
    recover(record, write) {
      if (unacknowledged.size === 0) return;
      const key = keyOf(write, record.request.id, write === 'decide' ? record.response?.decisionId : undefined);
      const jobs = unacknowledged.get(key);
      if (!jobs) return;
      if (unacknowledged.size > 0) unacknowledged.delete(key);
      worker.run(jobs, record);
    },
    wake() {
      worker.wake();
    },
    close() {
      worker.close();
    },
  };
}

function noOutbox(): HitlError {
  return new HitlError(
    'invalid_input',
    "the manager's store has no outbox: deliveries are listed only with a store that has one (the memory store, @hitl/store-postgres)",
    {
      details: { field: 'store' },
    },
  );
}

/** The manager's `listDeliveries` and `redeliver`: the store's outbox jobs, and a finished one due again now. */
export function deliveryMethods({
  store,
  now,
  ensureOpen,
  wake,
}: {
  store: ApprovalStore;
  now: () => number;
  ensureOpen(): void;
  wake(): void;
}) {
  return {
    async listDeliveries(query?: OutboxListQuery): Promise<OutboxListResult> {
      ensureOpen();
      const normalized = normalizeOutboxQuery(query);
      if (!store.outbox) throw noOutbox();
      return store.outbox.list(normalized);
    },
    async redeliver(id: string): Promise<OutboxJob> {
      ensureOpen();
      if (typeof id !== 'string' || id === '' || id.length > 512)
        throw invalidInput('id', id, 'must be a delivery id (a non-empty string of at most 512 characters)');
      if (!store.outbox) throw noOutbox();
      const job = await store.outbox.redeliver(id, new Date(now()).toISOString());
      wake();
      return job;
    },
  };
}
