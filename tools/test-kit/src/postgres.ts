// PostgreSQL for tests: the test database's URL, a random schema per test, named pools and an admin connection.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test database; override with `DATABASE_URL`. */
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Host and port of the test database (for proxies that stand in front of it). */
export function databaseAddress(): { host: string; port: number } {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432) };
}

/** A random lower-case name for schemas, roles and application names: `<prefix>_<12 hex digits>`. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * A connection for the test itself (admin queries, `pg_terminate_backend`, schema cleanup). Its
 * errors (a backend terminated on purpose) are ignored.
 */
export async function connectAdmin(applicationName = 'hitl-test-admin'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: applicationName });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * A pool named `applicationName` so its connections (and a store's LISTEN connection,
 * `<applicationName> hitl-listener`) can be found in `pg_stat_activity`. Errors of idle connections
 * terminated on purpose are ignored: the pool replaces them.
 *
 * @example
 * const pool = createTestPool('instance-a', { max: 6 });
 */
export function createTestPool(applicationName: string, config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: applicationName, max: 4, ...config });
  pool.on('error', () => undefined);
  return pool;
}

/** A fresh random schema name and the statement that drops it (run it in `afterAll`/`afterEach`). */
export function testSchema(prefix: string): { schema: string; drop(admin: pg.Client): Promise<void> } {
  const schema = randomName(prefix);
  return {
    schema,
    async drop(admin) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

export { usePostgresSchema, type PostgresTestSchema } from './postgres-schema.js';
