// Test support only the store's own tests need: records, a freezable TCP proxy, a least-privilege role.
// The shared parts (database URL, pools, admin connection, logger, waits) come from @hitl/test-kit.
import type pg from 'pg';
import { HitlError, type ApprovalRecord } from '@hitl/core';
import { databaseUrl, randomName } from '@hitl/test-kit/postgres';

/** The HitlError `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function errorOf(promise: Promise<unknown>): Promise<HitlError> {
  try {
    await promise;
  } catch (error) {
    if (HitlError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a HitlError, got a result');
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
  await admin.query(`GRANT SELECT, INSERT, UPDATE ON "${schema}"."${table}_outbox" TO "${role}"`);
  await admin.query(`GRANT SELECT, INSERT, UPDATE ON "${schema}"."${table}_resume_claims" TO "${role}"`);
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
