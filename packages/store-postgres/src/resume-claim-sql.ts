/** The SQL of the resume claims (migration 6): a claims table beside the requests table, and its three statements. */
import { epochMs, quote, RECORD_COLUMNS, statement } from './sql.js';
import type { Migration, Statement } from './sql.js';

/** The statements of the resume claims on one requests table. */
export interface ResumeClaimSql {
  /** $1 request id, $2 owner, $3 lease in ms: one row (the claim) or none. */
  claim: Statement;
  /** $1 request id, $2 owner, $3 lease in ms: the claim with its new lease, when the owner still holds it. */
  renew: Statement;
  /** $1 request id, $2 owner: one row when the owner held it. */
  complete: Statement;
  /** $1 resumeWith, $2 change_seq cursor, $3 limit. */
  unresumed: Statement;
}

function names(schema: string, table: string) {
  return {
    requests: `${quote(schema)}.${quote(table)}`,
    claims: `${quote(schema)}.${quote(`${table}_resume_claims`)}`,
    index: (suffix: string) => quote(`${table}_${suffix}`),
  };
}

/**
 * Migration 6: one row per request whose resume was claimed (who holds it, until when by the
 * database clock, how many times it was taken, when it completed), and a partial index on the
 * decided requests marked `metadata.resumeWith` for the catch-up scan. Adds a table and an index;
 * rewrites nothing.
 */
export function resumeClaimMigration(schema: string, table: string): Migration {
  const { requests, claims, index } = names(schema, table);
  return {
    version: 6,
    sql: `
CREATE TABLE IF NOT EXISTS ${claims} (
  request_id text PRIMARY KEY REFERENCES ${requests} (id) ON DELETE CASCADE,
  owner text NOT NULL,
  attempt integer NOT NULL,
  lease_until timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX IF NOT EXISTS ${index('resume_with_idx')} ON ${requests} ((request->'metadata'->>'resumeWith'), change_seq)
  WHERE status <> 'pending' AND (request->'metadata'->>'resumeWith') IS NOT NULL;`,
  };
}

export function buildResumeClaimSql(schema: string, table: string): ResumeClaimSql {
  const { requests, claims } = names(schema, table);
  return {
    // One statement: the decided request is read and the claim inserted, or taken over when its
    // lease ran out by the database clock. ON CONFLICT locks the row, so one of many racers wins.
    claim: statement(`INSERT INTO ${claims} AS c (request_id, owner, attempt, lease_until)
SELECT r.id, $2, 1, now() + $3::double precision * interval '1 millisecond'
FROM ${requests} r WHERE r.id = $1 AND r.status <> 'pending'
ON CONFLICT (request_id) DO UPDATE SET owner = EXCLUDED.owner, attempt = c.attempt + 1, lease_until = EXCLUDED.lease_until
WHERE c.completed_at IS NULL AND c.lease_until <= now()
RETURNING c.request_id, c.owner, c.attempt::text AS attempt, ${epochMs('c.lease_until')} AS lease_ms`),
    renew: statement(`UPDATE ${claims} SET lease_until = now() + $3::double precision * interval '1 millisecond'
WHERE request_id = $1 AND owner = $2 AND completed_at IS NULL
RETURNING request_id, owner, attempt::text AS attempt, ${epochMs('lease_until')} AS lease_ms`),
    complete: statement(`UPDATE ${claims} SET completed_at = now()
WHERE request_id = $1 AND owner = $2 AND completed_at IS NULL
RETURNING request_id`),
    unresumed: statement(`SELECT ${RECORD_COLUMNS} FROM ${requests} r
WHERE (r.request->'metadata'->>'resumeWith') = $1 AND r.status <> 'pending' AND r.change_seq > $2::bigint
  AND NOT EXISTS (SELECT 1 FROM ${claims} c WHERE c.request_id = r.id AND c.completed_at IS NOT NULL)
ORDER BY r.change_seq LIMIT $3`),
  };
}
