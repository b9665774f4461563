import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import type { Logger } from '@hitl/core';

/** The test database; override with `DATABASE_URL`. */
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Host and port of the test database, for the fault proxy. */
export function databaseAddress(): { host: string; port: number } {
  const url = new URL(databaseUrl);
  return { host: url.hostname, port: Number(url.port || 5432) };
}

/** A random lower-case name: schemas, application names. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** A connection for the test itself (admin queries, `pg_terminate_backend`, schema cleanup). */
export async function connectAdmin(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hitl-reliability-admin' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A fresh random schema name and the statement that drops it (run it in `afterAll`). */
export function testSchema(prefix: string): { schema: string; drop(admin: pg.Client): Promise<void> } {
  const schema = randomName(prefix);
  return {
    schema,
    async drop(admin) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/**
 * A pool named `applicationName` (so its connections, and the store's LISTEN connection named
 * `<applicationName> hitl-listener`, can be found in `pg_stat_activity`). Errors of idle connections
 * killed on purpose are expected and ignored.
 */
export function createTestPool(applicationName: string, config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: applicationName, max: 6, ...config });
  pool.on('error', () => undefined);
  return pool;
}

/** A logger that remembers what it was told, and when (`Date.now()`). */
export interface RecordingLogger extends Logger {
  readonly entries: { level: string; message: string; at: number }[];
  messages(level?: string): string[];
}

export function createRecordingLogger(): RecordingLogger {
  const entries: { level: string; message: string; at: number }[] = [];
  const record = (level: string) => (message: string) => {
    entries.push({ level, message, at: Date.now() });
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

/** Rejects when `promise` has not settled within `timeoutMs`: a bound on a wait, never a sleep. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Polls `check` every `intervalMs` until it returns something other than `undefined`/`false`; at most `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 5, what = 'the condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The p-th percentile (0..100) of a list of numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Collects `unhandledRejection`s while installed; `stop()` removes the listener and returns them. */
export function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): unknown[] } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    reasons,
    stop() {
      process.removeListener('unhandledRejection', listener);
      return reasons;
    },
  };
}
