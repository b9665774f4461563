/** The PostgreSQL store's outbox: claim, complete, reschedule, dead, list and redeliver on `<table>_outbox`, each one statement. */
import { HitlError } from '@hitl/core';
import type { OutboxJob, OutboxJobInput, OutboxListResult, OutboxStore } from '@hitl/core';
import { checkJobInputs, invalidInput, normalizeClaim, normalizeNextDue, normalizeOutboxQuery, requireInstant } from '@hitl/core/internal';
import type { OutboxSql } from './outbox-sql.js';
import type { StatementRunner } from './statement-runner.js';

interface JobRow {
  id: string;
  seq: string;
  kind: string;
  request_id: string | null;
  topic: string;
  target: string | null;
  payload: string | null;
  state: OutboxJob['state'];
  attempts: string;
  max_attempts: string;
  due_ms: string;
  owner: string | null;
  last_error: string | null;
  created_ms: string;
  updated_ms: string;
}

const cursorPattern = /^q(0|[1-9][0-9]{0,18})$/;
const MAX_ERROR_LENGTH = 2_000;
const iso = (ms: string) => new Date(Number(ms)).toISOString();

function rowToJob(row: JobRow): OutboxJob {
  const job: OutboxJob = {
    id: row.id,
    kind: row.kind,
    topic: row.topic,
    state: row.state,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    dueAt: iso(row.due_ms),
    createdAt: iso(row.created_ms),
    updatedAt: iso(row.updated_ms),
  };
  if (row.request_id !== null) job.requestId = row.request_id;
  if (row.target !== null) job.target = row.target;
  if (row.payload !== null) job.payload = JSON.parse(row.payload) as Record<string, unknown>;
  if (row.owner !== null) job.owner = row.owner;
  if (row.last_error !== null) job.lastError = row.last_error;
  return job;
}

/** The jobs as the JSON array parameter the outbox statements read (`jsonb_to_recordset`); checked first. */
export function jobsParameter(jobs: readonly OutboxJobInput[] | undefined): string {
  const list = jobs ?? [];
  checkJobInputs(list);
  return JSON.stringify(
    list.map((job) => ({
      id: job.id,
      kind: job.kind,
      request_id: job.requestId ?? null,
      topic: job.topic,
      target: job.target ?? null,
      payload: job.payload ?? null,
      max_attempts: job.maxAttempts,
      due_at: requireInstant('dueAt', job.claim ? job.claim.leaseUntil : job.dueAt),
      owner: job.claim?.owner ?? null,
    })),
  );
}

export interface PostgresOutboxOptions {
  sql: OutboxSql;
  run: StatementRunner['run'];
  ensureReady(): Promise<void>;
  pollIntervalMs: number;
}

/**
 * Coalesces the completes (without follow-up jobs) asked for in one turn of the event loop into one
 * statement per owner: a busy instance finishes its deliveries in one round trip instead of one each.
 */
function createCompleteBatcher(completeMany: (ids: string[], owner: string) => Promise<Set<string>>) {
  const waiting = new Map<string, Map<string, Array<{ resolve(done: boolean): void; reject(error: unknown): void }>>>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batches = [...waiting];
    waiting.clear();
    for (const [owner, byId] of batches) {
      completeMany([...byId.keys()], owner).then(
        (done) => {
          for (const [id, callers] of byId) for (const caller of callers) caller.resolve(done.has(id));
        },
        (error: unknown) => {
          for (const callers of byId.values()) for (const caller of callers) caller.reject(error);
        },
      );
    }
  };
  return (id: string, owner: string): Promise<boolean> =>
    new Promise<boolean>((resolve, reject) => {
      let byId = waiting.get(owner);
      if (!byId) waiting.set(owner, (byId = new Map()));
      const callers = byId.get(id) ?? [];
      callers.push({ resolve, reject });
      byId.set(id, callers);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

export function createPostgresOutbox({ sql, run, ensureReady, pollIntervalMs }: PostgresOutboxOptions): OutboxStore {
  const completeBatched = createCompleteBatcher(async (ids, owner) => {
    const rows = await run<{ id: string }>('complete outbox jobs', sql.completeMany, [ids, owner]);
    return new Set(rows.map((row) => row.id));
  });
  const errorText = (error: unknown) => String(error).slice(0, MAX_ERROR_LENGTH);
  const requireJobId = (id: unknown, owner?: unknown) => {
    if (typeof id !== 'string' || id === '') throw invalidInput('id', id, 'must be a non-empty string');
    if (owner !== undefined && (typeof owner !== 'string' || owner === ''))
      throw invalidInput('owner', owner, 'must be a non-empty string');
  };
  return {
    pollIntervalMs,
    async claim(options) {
      const { owner, limit, leaseMs, now, kinds, targets } = normalizeClaim(options);
      await ensureReady();
      const rows = await run<JobRow>('claim outbox jobs', sql.claim, [owner, now, leaseMs, limit, kinds ?? null, targets ?? null]);
      return rows.map(rowToJob);
    },
    async complete(id, owner, options = {}) {
      requireJobId(id, owner);
      if (options.jobs === undefined || options.jobs.length === 0) {
        await ensureReady();
        return completeBatched(id, owner);
      }
      const jobs = jobsParameter(options.jobs);
      await ensureReady();
      const [row] = await run<{ finished: string }>('complete an outbox job', sql.complete, [id, owner, jobs]);
      return row?.finished === '1';
    },
    async reschedule(id, owner, { dueAt, error }) {
      requireJobId(id, owner);
      const due = requireInstant('dueAt', dueAt);
      await ensureReady();
      return (await run('reschedule an outbox job', sql.reschedule, [id, owner, due, errorText(error)])).length === 1;
    },
    async dead(id, owner, error) {
      requireJobId(id, owner);
      await ensureReady();
      return (await run('mark an outbox job dead', sql.dead, [id, owner, errorText(error)])).length === 1;
    },
    async list(query) {
      const { state, requestId, limit, cursor } = normalizeOutboxQuery(query);
      let before: string | null = null;
      if (cursor !== undefined) {
        const match = cursorPattern.exec(cursor);
        if (!match) throw invalidInput('cursor', cursor, 'is not a cursor returned by listDeliveries');
        before = match[1] as string;
      }
      await ensureReady();
      const rows = await run<JobRow>('list outbox jobs', sql.list, [state ?? null, requestId ?? null, before, limit + 1]);
      const page = rows.slice(0, limit);
      const result: OutboxListResult = { items: page.map(rowToJob) };
      const last = page.at(-1);
      if (rows.length > limit && last) result.nextCursor = `q${last.seq}`;
      return result;
    },
    async redeliver(id, dueAt) {
      requireJobId(id);
      const due = requireInstant('dueAt', dueAt);
      await ensureReady();
      const [row] = await run<JobRow>('redeliver an outbox job', sql.redeliver, [id, due]);
      if (row) return rowToJob(row);
      const [current] = await run<{ state: string }>('read an outbox job', sql.exists, [id]);
      if (!current) throw new HitlError('not_found', `delivery '${id}' does not exist`, { details: { field: 'id', value: id } });
      throw new HitlError('conflict', `delivery '${id}' is ${current.state}, not finished`);
    },
    async nextDue(options) {
      const { exceptOwner, kinds, targets } = normalizeNextDue(options);
      await ensureReady();
      const [row] = await run<{ due_ms: string | null }>('read the next outbox job', sql.nextDue, [
        exceptOwner ?? null,
        kinds ?? null,
        targets ?? null,
      ]);
      return row?.due_ms == null ? undefined : iso(row.due_ms);
    },
  };
}
