import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ApprovalRecord, Logger } from '@hitl/core';

/** The test database; override with `DATABASE_URL`. */
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A random lower-case suffix for schema, role and application names. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A pool for one test "instance", named so its connections can be found in `pg_stat_activity`. */
export function createTestPool(applicationName: string, config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: applicationName, max: 4, ...config });
  pool.on('error', () => {
    // Idle connections terminated on purpose by a test; the pool replaces them.
  });
  return pool;
}

/** A connection for the test itself (admin queries, schema cleanup). */
export async function connectAdmin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hitl-test-admin' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A logger that remembers what it was told. */
export interface RecordingLogger extends Logger {
  readonly entries: { level: string; message: string; details: unknown[] }[];
  messages(level?: string): string[];
}

export function createRecordingLogger(): RecordingLogger {
  const entries: { level: string; message: string; details: unknown[] }[] = [];
  const record =
    (level: string) =>
    (message: string, ...details: unknown[]) => {
      entries.push({ level, message, details });
    };
  return {
    entries,
    warn: record('warn'),
    error: record('error'),
    info: record('info'),
    debug: record('debug'),
    messages: (level) => entries.filter((entry) => level === undefined || entry.level === level).map((entry) => entry.message),
  };
}

/** Polls `check` until it returns a value other than `undefined`/`false`, for at most `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 10, what = 'the condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Rejects when `promise` does not settle within `timeoutMs`: a bound, not a sleep. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A pending record as a manager would store it. */
export function pendingRecord(id: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  const now = Date.now();
  return {
    request: { id, type: 'approval', toolName: 'delete_user', input: { user_id: id } },
    status: 'pending',
    evaluation: { outcome: 'review', reason: 'no policy matched' },
    inputHash: 'a'.repeat(64),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    ...overrides,
  };
}


/** A TCP proxy to PostgreSQL that can go silent, as a network partition does: no error, no FIN, no data. */
export interface FreezableProxy {
  port: number;
  /** Stops forwarding on every connection open now; new connections still work. */
  freezeExisting(): void;
  close(): Promise<void>;
}

export async function createFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  const { createServer, connect } = await import('node:net');
  const pairs = new Set<{ client: import('node:net').Socket; upstream: import('node:net').Socket }>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    freezeExisting() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A login role with only what a migrated table needs at runtime: schema usage, row reads and writes,
 * the sequence. Returns its connection string and a cleanup.
 */
export async function createRuntimeRole(
  admin: pg.Client,
  schema: string,
  table: string,
): Promise<{ role: string; connectionString: string; drop(): Promise<void> }> {
  const role = randomName('hitl_role');
  await admin.query(`CREATE ROLE "${role}" LOGIN`);
  await admin.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
  await admin.query(`GRANT SELECT, INSERT, UPDATE ON "${schema}"."${table}" TO "${role}"`);
  await admin.query(`GRANT SELECT ON "${schema}"."${table}_migrations" TO "${role}"`);
  await admin.query(`GRANT USAGE, SELECT ON SEQUENCE "${schema}"."${table}_seq" TO "${role}"`);
  const url = new URL(databaseUrl);
  url.username = role;
  return {
    role,
    connectionString: url.toString(),
    async drop() {
      await admin.query(`DROP OWNED BY "${role}"`);
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
    },
  };
}
