/**
 * The SQL of the store's outbox table (`<table>_outbox`, migration 5): jobs written in the same
 * statement as the change that causes them, claimed with `FOR UPDATE SKIP LOCKED` under a lease.
 */
import { statement, type Migration, type Statement } from './sql.js';

/** Every column a job is built from, as text (pg's process-wide type parsers cannot change them). */
const JOB_COLUMNS = [
  'id',
  'seq::text AS seq',
  'kind',
  'request_id',
  'topic',
  'target',
  'payload::text AS payload',
  'state',
  'attempts::text AS attempts',
  'max_attempts::text AS max_attempts',
  'floor(extract(epoch FROM due_at) * 1000)::bigint::text AS due_ms',
  'owner',
  'last_error',
  'floor(extract(epoch FROM created_at) * 1000)::bigint::text AS created_ms',
  'floor(extract(epoch FROM updated_at) * 1000)::bigint::text AS updated_ms',
].join(', ');

/** How many claims a job a sweeper writes gets. */
export const TRANSITION_MAX_ATTEMPTS = 8;

export interface OutboxSql {
  migration: Migration;
  /**
   * Wraps a record-writing statement so the jobs in parameter `$jobsParameter` (a JSON array) are
   * written with it, only if it wrote a row (and, with `when`, a row matching that SQL condition).
   */
  withJobs(written: Statement, jobsParameter: number, when?: string): Statement;
  /**
   * {@link withJobs} with several job lists, each in its own parameter and written only if the
   * statement wrote a row matching its condition (four eyes: the decision's jobs when the approval
   * approved the request, the partial approval's when it stayed pending).
   */
  withJobGroups(written: Statement, groups: readonly { parameter: number; when: string }[]): Statement;
  /** Wraps the sweep so each request it expires gets a `transition` job. */
  sweepWithTransitions(sweep: Statement): Statement;
  /** Writes the jobs in `$1` (a JSON array), inside a transaction that made the change causing them. */
  insertJobs: Statement;
  claim: Statement;
  complete: Statement;
  /** Completes many jobs of one owner without follow-ups: `$1` the ids, `$2` the owner. */
  completeMany: Statement;
  reschedule: Statement;
  dead: Statement;
  list: Statement;
  redeliver: Statement;
  exists: Statement;
  nextDue: Statement;
  /** Of the `$2` oldest done jobs, deletes those finished more than `$1` ms ago (by the database clock). */
  purgeDone: Statement;
}

