// One PostgreSQL schema per test file, as vitest hooks: an admin connection, per-test cleanups, the schema dropped at the end.
import type pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { connectAdmin, randomName } from './postgres.js';

/** What `usePostgresSchema` gives a test file. */
export interface PostgresTestSchema {
  /** The random schema name, `<prefix>_<12 hex digits>`; the store creates it on first use. */
  readonly schema: string;
  /** The admin connection, open from `beforeAll` to `afterAll`. */
  readonly admin: pg.Client;
  /** Run after each test, the last pushed first (close stores before their pools). */
  readonly cleanups: (() => Promise<unknown>)[];
}

/**
 * Registers `beforeAll`/`afterEach`/`afterAll` hooks in the calling file: call it at the top level.
 *
 * @example
 * const database = usePostgresSchema('hitl_multi');
 * const store = createPostgresStore({ pool, schema: database.schema });
 * database.cleanups.push(() => store.close());
 */
export function usePostgresSchema(prefix: string, { adminName }: { adminName?: string } = {}): PostgresTestSchema {
  let admin: pg.Client | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  const schema = randomName(prefix);
  beforeAll(async () => {
    admin = await connectAdmin(adminName);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    if (!admin) return;
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  return {
    schema,
    cleanups,
    get admin() {
      if (!admin) throw new Error('the admin connection opens in beforeAll: use it inside a hook or a test');
      return admin;
    },
  };
}
