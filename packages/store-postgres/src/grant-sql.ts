// The SQL of grants (migration 3: the grants table) and of decideMany, for one store's table.
import { createHash } from 'node:crypto';
import type { Statement } from './sql.js';

function statement(text: string): Statement {
  return { name: `hitl_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`, text };
}

const epochMs = (column: string) => `floor(extract(epoch FROM ${column}) * 1000)::bigint::text`;

/** Every column a grant is built from, as text (pg's type parsers cannot change them). */
const GRANT_COLUMNS = [
  'id',
  'effect',
  'tool_pattern',
  'condition',
  'thread_id',
  'run_id',
  'requested_by',
  `${epochMs('expires_at')} AS expires_ms`,
  'max_uses::text AS max_uses',
  'uses::text AS uses',
  'granted_by',
  `${epochMs('created_at')} AS created_ms`,
  'reason',
  `${epochMs('revoked_at')} AS revoked_ms`,
  'revoked_by',
  'source_request_id',
].join(', ');

/** The NOTIFY of a grant change: only its id and kind (a grant can be larger than a payload may be); listeners read the row. */
const notifyGrant = (kind: 'grant-created' | 'grant-revoked', channel: string, origin: string) =>
  `pg_notify(${channel}::text, json_build_object('id', id, 'kind', '${kind}', 'origin', ${origin}::text)::text) IS NULL AS notified`;

export interface GrantSql {
  migration: string;
  insertGrant: Statement;
  getGrant: Statement;
  revokeGrant: Statement;
  useGrant: Statement;
  releaseGrantUse: Statement;
  /** `$1` active filter (null, true, false), `$2` thread id (or null), `$3` limit. */
  listGrants: Statement;
  lockForDecide: Statement;
  decideMany: Statement;
}

/** The grants SQL of a store whose requests live in `qualifiedTable`; identifiers already checked. */
export function buildGrantSql(
  schema: string,
  table: string,
  qualifiedTable: string,
  recordColumns: string,
  notifyDecided: (channel: string, origin: string) => string,
): GrantSql {
  const grants = `"${schema}"."${table}_grants"`;
  const index = (suffix: string) => `"${table}_grants_${suffix}"`;
  const live = `revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses)`;
  return {
    migration: `
CREATE TABLE IF NOT EXISTS ${grants} (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  effect text NOT NULL CONSTRAINT ${index('effect_check')} CHECK (effect IN ('approve', 'deny')),
  tool_pattern text NOT NULL,
  condition text,
  thread_id text,
  run_id text,
  requested_by text,
  expires_at timestamptz,
  max_uses integer CONSTRAINT ${index('max_uses_check')} CHECK (max_uses IS NULL OR max_uses >= 1),
  uses integer NOT NULL DEFAULT 0,
  granted_by text NOT NULL,
  created_at timestamptz NOT NULL,
  reason text,
  revoked_at timestamptz,
  revoked_by text,
  source_request_id text
);
CREATE UNIQUE INDEX IF NOT EXISTS ${index('seq_idx')} ON ${grants} (seq);
CREATE INDEX IF NOT EXISTS ${index('unrevoked_seq_idx')} ON ${grants} (seq) WHERE revoked_at IS NULL;
CREATE INDEX IF NOT EXISTS ${index('thread_seq_idx')} ON ${grants} (thread_id, seq);
COMMENT ON TABLE ${grants} IS 'hitl remembered decisions (@hitl/store-postgres); change rows only through the store';`,
    insertGrant: statement(`INSERT INTO ${grants}
  (id, effect, tool_pattern, condition, thread_id, run_id, requested_by, expires_at, max_uses, granted_by, created_at, reason, source_request_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::integer, $10, $11::timestamptz, $12, $13)
RETURNING ${GRANT_COLUMNS}, ${notifyGrant('grant-created', '$14', '$15')}`),
    getGrant: statement(`SELECT ${GRANT_COLUMNS} FROM ${grants} WHERE id = $1`),
    revokeGrant: statement(`UPDATE ${grants} SET revoked_at = $2::timestamptz, revoked_by = $3
WHERE id = $1 AND revoked_at IS NULL
RETURNING ${GRANT_COLUMNS}, ${notifyGrant('grant-revoked', '$4', '$5')}`),
    // One atomic statement, by the database clock: maxUses and revocation hold across instances.
    useGrant: statement(`UPDATE ${grants} SET uses = uses + 1 WHERE id = $1 AND ${live} RETURNING ${GRANT_COLUMNS}`),
    // Gives back one counted use; never below 0, and (uses only ever counted below max_uses) never past max_uses.
    releaseGrantUse: statement(`UPDATE ${grants} SET uses = uses - 1 WHERE id = $1 AND uses > 0 RETURNING ${GRANT_COLUMNS}`),
    listGrants: statement(`SELECT ${GRANT_COLUMNS} FROM ${grants}
WHERE ($1::boolean IS NULL OR (${live}) = $1::boolean) AND ($2::text IS NULL OR thread_id = $2)
ORDER BY seq DESC LIMIT $3`),
    lockForDecide: statement(`SELECT id, status, (expires_at IS NOT NULL AND expires_at <= now())::text AS expired
FROM ${qualifiedTable} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`),
    decideMany: statement(`UPDATE ${qualifiedTable}
SET status = d_status, response = d_response::jsonb, closed_at = d_closed_at::timestamptz, change_seq = nextval('"${schema}"."${table}_seq"')
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS d(d_id, d_expected, d_status, d_response, d_closed_at)
WHERE id = d_id AND status = d_expected AND (expires_at IS NULL OR expires_at > now())
RETURNING ${recordColumns}, ${notifyDecided('$6', '$7')}`),
  };
}
