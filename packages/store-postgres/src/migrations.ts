/** Migrations of the store's table: created on first use under advisory locks (safe when many instances start at once), never dropped. */
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import type { StoreSql } from './sql.js';
import type { StoreFailure } from './statement-runner.js';

/**
 * Brings the schema, the table and its indexes up to the latest migration, in one transaction
 * under the schema's and the table's advisory locks. A connection left in doubt is discarded.
 */
export async function runMigrations(pool: Pool, sql: StoreSql, schema: string, failure: StoreFailure): Promise<void> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw failure('connect to run its migrations', error);
  }
  let broken = false;
  // Versions are reserved per feature and may land out of order (6 before 5): each migration runs
  // unless its own version is recorded, not merely when it is above the highest one recorded.
  const appliedVersions = async (): Promise<Set<number>> => {
    const applied = await client.query<{ version: string }>(sql.appliedVersions);
    return new Set(applied.rows.map((row) => Number(row.version)));
  };
  try {
    const present = await client.query<{ present: string }>({ ...sql.migrationsTableExists, values: [sql.migrationsTableName] });
    if (present.rows[0]?.present === 'true') {
      const applied = await appliedVersions();
      if (sql.migrations.every((migration) => applied.has(migration.version))) return;
    }
    await client.query('BEGIN');
    try {
      // Schema first, then table, in every store: the schema lock makes concurrent stores on other
      // tables of a new schema wait for its creation to commit instead of racing to create it.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [sql.schemaLockKey]);
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [sql.lockKey]);
      const schemaFound = await client.query({ ...sql.schemaExists, values: [schema] });
      if (schemaFound.rowCount === 0) await client.query(sql.createSchema);
      await client.query(sql.createMigrationsTable);
      const applied = await appliedVersions();
      for (const migration of sql.migrations) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query(sql.recordMigration, [migration.version]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    }
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) broken = true;
    throw failure('run its migrations', error);
  } finally {
    client.release(broken);
  }
}
