/** The memory store's outbox: the same claim, lease and state rules as the PostgreSQL one, in one process. */
import { HitlError } from '../hitl-error.js';
import { invalidInput } from '../validation.js';
import { checkJobInputs, matchesJobFilter, normalizeClaim, normalizeNextDue, normalizeOutboxQuery } from './job-validation.js';
import type { OutboxJob, OutboxJobInput, OutboxListResult, OutboxStore } from './types.js';

/** Finished jobs kept for `list`; the oldest finished ones are forgotten first. */
const FINISHED_LIMIT = 10_000;
const cursorPattern = /^o([0-9]{1,15})$/;

interface Slot {
  seq: number;
  job: OutboxJob;
}

export interface MemoryOutbox extends OutboxStore {
  /** Writes jobs (ignoring ids that exist); called by the store inside its create and decide. */
  write(jobs: readonly OutboxJobInput[], nowIso: string): void;
}

/** Creates the outbox of a memory store. `ensureOpen` throws when the store is closed. */
export function createMemoryOutbox(ensureOpen: () => void): MemoryOutbox {
  const slots = new Map<string, Slot>();
  let sequence = 0;
  let finished = 0;
  const copy = (job: OutboxJob): OutboxJob => structuredClone(job);

  const write = (jobs: readonly OutboxJobInput[], nowIso: string) => {
    for (const input of jobs) {
      if (slots.has(input.id)) continue;
      const job: OutboxJob = {
        id: input.id,
        kind: input.kind,
        topic: input.topic,
        state: input.claim ? 'claimed' : 'pending',
        attempts: input.claim ? 1 : 0,
        maxAttempts: input.maxAttempts,
        dueAt: input.claim ? input.claim.leaseUntil : input.dueAt,
        createdAt: nowIso,
        updatedAt: nowIso,
      };
      if (input.requestId !== undefined) job.requestId = input.requestId;
      if (input.target !== undefined) job.target = input.target;
      if (input.payload !== undefined) job.payload = structuredClone(input.payload);
      if (input.claim) job.owner = input.claim.owner;
      slots.set(job.id, { seq: ++sequence, job });
    }
  };

  /** The job if `owner` holds its claim. */
  const held = (id: string, owner: string): OutboxJob | undefined => {
    ensureOpen();
    const job = slots.get(id)?.job;
    return job?.state === 'claimed' && job.owner === owner ? job : undefined;
  };

  const finish = (job: OutboxJob, state: 'done' | 'dead') => {
    job.state = state;
    job.updatedAt = new Date().toISOString();
    finished += 1;
    if (finished <= FINISHED_LIMIT) return;
    for (const [id, slot] of slots) {
      if (slot.job.state === 'done') {
        slots.delete(id);
        finished -= 1;
        break;
      }
    }
  };

  return {
    write,
    async claim(options) {
      const { owner, limit, leaseMs, now, ...filter } = normalizeClaim(options);
      ensureOpen();
      const nowMs = Date.parse(now);
      const due = [...slots.values()]
        .filter(
          ({ job }) =>
            (job.state === 'pending' || job.state === 'claimed') && Date.parse(job.dueAt) <= nowMs && matchesJobFilter(job, filter),
        )
        .sort((a, b) => Date.parse(a.job.dueAt) - Date.parse(b.job.dueAt) || a.seq - b.seq)
        .slice(0, limit);
      const leaseUntil = new Date(nowMs + leaseMs).toISOString();
      return due.map(({ job }) => {
        job.state = 'claimed';
        job.owner = owner;
        job.attempts += 1;
        job.dueAt = leaseUntil;
        job.updatedAt = now;
        return copy(job);
      });
    },
    async complete(id, owner, options = {}) {
      const jobs = options.jobs ?? [];
      checkJobInputs(jobs);
      const job = held(id, owner);
      if (!job) return false;
      finish(job, 'done');
      write(jobs, job.updatedAt);
      return true;
    },
    async reschedule(id, owner, { dueAt, error }) {
      if (typeof dueAt !== 'string' || Number.isNaN(Date.parse(dueAt))) throw invalidInput('dueAt', dueAt, 'must be an ISO 8601 date-time');
      const job = held(id, owner);
      if (!job) return false;
      job.state = 'pending';
      job.dueAt = new Date(Date.parse(dueAt)).toISOString();
      job.lastError = String(error).slice(0, 2_000);
      job.updatedAt = new Date().toISOString();
      return true;
    },
    async dead(id, owner, error) {
      const job = held(id, owner);
      if (!job) return false;
      job.lastError = String(error).slice(0, 2_000);
      finish(job, 'dead');
      return true;
    },
    async list(query) {
      const { state, requestId, limit, cursor } = normalizeOutboxQuery(query);
      ensureOpen();
      let before = Number.POSITIVE_INFINITY;
      if (cursor !== undefined) {
        const match = cursorPattern.exec(cursor);
        if (!match) throw invalidInput('cursor', cursor, 'is not a cursor returned by listDeliveries');
        before = Number(match[1]);
      }
      const matching = [...slots.values()]
        .filter(
          (slot) =>
            slot.seq < before &&
            (state === undefined || slot.job.state === state) &&
            (requestId === undefined || slot.job.requestId === requestId),
        )
        .sort((a, b) => b.seq - a.seq);
      const page = matching.slice(0, limit);
      const result: OutboxListResult = { items: page.map((slot) => copy(slot.job)) };
      const last = page.at(-1);
      if (matching.length > limit && last) result.nextCursor = `o${last.seq}`;
      return result;
    },
    async redeliver(id, dueAt) {
      ensureOpen();
      const slot = slots.get(id);
      if (!slot) throw new HitlError('not_found', `delivery '${id}' does not exist`, { details: { field: 'id', value: id } });
      const { job } = slot;
      if (job.state === 'pending' || job.state === 'claimed')
        throw new HitlError('conflict', `delivery '${id}' is ${job.state}, not finished`);
      finished -= 1;
      job.state = 'pending';
      job.attempts = 0;
      job.dueAt = new Date(Date.parse(dueAt)).toISOString();
      delete job.owner;
      job.updatedAt = new Date().toISOString();
      return copy(job);
    },
    async nextDue(options) {
      const { exceptOwner, ...filter } = normalizeNextDue(options);
      ensureOpen();
      let earliest: number | undefined;
      for (const { job } of slots.values()) {
        if ((job.state !== 'pending' && job.state !== 'claimed') || !matchesJobFilter(job, filter)) continue;
        if (job.state === 'claimed' && exceptOwner !== undefined && job.owner === exceptOwner) continue;
        const at = Date.parse(job.dueAt);
        if (earliest === undefined || at < earliest) earliest = at;
      }
      return earliest === undefined ? undefined : new Date(earliest).toISOString();
    },
  };
}
