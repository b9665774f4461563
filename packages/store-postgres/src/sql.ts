/**
 * The SQL of the PostgreSQL store: identifiers checked, statements and migrations built for one table.
 * Over 300 lines because buildSql is every statement and migration of the requests table, built together from one name.
 */
import { createHash } from 'node:crypto';
import { invalidInput } from '@hitl/core/internal';
import { addApprovalSql, APPROVAL_FIELDS, approvalInsertSql, approvalsMigrationSql } from './approvals-sql.js';
import { resumeClaimMigration } from './resume-claim-sql.js';
import { buildGrantSql } from './grant-sql.js';
import { buildOutboxSql, type OutboxSql } from './outbox-sql.js';

/** Lower-case letters, digits and `_`, starting with a letter or `_`. */
const identifierPattern = /^[a-z_][a-z0-9_]*$/;
/** Letters, digits and `_.:-`: safe both as a quoted identifier (`LISTEN`) and as text (`pg_notify`). */
const channelPattern = /^[A-Za-z0-9_.:-]{1,63}$/;

/** PostgreSQL truncates identifiers at 63 bytes; derived names add up to 23 characters to the table's. */
const MAX_SCHEMA_LENGTH = 63;
const MAX_TABLE_LENGTH = 40;

/** Checks a schema or table name strictly (no quoting tricks can get through) and returns it. */
export function requireIdentifier(field: string, value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || !identifierPattern.test(value) || value.length > maxLength) {
    throw invalidInput(
      field,
      value,
      `is not a valid identifier (lower-case letters, digits and _, starting with a letter or _, at most ${maxLength} characters)`,
    );
  }
  if (value.startsWith('pg_')) throw invalidInput(field, value, "must not start with 'pg_' (reserved by PostgreSQL)");
  return value;
}

/** Double-quotes an identifier already checked by {@link requireIdentifier}. */
export function quote(identifier: string): string {
  return `"${identifier}"`;
}

/** The default NOTIFY channel of a table: readable when it fits in 63 bytes, hashed otherwise. */
export function defaultChannel(schema: string, table: string): string {
  const readable = `hitl:${schema}.${table}`;
  if (readable.length <= 63) return readable;
  return `hitl:${createHash('sha256').update(`${schema}.${table}`).digest('hex').slice(0, 40)}`;
}

export function requireChannel(value: unknown): string {
  if (typeof value !== 'string' || !channelPattern.test(value)) {
    throw invalidInput('options.channel', value, 'is not a valid channel name (letters, digits and _.:-, 1 to 63 characters)');
  }
  return value;
}

export function requireSchema(value: unknown): string {
  return requireIdentifier('options.schema', value, MAX_SCHEMA_LENGTH);
}

export function requireTable(value: unknown): string {
  return requireIdentifier('options.table', value, MAX_TABLE_LENGTH);
}

/** A named statement: prepared once per connection, then one round trip per call. */
export interface Statement {
  name: string;
  text: string;
}