export function buildOutboxSql(schema: string, table: string): OutboxSql {
  const outbox = `"${schema}"."${table}_outbox"`;
  const index = (suffix: string) => `"${table}_outbox_${suffix}"`;
  const insertJobs = (parameter: string, condition: string) => `INSERT INTO ${outbox}
  (id, kind, request_id, topic, target, payload, state, attempts, max_attempts, due_at, owner)
SELECT j.id, j.kind, j.request_id, j.topic, j.target, j.payload,
  CASE WHEN j.owner IS NULL THEN 'pending' ELSE 'claimed' END, CASE WHEN j.owner IS NULL THEN 0 ELSE 1 END,
  j.max_attempts, j.due_at, j.owner
FROM jsonb_to_recordset(${parameter}::jsonb) AS j(id text, kind text, request_id text, topic text, target text, payload jsonb,
  max_attempts integer, due_at timestamptz, owner text)
WHERE ${condition}
ON CONFLICT (id) DO NOTHING`;

  return {
    migration: {
      version: 5,
      sql: `
CREATE TABLE IF NOT EXISTS ${outbox} (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL,
  request_id text,
  topic text NOT NULL,
  target text,
  payload jsonb,
  state text NOT NULL CONSTRAINT ${index('state_check')} CHECK (state IN ('pending', 'claimed', 'done', 'dead')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  due_at timestamptz NOT NULL,
  owner text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS ${index('seq_idx')} ON ${outbox} (seq);
CREATE INDEX IF NOT EXISTS ${index('due_idx')} ON ${outbox} (due_at) WHERE state IN ('pending', 'claimed');
CREATE INDEX IF NOT EXISTS ${index('state_seq_idx')} ON ${outbox} (state, seq);
CREATE INDEX IF NOT EXISTS ${index('request_idx')} ON ${outbox} (request_id);
COMMENT ON TABLE ${outbox} IS 'hitl outbox jobs (@hitl/store-postgres); change rows only through the store';`,
    },
    withJobs(written, jobsParameter, when = 'true') {
      return statement(`WITH written AS (${written.text}),
jobs AS (${insertJobs(`$${jobsParameter}`, `EXISTS (SELECT 1 FROM written WHERE ${when})`)})
SELECT * FROM written`);
    },
    withJobGroups(written, groups) {
      const inserts = groups.map(
        ({ parameter, when }, index) => `jobs_${index} AS (${insertJobs(`$${parameter}`, `EXISTS (SELECT 1 FROM written WHERE ${when})`)})`,
      );
      return statement(`WITH written AS (${written.text}),
${inserts.join(',\n')}
SELECT * FROM written`);
    },
    insertJobs: statement(insertJobs('$1', 'true')),
    sweepWithTransitions(sweep) {
      return statement(`WITH written AS (${sweep.text}),
jobs AS (INSERT INTO ${outbox} (id, kind, request_id, topic, state, attempts, max_attempts, due_at)
  SELECT written.id || ':transition:expired', 'transition', written.id, 'request.expired', 'pending', 0, ${TRANSITION_MAX_ATTEMPTS}, now()
  FROM written
  ON CONFLICT (id) DO NOTHING)
SELECT * FROM written`);
    },
    claim: statement(`UPDATE ${outbox}
SET state = 'claimed', owner = $1, attempts = attempts + 1,
    due_at = $2::timestamptz + $3::double precision * interval '1 millisecond', updated_at = now()
WHERE id IN (
  SELECT id FROM ${outbox}
  WHERE state IN ('pending', 'claimed') AND due_at <= $2::timestamptz AND ($5::text[] IS NULL OR kind = ANY($5::text[]))
    AND ($6::text[] IS NULL OR target IS NULL OR target = ANY($6::text[]))
  ORDER BY due_at
  LIMIT $4
  FOR UPDATE SKIP LOCKED
)
RETURNING ${JOB_COLUMNS}`),
    complete: statement(`WITH finished AS (
  UPDATE ${outbox} SET state = 'done', updated_at = now() WHERE id = $1 AND owner = $2 AND state = 'claimed' RETURNING id
),
jobs AS (${insertJobs('$3', 'EXISTS (SELECT 1 FROM finished)')})
SELECT count(*)::text AS finished FROM finished`),
    completeMany: statement(`UPDATE ${outbox} SET state = 'done', updated_at = now()
WHERE id = ANY($1::text[]) AND owner = $2 AND state = 'claimed' RETURNING id`),
    reschedule: statement(`UPDATE ${outbox} SET state = 'pending', due_at = $3::timestamptz, last_error = $4, updated_at = now()
WHERE id = $1 AND owner = $2 AND state = 'claimed' RETURNING id`),
    dead: statement(`UPDATE ${outbox} SET state = 'dead', last_error = $3, updated_at = now()
WHERE id = $1 AND owner = $2 AND state = 'claimed' RETURNING id`),
    list: statement(`SELECT ${JOB_COLUMNS} FROM ${outbox}
WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR request_id = $2) AND ($3::bigint IS NULL OR seq < $3::bigint)
ORDER BY seq DESC LIMIT $4`),
    redeliver: statement(`UPDATE ${outbox} SET state = 'pending', attempts = 0, owner = NULL, due_at = $2::timestamptz, updated_at = now()
WHERE id = $1 AND state IN ('done', 'dead') RETURNING ${JOB_COLUMNS}`),
    exists: statement(`SELECT state FROM ${outbox} WHERE id = $1`),
    // Looks at the $2 oldest finished jobs only (the (state, seq) index), so a sweep reads at most
    // that many rows however many recent ones there are; those finished long enough ago go.
    purgeDone: statement(`DELETE FROM ${outbox} WHERE id IN (
  SELECT id FROM ${outbox} WHERE state = 'done' ORDER BY seq LIMIT $2
) AND state = 'done' AND updated_at < now() - $1::double precision * interval '1 millisecond'
RETURNING id`),
    nextDue: statement(`SELECT floor(extract(epoch FROM min(due_at)) * 1000)::bigint::text AS due_ms FROM ${outbox}
WHERE state IN ('pending', 'claimed') AND NOT (state = 'claimed' AND owner IS NOT DISTINCT FROM $1::text)
  AND ($2::text[] IS NULL OR kind = ANY($2::text[])) AND ($3::text[] IS NULL OR target IS NULL OR target = ANY($3::text[]))`),
  };
}
