// What a round of work wrote to PostgreSQL: WAL bytes (pg_stat_wal, cluster-wide, and the WAL
// records of the schema's own relations and transactions through pg_walinspect) and rows
// inserted, updated or deleted in one schema (pg_stat_user_tables), read around the round.
import type pg from 'pg';

export interface WriteCounters {
  walBytes: number;
  walRecords: number;
  /** WAL insert position when read (the start of a range). */
  insertLsn: string;
  /** WAL flush position when read (the end of a range: every commit before it is flushed). */
  flushLsn: string;
  rows: number;
}

/**
 * Makes every idle connection of `pool` report its pending statistics now: PostgreSQL batches them
 * (at most once a second per backend, otherwise after 10 s idle), so without this a round's writes
 * would show up in a later round. `pg_stat_force_next_flush()` takes effect when the backend goes
 * idle, which it does before its reply reaches us.
 */
export async function flushStatistics(pool: pg.Pool): Promise<void> {
  const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
  try {
    await Promise.all(clients.map((client) => client.query('SELECT pg_stat_force_next_flush()')));
  } finally {
    for (const client of clients) client.release();
  }
}

/** Installs pg_walinspect (contrib, PostgreSQL 15+) when it can; false when it cannot. */
export async function enableWalInspect(admin: pg.Client): Promise<boolean> {
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    return true;
  } catch {
    return false;
  }
}

export async function readCounters(admin: pg.Client, schema: string): Promise<WriteCounters> {
  await admin.query('SELECT pg_stat_force_next_flush()');
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const wal = await admin.query<{ wal_bytes: string; wal_records: string; insert_lsn: string; flush_lsn: string }>(
    'SELECT wal_bytes::text, wal_records::text, pg_current_wal_insert_lsn()::text AS insert_lsn, pg_current_wal_flush_lsn()::text AS flush_lsn FROM pg_stat_wal',
  );
  const tables = await admin.query<{ rows: string }>(
    'SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS rows FROM pg_stat_user_tables WHERE schemaname = $1',
    [schema],
  );
  const row = wal.rows[0]!;
  return {
    walBytes: Number(row.wal_bytes),
    walRecords: Number(row.wal_records),
    insertLsn: row.insert_lsn,
    flushLsn: row.flush_lsn,
    rows: Number(tables.rows[0]!.rows),
  };
}

/**
 * The WAL between two positions that belongs to `schema`: records touching its relations (tables,
 * indexes, sequences, TOAST), plus every record of the transactions that wrote them (their commits).
 */
const ATTRIBUTED_WAL = `
WITH relations AS (
  SELECT c.relfilenode::text AS node FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $3 AND c.relfilenode <> 0
  UNION
  SELECT t.relfilenode::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = c.reltoastrelid
  WHERE n.nspname = $3
  UNION
  SELECT i.relfilenode::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_index x ON x.indrelid = c.reltoastrelid JOIN pg_class i ON i.oid = x.indexrelid
  WHERE n.nspname = $3
),
records AS (SELECT start_lsn, xid, record_length, block_ref FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)),
touching AS (
  SELECT DISTINCT r.start_lsn, r.xid
  FROM records r, regexp_matches(coalesce(r.block_ref, ''), 'rel [0-9]+/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/([0-9]+)', 'g') AS m
  WHERE m[1] IN (SELECT node FROM relations)
)
SELECT coalesce(sum(record_length), 0)::text AS bytes FROM records
WHERE start_lsn IN (SELECT start_lsn FROM touching) OR (xid <> 0 AND xid IN (SELECT xid FROM touching))`;

/** The per-cycle deltas between two readings; `attributedWalBytes` is NaN without pg_walinspect. */
export async function perCycle(
  admin: pg.Client,
  schema: string,
  before: WriteCounters,
  after: WriteCounters,
  cycles: number,
  walInspect: boolean,
) {
  let attributed = Number.NaN;
  if (walInspect) {
    const result = await admin.query<{ bytes: string }>(ATTRIBUTED_WAL, [before.insertLsn, after.flushLsn, schema]);
    attributed = Number(result.rows[0]!.bytes);
  }
  return {
    walBytes: (after.walBytes - before.walBytes) / cycles,
    walRecords: (after.walRecords - before.walRecords) / cycles,
    attributedWalBytes: attributed / cycles,
    rows: (after.rows - before.rows) / cycles,
  };
}