export function statement(text: string): Statement {
  return { name: `hitl_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text };
}

/** Timestamps are read as whole milliseconds since the epoch, exact for every date JavaScript can hold. */
export const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::bigint::text`;

/**
 * Every column a record is built from, as `[name, expression]`. All of them come back as text, so
 * pg's (process-wide) type parsers cannot change what the store sees.
 */
const RECORD_FIELDS: readonly (readonly [string, string])[] = [
  ['id', 'id'],
  ['seq', 'seq::text'],
  ['change_seq', 'change_seq::text'],
  ['type', 'type'],
  ['tool_name', 'tool_name'],
  ['status', 'status'],
  ['request', 'request::text'],
  ['evaluation', 'evaluation::text'],
  ['input_hash', 'input_hash'],
  ['created_ms', epochMs('created_at')],
  ['expires_ms', epochMs('expires_at')],
  ['closed_ms', epochMs('closed_at')],
  ['closed_reason', 'closed_reason'],
  ['response', 'response::text'],
  ...APPROVAL_FIELDS,
];

export const RECORD_COLUMNS = RECORD_FIELDS.map(([name, expression]) => (name === expression ? name : `${expression} AS ${name}`)).join(
  ', ',
);

/** The same columns as one JSON object: the record a `decided` NOTIFY carries with `notifyRecords`. */
const RECORD_JSON = `json_build_object(${RECORD_FIELDS.map(([name, expression]) => `'${name}', ${expression}`).join(', ')})`;

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more (with the default 8 kB block size). */
const NOTIFY_PAYLOAD_LIMIT = 8_000;

/**
 * The NOTIFY sent with every change: small (id, status, kind, origin, change_seq); listeners read
 * the row. With `carryRecord`, a decision's payload also carries the row this statement wrote (sent
 * only if its transaction commits, so it is committed data) when the whole payload stays under
 * {@link NOTIFY_PAYLOAD_LIMIT} bytes; otherwise it is the small one and listeners read the row.
 */
export const notify = (kind: 'created' | 'decided', channelParameter: string, originParameter: string, carryRecord = false) => {
  const fields = `'id', id, 'status', status, 'kind', '${kind}', 'origin', ${originParameter}::text, 'change_seq', change_seq::text`;
  const small = `json_build_object(${fields})::text`;
  if (!carryRecord) return `pg_notify(${channelParameter}::text, ${small}) IS NULL AS notified`;
  const payload = `(SELECT CASE WHEN octet_length(full_payload) < ${NOTIFY_PAYLOAD_LIMIT} THEN full_payload ELSE ${small} END
    FROM (SELECT json_build_object(${fields}, 'record', ${RECORD_JSON})::text AS full_payload) AS carried)`;
  return `pg_notify(${channelParameter}::text, ${payload}) IS NULL AS notified`;
};

/** The list filters, in the order of their parameters, with the SQL each one tests. */
export const LIST_FILTERS = ['status', 'toolName', 'threadId', 'runId', 'requestedBy', 'createdAfter', 'createdBefore'] as const;
export type ListFilter = (typeof LIST_FILTERS)[number];

const filterSql: Record<ListFilter, (parameter: string) => string> = {
  status: (parameter) => `status = ${parameter}`,
  toolName: (parameter) => `tool_name = ${parameter}`,
  // Expression indexes (migration 2) serve these: no column to fill, no table rewrite.
  threadId: (parameter) => `(request->>'threadId') = ${parameter}`,
  runId: (parameter) => `(request->>'runId') = ${parameter}`,
  requestedBy: (parameter) => `(request->>'requestedBy') = ${parameter}`,
  createdAfter: (parameter) => `created_at >= ${parameter}::timestamptz`,
  createdBefore: (parameter) => `created_at < ${parameter}::timestamptz`,
};

/** One migration step: the version it brings the table to and its DDL. */
export interface Migration {
  version: number;
  sql: string;
}

/** Every SQL text the store runs against one table, with its identifiers checked and quoted. */
export interface StoreSql {
  qualifiedTable: string;
  /** The text the migration advisory lock key is hashed from. */
  lockKey: string;
  /**
   * The text the schema's advisory lock key is hashed from: taken before {@link lockKey} by every
   * store migrating a table of this schema, because `CREATE SCHEMA IF NOT EXISTS` run at once by two
   * transactions fails one of them on `pg_namespace_nspname_index`.
   */
  schemaLockKey: string;
  schemaExists: Statement;
  migrationsTableExists: Statement;
  /** The migrations table's name as `to_regclass` reads it. */
  migrationsTableName: string;
  appliedVersion: string;
  /** Every recorded migration version. */
  appliedVersions: string;
  createSchema: string;
  createMigrationsTable: string;
  recordMigration: string;
  migrations: Migration[];
  highWater: Statement;
  insert: Statement;
  get: Statement;
  getMany: Statement;
  decide: Statement;
  /** Four eyes: see `addApprovalSql`. NOTIFY parameters `$7`, `$8`. */
  addApproval: Statement;
  decideExpired: Statement;
  decideFailure: Statement;
  sweep: Statement;
  changedSince: Statement;
  /** The outbox's statements (migration 5). */
  outbox: OutboxSql;
  /** The list statement for the filters present, in {@link LIST_FILTERS} order, then the cursor and the limit. */
  list(filters: readonly ListFilter[], cursor: boolean): Statement;
}

/** Builds the SQL of a store on `schema.table`; both must have passed {@link requireIdentifier}. `notifyRecords`: decisions' NOTIFY carries the record. */
export function buildSql(schema: string, table: string, { notifyRecords = false }: { notifyRecords?: boolean } = {}): StoreSql {
  const qualifiedTable = `${quote(schema)}.${quote(table)}`;
  const sequence = `${quote(schema)}.${quote(`${table}_seq`)}`;
  const migrationsTable = `${quote(schema)}.${quote(`${table}_migrations`)}`;
  const sequenceLiteral = `'${sequence}'`;
  const index = (suffix: string) => quote(`${table}_${suffix}`);

  const migrations: Migration[] = [
    {
      version: 1,
      sql: `
CREATE SEQUENCE IF NOT EXISTS ${sequence} AS bigint;
CREATE TABLE IF NOT EXISTS ${qualifiedTable} (
  id text PRIMARY KEY,
  seq bigint NOT NULL,
  change_seq bigint NOT NULL,
  type text NOT NULL,
  tool_name text NOT NULL,
  status text NOT NULL CONSTRAINT ${index('status_check')}
    CHECK (status IN ('pending', 'approved', 'rejected', 'modified', 'expired', 'cancelled')),
  request jsonb NOT NULL,
  evaluation jsonb NOT NULL,
  input_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  closed_at timestamptz,
  closed_reason text,
  response jsonb
);
ALTER SEQUENCE ${sequence} OWNED BY ${qualifiedTable}.seq;
CREATE UNIQUE INDEX IF NOT EXISTS ${index('seq_idx')} ON ${qualifiedTable} (seq);
CREATE UNIQUE INDEX IF NOT EXISTS ${index('change_seq_idx')} ON ${qualifiedTable} (change_seq);
CREATE INDEX IF NOT EXISTS ${index('status_seq_idx')} ON ${qualifiedTable} (status, seq);
CREATE INDEX IF NOT EXISTS ${index('tool_name_seq_idx')} ON ${qualifiedTable} (tool_name, seq);
CREATE INDEX IF NOT EXISTS ${index('pending_expiry_idx')} ON ${qualifiedTable} (expires_at) WHERE status = 'pending';
COMMENT ON TABLE ${qualifiedTable} IS 'hitl approval requests (@hitl/store-postgres); change rows only through the store';`,
    },
    {
      // Request context filters (threadId, runId, requestedBy, creation time). Indexes on
      // expressions over the stored request: existing rows are indexed as they are, nothing is
      // rewritten, and inserts stay the same.
      version: 2,
      sql: `
CREATE INDEX IF NOT EXISTS ${index('thread_seq_idx')} ON ${qualifiedTable} ((request->>'threadId'), seq);
CREATE INDEX IF NOT EXISTS ${index('run_seq_idx')} ON ${qualifiedTable} ((request->>'runId'), seq);
CREATE INDEX IF NOT EXISTS ${index('requested_by_seq_idx')} ON ${qualifiedTable} ((request->>'requestedBy'), seq);
CREATE INDEX IF NOT EXISTS ${index('created_at_idx')} ON ${qualifiedTable} (created_at);`,
    },
    // Four eyes: how many approvals a request needs, the approvals given, their approvers' keys.
    { version: 4, sql: approvalsMigrationSql(qualifiedTable) },
    // Grants (remembered decisions): their own table next to the requests, created in place.
    {
      version: 3,
      sql: buildGrantSql(schema, table, qualifiedTable, RECORD_COLUMNS, (channel, origin) => notify('decided', channel, origin)).migration,
    },
    resumeClaimMigration(schema, table),
  ];
  const approvalInsert = approvalInsertSql(15);

  const outbox = buildOutboxSql(schema, table);
  migrations.push(outbox.migration);
  const listStatements = new Map<string, Statement>();

  return {
    qualifiedTable,
    lockKey: `hitl:${schema}.${table}`,
    schemaLockKey: `hitl-schema:${schema}`,
    schemaExists: statement('SELECT 1 FROM pg_namespace WHERE nspname = $1'),
    migrationsTableName: migrationsTable,
    migrationsTableExists: statement('SELECT (to_regclass($1) IS NOT NULL)::text AS present'),
    appliedVersion: `SELECT coalesce(max(version), 0)::text AS version FROM ${migrationsTable}`,
    appliedVersions: `SELECT version::text AS version FROM ${migrationsTable}`,
    createSchema: `CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`,
    createMigrationsTable: `CREATE TABLE IF NOT EXISTS ${migrationsTable} (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`,
    recordMigration: `INSERT INTO ${migrationsTable} (version) VALUES ($1) ON CONFLICT (version) DO NOTHING`,
    migrations,
    highWater: statement(`SELECT coalesce(max(change_seq), 0)::text AS high_water FROM ${qualifiedTable}`),
    insert: statement(`INSERT INTO ${qualifiedTable}
  (id, seq, change_seq, type, tool_name, status, request, evaluation, input_hash, created_at, expires_at, closed_at, closed_reason, response, ${approvalInsert.columns})
SELECT $1, n.value, n.value, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::timestamptz, $9::timestamptz, $10::timestamptz, $11, $12::jsonb, ${approvalInsert.values}
FROM (SELECT nextval(${sequenceLiteral}) AS value) AS n
ON CONFLICT (id) DO NOTHING
RETURNING ${RECORD_COLUMNS}, ${notify('created', '$13', '$14')}`),
    get: statement(`SELECT ${RECORD_COLUMNS} FROM ${qualifiedTable} WHERE id = $1`),
    getMany: statement(`SELECT ${RECORD_COLUMNS} FROM ${qualifiedTable} WHERE id = ANY($1::text[]) ORDER BY ${qualifiedTable}.change_seq`),
    decide: statement(`UPDATE ${qualifiedTable}
SET status = $3, response = coalesce($4::jsonb, response), closed_at = $5::timestamptz,
    closed_reason = coalesce($6, closed_reason), change_seq = nextval(${sequenceLiteral})
WHERE id = $1 AND status = $2 AND (expires_at IS NULL OR expires_at > now())
RETURNING ${RECORD_COLUMNS}, ${notify('decided', '$7', '$8', notifyRecords)}`),
    addApproval: statement(
      addApprovalSql(qualifiedTable, sequenceLiteral, `${RECORD_COLUMNS}, ${notify('decided', '$7', '$8', notifyRecords)}`),
    ),
    decideExpired: statement(`UPDATE ${qualifiedTable}
SET status = $3, response = coalesce($4::jsonb, response), closed_at = $5::timestamptz,
    closed_reason = coalesce($6, closed_reason), change_seq = nextval(${sequenceLiteral})
WHERE id = $1 AND status = $2 AND expires_at <= now()
RETURNING ${RECORD_COLUMNS}, ${notify('decided', '$7', '$8', notifyRecords)}`),
    decideFailure: statement(`SELECT status, ${epochMs('expires_at')} AS expires_ms,
  (expires_at IS NOT NULL AND expires_at <= now())::text AS expired
FROM ${qualifiedTable} WHERE id = $1`),
    outbox,
    // Each expiry writes a `transition` job: whichever manager claims it runs its hook and notifications.
    sweep: outbox.sweepWithTransitions(
      statement(`UPDATE ${qualifiedTable}
SET status = 'expired', closed_at = now(),
    closed_reason = 'no decision before ' || to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    change_seq = nextval(${sequenceLiteral})
WHERE status = 'pending' AND id IN (
  SELECT id FROM ${qualifiedTable}
  WHERE status = 'pending' AND expires_at <= now() - $4::double precision * interval '1 millisecond'
  ORDER BY expires_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
RETURNING ${RECORD_COLUMNS}, ${notify('decided', '$2', '$3', notifyRecords)}`),
    ),
    changedSince: statement(
      `SELECT ${RECORD_COLUMNS} FROM ${qualifiedTable} WHERE change_seq > $1::bigint ORDER BY ${qualifiedTable}.change_seq LIMIT $2`,
    ),
    list(filters, cursor) {
      const key = `${filters.join(',')};${Number(cursor)}`;
      let found = listStatements.get(key);
      if (!found) {
        const conditions: string[] = [];
        let parameter = 1;
        for (const filter of filters) conditions.push(filterSql[filter](`$${parameter++}`));
        if (cursor) conditions.push(`seq < $${parameter++}::bigint`);
        const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
        found = statement(
          `SELECT ${RECORD_COLUMNS} FROM ${qualifiedTable}${where} ORDER BY ${qualifiedTable}.seq DESC LIMIT $${parameter}`,
        );
        listStatements.set(key, found);
      }
      return found;
    },
  };
}
