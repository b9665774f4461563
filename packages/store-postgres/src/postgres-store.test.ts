// The PostgreSQL store: options, migrations, create and get, list, decide (against the memory store), subscribe, failures, close.
import { createServer } from 'node:net';
import fc from 'fast-check';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { HitlError, createManager, createMemoryStore } from '@hitl/core';
import type { ApprovalStore, DecidePatch, ListQuery, RequestStatus, StoreChange } from '@hitl/core';
import { insertParameters } from './records.js';
import { buildSql } from './sql.js';
import { createPostgresStore } from './index.js';
import type { PostgresStore, PostgresStoreSettings } from './index.js';
import { createRecordingLogger, waitUntil } from '@hitl/test-kit';
import { createTestPool, databaseUrl, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { errorOf, createRuntimeRole, pendingRecord } from './test-support.js';

const database = usePostgresSchema('hitl_store');
const { schema, cleanups } = database;

let tableCounter = 0;

/** A store on a fresh table of this file's schema, closed after the test. */
function newStore(settings: PostgresStoreSettings & { pool?: pg.Pool } = {}): { store: PostgresStore; pool: pg.Pool; table: string } {
  const table = settings.table ?? `requests_${++tableCounter}`;
  const pool = settings.pool ?? createTestPool(randomName('hitl_test'));
  const store = createPostgresStore({ sweepIntervalMs: Infinity, logger: createRecordingLogger(), ...settings, schema, table, pool });
  cleanups.push(async () => {
    await store.close();
    if (!settings.pool) await pool.end();
  });
  return { store, pool, table };
}

function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

const approve = (id: string, at = new Date().toISOString()): DecidePatch => ({
  status: 'approved',
  closedAt: at,
  response: { requestId: id, decision: 'approve', respondedAt: at, respondedBy: 'alice' },
});

describe('options', () => {
  const pool = {} as pg.Pool;
  const cases: [string, unknown, RegExp][] = [
    ['neither pool nor connectionString', {}, /options\.pool undefined is required/],
    ['both pool and connectionString', { pool, connectionString: databaseUrl }, /options\.connectionString .* cannot be given together/],
    ['a pool that is not a pool', { pool: { query: 1 } }, /options\.pool a object must be a pg Pool/],
    ['an empty connection string', { connectionString: ' ' }, /options\.connectionString ' ' must be a non-empty string/],
    ['a schema with upper case', { connectionString: databaseUrl, schema: 'Public' }, /options\.schema 'Public' is not a valid identifier/],
    [
      'a table with a quote',
      { connectionString: databaseUrl, table: 'x"; DROP TABLE y; --' },
      /options\.table 'x"; DROP TABLE y; --' is not a valid identifier/,
    ],
    [
      'a reserved schema',
      { connectionString: databaseUrl, schema: 'pg_catalog' },
      /options\.schema 'pg_catalog' must not start with 'pg_'/,
    ],
    ['a table of 41 characters', { connectionString: databaseUrl, table: 't'.repeat(41) }, /options\.table .* at most 40 characters/],
    ['a channel with a quote', { connectionString: databaseUrl, channel: 'a"b' }, /options\.channel 'a"b' is not a valid channel name/],
    [
      'a sweep interval of 0',
      { connectionString: databaseUrl, sweepIntervalMs: 0 },
      /options\.sweepIntervalMs 0 must be a positive number/,
    ],
    ['a fractional batch size', { connectionString: databaseUrl, sweepBatchSize: 1.5 }, /options\.sweepBatchSize 1\.5 must be an integer/],
    [
      'a max delay below the initial one',
      { connectionString: databaseUrl, reconnect: { initialDelayMs: 500, maxDelayMs: 100 } },
      /options\.reconnect\.maxDelayMs 100 must not be below options\.reconnect\.initialDelayMs \(500\)/,
    ],
    ['a logger without warn', { connectionString: databaseUrl, logger: { error() {} } }, /options\.logger .* must have warn and error/],
  ];
  it.each(cases)('refuses %s with invalid_input naming the field', (_, options, message) => {
    let thrown: unknown;
    try {
      createPostgresStore(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(HitlError.is(thrown, 'invalid_input')).toBe(true);
    expect((thrown as Error).message).toMatch(message);
    // The field is data too, and it is the one the message names.
    expect((thrown as HitlError).details?.field, 'details.field').toEqual(expect.any(String));
    expect((thrown as Error).message).toContain((thrown as HitlError).details?.field);
  });
});

describe('migrations', () => {
  it('create the table, its indexes and the migrations record on first use, and are idempotent', async () => {
    const { store, pool, table } = newStore();
    expect(store.tableName).toBe(`"${schema}"."${table}"`);
    const before = await database.admin.query('SELECT to_regclass($1) AS found', [`"${schema}"."${table}"`]);
    expect(before.rows[0].found).toBeNull();

    expect(await store.get('nothing-yet')).toBeUndefined();
    const indexes = await database.admin.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1',
      [schema, table],
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual(
      [
        `${table}_change_seq_idx`,
        `${table}_created_at_idx`,
        `${table}_pending_expiry_idx`,
        `${table}_pkey`,
        `${table}_requested_by_seq_idx`,
        `${table}_resume_with_idx`,
        `${table}_run_seq_idx`,
        `${table}_seq_idx`,
        `${table}_status_seq_idx`,
        `${table}_thread_seq_idx`,
        `${table}_tool_name_seq_idx`,
      ].sort(),
    );
    const columns = await database.admin.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [schema, table],
    );
    expect(Object.fromEntries(columns.rows.map((row) => [row.column_name, row.data_type]))).toEqual({
      id: 'text',
      seq: 'bigint',
      change_seq: 'bigint',
      type: 'text',
      tool_name: 'text',
      status: 'text',
      request: 'jsonb',
      evaluation: 'jsonb',
      input_hash: 'text',
      created_at: 'timestamp with time zone',
      expires_at: 'timestamp with time zone',
      closed_at: 'timestamp with time zone',
      closed_reason: 'text',
      response: 'jsonb',
      approvals_required: 'integer',
      approvals: 'jsonb',
      approver_keys: 'ARRAY',
    });

    await store.migrate();
    const second = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity });
    await second.migrate();
    await second.close();
    const versions = await database.admin.query(`SELECT version FROM "${schema}"."${table}_migrations" ORDER BY version`);
    expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);
    const grantIndexes = await database.admin.query<{ indexname: string }>(
      'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1',
      [schema, `${table}_grants`],
    );
    expect(grantIndexes.rows.map((row) => row.indexname)).toEqual(
      [`${table}_grants_pkey`, `${table}_grants_seq_idx`, `${table}_grants_thread_seq_idx`, `${table}_grants_unrevoked_seq_idx`].sort(),
    );
  });

  it('migrate a table made by the previous version in place: every row stays and the new filters find them', async () => {
    const table = `requests_${++tableCounter}`;
    // The table as the previous release left it: migration 1 only, rows written by its insert.
    const previous = buildSql(schema, table);
    await database.admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await database.admin.query(previous.createMigrationsTable);
    for (const migration of previous.migrations.filter((step) => step.version === 1)) {
      await database.admin.query(migration.sql);
      await database.admin.query(previous.recordMigration, [migration.version]);
    }
    const base = Date.parse('2026-02-01T00:00:00.000Z');
    for (let index = 0; index < 6; index++) {
      const id = `old-${index}`;
      const record = pendingRecord(id, { createdAt: new Date(base + index * 3_600_000).toISOString() });
      record.request = {
        ...record.request,
        threadId: `thread-${index % 2}`,
        runId: `run-${index}`,
        requestedBy: index < 3 ? 'alice' : 'bob',
      };
      // The previous release's insert: the columns of migration 1 only.
      await database.admin.query(
        `INSERT INTO "${schema}"."${table}" (id, seq, change_seq, type, tool_name, status, request, evaluation, input_hash, created_at, expires_at, closed_at, closed_reason, response)
         SELECT $1, n.value, n.value, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8::timestamptz, $9::timestamptz, $10::timestamptz, $11, $12::jsonb
         FROM (SELECT nextval('"${schema}"."${table}_seq"') AS value) AS n`,
        insertParameters(record),
      );
    }
    const before = await database.admin.query(`SELECT count(*)::int AS count FROM "${schema}"."${table}"`);
    expect(before.rows[0].count).toBe(6);

    const { store } = newStore({ table });
    await store.migrate();
    const versions = await database.admin.query(`SELECT version FROM "${schema}"."${table}_migrations" ORDER BY version`);
    expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);
    const ids = async (query: ListQuery) => (await store.list(query)).items.map((record) => record.request.id);
    expect(await ids({})).toEqual(['old-5', 'old-4', 'old-3', 'old-2', 'old-1', 'old-0']);
    expect(await ids({ threadId: 'thread-1' })).toEqual(['old-5', 'old-3', 'old-1']);
    expect(await ids({ runId: 'run-2' })).toEqual(['old-2']);
    expect(await ids({ requestedBy: 'bob', threadId: 'thread-0' })).toEqual(['old-4']);
    expect(await ids({ createdAfter: '2026-02-01T02:00:00Z', createdBefore: '2026-02-01T04:00:00Z' })).toEqual(['old-3', 'old-2']);
    expect((await store.get('old-3'))?.request).toMatchObject({ threadId: 'thread-1', runId: 'run-3', requestedBy: 'bob' });
    // New rows land next to the old ones.
    await store.create({
      ...pendingRecord('new-1'),
      request: { id: 'new-1', type: 'approval', toolName: 'delete_user', threadId: 'thread-1' },
    });
    expect(await ids({ threadId: 'thread-1', limit: 2 })).toEqual(['new-1', 'old-5']);
    // Old rows need one approval, as before; a new four-eyes row works on the migrated table.
    expect(await store.get('old-0')).not.toHaveProperty('approvals');
    await store.create({ ...pendingRecord('new-2'), approvalsRequired: 2, approvals: [] });
    const approvalAt = new Date().toISOString();
    const added = await store.addApproval('new-2', {
      approval: { by: 'alice', at: approvalAt },
      required: 2,
      response: { requestId: 'new-2', decision: 'approve', respondedBy: 'alice', respondedAt: approvalAt },
    });
    expect(added).toMatchObject({ status: 'pending', approvalsRequired: 2, approvals: [{ by: 'alice', at: approvalAt }] });
    // Old rows can be resumed like new ones (migration 6 added the claims beside them).
    await store.decide('old-2', 'pending', approve('old-2'));
    expect(await store.claimResume('old-2', 'resumer-a', 60_000)).toMatchObject({ requestId: 'old-2', owner: 'resumer-a', attempt: 1 });
  });

  it('apply a version missing below the highest one recorded (versions are reserved per feature)', async () => {
    const table = `requests_${++tableCounter}`;
    const previous = buildSql(schema, table);
    await database.admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await database.admin.query(previous.createMigrationsTable);
    for (const migration of previous.migrations.filter((step) => step.version <= 2)) {
      await database.admin.query(migration.sql);
      await database.admin.query(previous.recordMigration, [migration.version]);
    }
    // A later feature's version got here first.
    await database.admin.query(previous.recordMigration, [99]);
    const { store } = newStore({ table });
    await store.migrate();
    const versions = await database.admin.query(`SELECT version FROM "${schema}"."${table}_migrations" ORDER BY version`);
    expect(versions.rows.map((row: { version: number }) => row.version)).toEqual([1, 2, 3, 4, 5, 6, 99]);
    await store.create({ ...pendingRecord('late-4'), approvalsRequired: 2, approvals: [] });
    expect((await store.get('late-4'))?.approvalsRequired).toBe(2);
  });

  it('apply a reserved version that lands after a higher one (each version runs unless it is recorded itself)', async () => {
    const table = `requests_${++tableCounter}`;
    const sql = buildSql(schema, table);
    await database.admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await database.admin.query(sql.createMigrationsTable);
    // Versions 1 and 6 recorded, 2 not: as if 6 had been released before 2.
    for (const migration of sql.migrations.filter((step) => step.version !== 2)) {
      await database.admin.query(migration.sql);
      await database.admin.query(sql.recordMigration, [migration.version]);
    }
    const { store } = newStore({ table });
    await store.migrate();
    const versions = await database.admin.query(`SELECT version FROM "${schema}"."${table}_migrations" ORDER BY version`);
    expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);
    const indexes = await database.admin.query('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [
      schema,
      table,
    ]);
    expect(indexes.rows.map((row: { indexname: string }) => row.indexname)).toContain(`${table}_thread_seq_idx`);
  });

  it('answer a bad list filter with invalid_input naming the field', async () => {
    const { store } = newStore();
    await expect(store.list({ createdAfter: 'last tuesday' })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('createdAfter'),
      details: { field: 'createdAfter' },
    });
    await expect(store.list({ threadId: 42 as never })).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('threadId'),
      details: { field: 'threadId' },
    });
  });

  it('need no DDL rights once they have run: a runtime role with row privileges only works', async () => {
    const { store, table } = newStore();
    await store.migrate();
    const runtime = await createRuntimeRole(database.admin, schema, table);
    cleanups.push(() => runtime.drop());
    const limitedLogger = createRecordingLogger();
    const limited = createPostgresStore({ connectionString: runtime.connectionString, schema, table, logger: limitedLogger });
    cleanups.push(() => limited.close());
    await limited.create(pendingRecord('runtime-1'));
    expect((await limited.decide('runtime-1', 'pending', approve('runtime-1'))).status).toBe('approved');
    expect((await limited.list({ status: 'approved' })).items.map((record) => record.request.id)).toEqual(['runtime-1']);
    expect(await limited.sweep()).toBe(0);
    // Without DELETE the finished outbox jobs stay; the sweeper says so once and goes on expiring.
    expect(await limited.sweep()).toBe(0);
    expect(limitedLogger.messages('warn').filter((message) => message.includes('needs DELETE on the outbox table'))).toHaveLength(1);
    expect(await limited.claimResume('runtime-1', 'resumer', 60_000)).toMatchObject({ attempt: 1 });
    expect(await limited.completeResume('runtime-1', 'resumer')).toBe(true);
    const denied = await database.admin.query('SELECT has_schema_privilege($1, $2, $3) AS create', [runtime.role, schema, 'CREATE']);
    expect(denied.rows[0].create).toBe(false);
  });

  it('are safe when five stores on five pools start at once on a new schema', async () => {
    const freshSchema = randomName('hitl_migrate');
    const pools = Array.from({ length: 5 }, (_, index) => createTestPool(`hitl-migrate-${index}`, { max: 1 }));
    const stores = pools.map((pool) => createPostgresStore({ pool, schema: freshSchema, sweepIntervalMs: Infinity }));
    try {
      const results = await Promise.allSettled(stores.map((store) => store.migrate()));
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
      const created = await Promise.all(stores.map((store, index) => store.create(pendingRecord(`migrated-${index}`))));
      expect(created.every((result) => result.created)).toBe(true);
      const count = await database.admin.query(`SELECT count(*)::int AS count FROM "${freshSchema}"."hitl_requests"`);
      expect(count.rows[0].count).toBe(5);
      const versions = await database.admin.query(`SELECT version FROM "${freshSchema}"."hitl_requests_migrations" ORDER BY version`);
      expect(versions.rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await Promise.all(pools.map((pool) => pool.end()));
      await database.admin.query(`DROP SCHEMA IF EXISTS "${freshSchema}" CASCADE`);
    }
  });

  it('are safe when five stores on five tables of one new schema start at once (10 new schemas)', async () => {
    // The migration lock was per table, and CREATE SCHEMA IF NOT EXISTS run by two transactions at
    // once fails one with: duplicate key value violates unique constraint "pg_namespace_nspname_index".
    const pools = Array.from({ length: 5 }, (_, index) => createTestPool(`hitl-migrate-tables-${index}`, { max: 1 }));
    try {
      for (let round = 0; round < 10; round++) {
        const freshSchema = randomName('hitl_migrate_tables');
        const stores = pools.map((pool, index) =>
          createPostgresStore({ pool, schema: freshSchema, table: `requests_${index}`, sweepIntervalMs: Infinity }),
        );
        try {
          const results = await Promise.allSettled(stores.map((store) => store.migrate()));
          const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
          expect(failures).toEqual([]);
          const created = await Promise.all(stores.map((store, index) => store.create(pendingRecord(`table-${index}`))));
          expect(created.every((result) => result.created)).toBe(true);
          const tables = await database.admin.query(
            `SELECT count(*)::int AS count FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'requests\\_%' AND tablename NOT LIKE '%migrations' AND tablename NOT LIKE '%grants' AND tablename NOT LIKE '%outbox' AND tablename NOT LIKE '%resume_claims'`,
            [freshSchema],
          );
          expect(tables.rows[0].count).toBe(5);
        } finally {
          await Promise.all(stores.map((store) => store.close()));
          await database.admin.query(`DROP SCHEMA IF EXISTS "${freshSchema}" CASCADE`);
        }
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('share one run between concurrent first uses of a store', async () => {
    const { store, pool } = newStore();
    let connections = 0;
    const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { connect: (...args: unknown[]) => unknown }).connect = (...args: unknown[]) => {
      connections++;
      return connect(...args);
    };
    await Promise.all([store.get('a'), store.get('b'), store.list({}), store.migrate()]);
    // One connection for the migrations, one to read the latest change, then one per call.
    expect(connections).toBe(5);
  });
});

describe('create and get', () => {
  it('stores a record and reads it back equal and frozen', async () => {
    const { store } = newStore();
    const record = pendingRecord('req-1', {
      request: {
        id: 'req-1',
        type: 'approval',
        toolName: 'transfer_money',
        description: 'Send €250 to Zoë',
        input: { amount: 250, to: 'Zoë', tags: ['a', 'b'], nested: { deep: [1, { x: null }] } },
        riskLevel: 'irreversible',
        confidence: 0.85,
        timeoutMs: 60_000,
        requestedBy: 'bob',
        metadata: { trace: 'abc' },
      },
    });
    const result = await store.create(record);
    expect(result.created).toBe(true);
    expect(result.record).toEqual(record);
    expect(isDeeplyFrozen(result.record)).toBe(true);

    const read = await store.get('req-1');
    expect(read).toEqual(record);
    expect(isDeeplyFrozen(read)).toBe(true);
    expect(await store.get('req-unknown')).toBeUndefined();
  });

  it('never overwrites: a second create with the same id returns the stored record', async () => {
    const { store } = newStore();
    const first = pendingRecord('same');
    await store.create(first);
    const second = await store.create(
      pendingRecord('same', { inputHash: 'b'.repeat(64), request: { id: 'same', type: 'input', toolName: 'other' } }),
    );
    expect(second.created).toBe(false);
    expect(second.record).toEqual(first);
    expect(await store.get('same')).toEqual(first);
  });

  it('stores records that are decided already (auto-approved) with their response', async () => {
    const { store } = newStore();
    const at = new Date().toISOString();
    const record = pendingRecord('auto', {
      status: 'approved',
      evaluation: { outcome: 'approve', policy: 'reads', reason: 'read only' },
      closedAt: at,
      response: { requestId: 'auto', decision: 'approve', feedback: 'read only', respondedAt: at, automatic: true },
    });
    delete record.expiresAt;
    await store.create(record);
    expect(await store.get('auto')).toEqual(record);
  });

  it('keeps the request inputSchema, so a modify decided through another instance is validated against it', async () => {
    const { store, table } = newStore();
    const manager = createManager({ store });
    cleanups.push(() => manager.close());
    const inputSchema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { user_id: { type: 'string' } },
      required: ['user_id'],
    };
    const record = await manager.submit({ toolName: 'delete_user', input: { user_id: '1' }, inputSchema });
    const other = createManager({ store: newStore({ table }).store });
    cleanups.push(() => other.close());
    expect((await store.get(record.request.id))?.request.inputSchema).toEqual(inputSchema);
    const refused = await errorOf(other.respond(record.request.id, { decision: 'modify', modified: { user_id: 12345 } }));
    expect(refused.code).toBe('invalid_input');
    expect(refused.message).toContain('modified/user_id must be string');
    expect(refused.details).toMatchObject({ field: 'modified', path: 'modified/user_id' });
    expect((await store.get(record.request.id))?.status).toBe('pending');
  });

  it('keeps exact timestamps, far-future expiries included', async () => {
    const { store } = newStore();
    const record = pendingRecord('far', { createdAt: '2026-03-01T12:34:56.789Z', expiresAt: '+275760-09-13T00:00:00.000Z' });
    await store.create(record);
    expect(await store.get('far')).toEqual(record);
  });

  it('round-trips any JSON input and metadata (property, 60 runs)', async () => {
    const { store } = newStore();
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue()), async (input, metadata) => {
        const id = `prop-${++counter}`;
        const request = {
          id,
          type: 'approval' as const,
          toolName: 'tool',
          input: JSON.parse(JSON.stringify(input)),
          metadata: JSON.parse(JSON.stringify(metadata)),
        };
        const record = pendingRecord(id, { request });
        await store.create(record);
        expect(await store.get(id)).toEqual(record);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses malformed records and ids with invalid_input', async () => {
    const { store } = newStore();
    expect((await errorOf(store.create({ ...pendingRecord('x'), status: 'done' as RequestStatus }))).code).toBe('invalid_input');
    expect((await errorOf(store.create({ ...pendingRecord('x'), createdAt: 'yesterday' }))).message).toMatch(
      /record\.createdAt 'yesterday' is not an ISO 8601 timestamp/,
    );
    expect((await errorOf(store.create(null as never))).message).toMatch(/record null must be an object/);
    expect((await errorOf(store.get('' as string))).message).toMatch(/id '' must be a non-empty string/);
    const nul = pendingRecord('nul', { request: { id: 'nul', type: 'approval', toolName: 'tool', input: { text: 'a\u0000b' } } });
    expect((await errorOf(store.create(nul))).code).toBe('invalid_input');
  });
});

describe('list', () => {
  async function seeded(): Promise<{ store: PostgresStore; ids: string[] }> {
    const { store } = newStore();
    const ids: string[] = [];
    for (let index = 0; index < 12; index++) {
      const id = `list-${String(index).padStart(2, '0')}`;
      const toolName = index % 3 === 0 ? 'delete_user' : 'send_email';
      await store.create(pendingRecord(id, { request: { id, type: 'approval', toolName } }));
      ids.push(id);
    }
    for (const id of ['list-01', 'list-03', 'list-06']) await store.decide(id, 'pending', approve(id));
    return { store, ids };
  }

  it('returns records newest first, filtered by status and tool', async () => {
    const { store, ids } = await seeded();
    const all = await store.list({});
    expect(all.items.map((record) => record.request.id)).toEqual([...ids].reverse());
    expect(all.nextCursor).toBeUndefined();

    const pending = await store.list({ status: 'pending' });
    expect(pending.items.map((record) => record.request.id)).toEqual(
      ids.filter((id) => !['list-01', 'list-03', 'list-06'].includes(id)).reverse(),
    );
    const deletes = await store.list({ toolName: 'delete_user' });
    expect(deletes.items.map((record) => record.request.id)).toEqual(['list-09', 'list-06', 'list-03', 'list-00']);
    const approvedDeletes = await store.list({ toolName: 'delete_user', status: 'approved' });
    expect(approvedDeletes.items.map((record) => record.request.id)).toEqual(['list-06', 'list-03']);
    expect(approvedDeletes.items.every(isDeeplyFrozen)).toBe(true);
  });

  it('pages with a stable cursor, even when records arrive between pages', async () => {
    const { store, ids } = await seeded();
    const first = await store.list({ limit: 5 });
    expect(first.items.map((record) => record.request.id)).toEqual(ids.slice(7).reverse());
    expect(first.nextCursor).toMatch(/^p\d+$/);
    await store.create(pendingRecord('list-new'));
    const second = await store.list({ limit: 5, cursor: first.nextCursor as string });
    expect(second.items.map((record) => record.request.id)).toEqual(ids.slice(2, 7).reverse());
    const third = await store.list({ limit: 5, cursor: second.nextCursor as string });
    expect(third.items.map((record) => record.request.id)).toEqual(['list-01', 'list-00']);
    expect(third.nextCursor).toBeUndefined();

    const filtered = await store.list({ status: 'pending', limit: 4 });
    const rest = await store.list({ status: 'pending', limit: 4, cursor: filtered.nextCursor as string });
    expect([...filtered.items, ...rest.items].map((record) => record.request.id)).toEqual([
      'list-new',
      'list-11',
      'list-10',
      'list-09',
      'list-08',
      'list-07',
      'list-05',
      'list-04',
    ]);
  });

  it('refuses bad cursors, limits and statuses with invalid_input', async () => {
    const { store } = newStore();
    for (const cursor of ['m3', 'p', 'p-1', 'p01', 'p99999999999999999999', 'p9223372036854775808']) {
      const error = await errorOf(store.list({ cursor }));
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain(`cursor '${cursor}' is not a cursor returned by list`);
      expect(error.details).toMatchObject({ field: 'cursor' });
    }
    expect((await errorOf(store.list({ limit: 0 }))).message).toMatch(/limit 0 must be an integer from 1 to 1000/);
    expect((await errorOf(store.list({ limit: 1001 }))).code).toBe('invalid_input');
    expect((await errorOf(store.list({ status: 'done' as RequestStatus }))).message).toMatch(/status 'done' is not a request status/);
    expect((await errorOf(store.list({ limit: 0 }))).details).toMatchObject({ field: 'limit', value: '0' });
    expect((await errorOf(store.list({ status: 'done' as RequestStatus }))).details).toMatchObject({ field: 'status' });
  });
});

describe('decide', () => {
  it('moves a pending record once; the second decision is a conflict, an unknown id not_found', async () => {
    const { store } = newStore();
    await store.create(pendingRecord('d1'));
    const patch = approve('d1');
    const decided = await store.decide('d1', 'pending', patch);
    expect(decided.status).toBe('approved');
    expect(decided.response).toEqual(patch.response);
    expect(decided.closedAt).toBe(patch.closedAt);
    expect(isDeeplyFrozen(decided)).toBe(true);
    expect(await store.get('d1')).toEqual(decided);

    const again = await errorOf(store.decide('d1', 'pending', { status: 'rejected', closedAt: new Date().toISOString() }));
    expect(again.code).toBe('conflict');
    expect(again.message).toBe("request 'd1' is already approved");
    expect(again.details).toEqual({ ids: ['d1'] });
    expect((await store.get('d1'))?.status).toBe('approved');

    const missing = await errorOf(store.decide('nope', 'pending', approve('nope')));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toBe("request 'nope' does not exist");
    expect(missing.details).toEqual({ ids: ['nope'] });
  });

  it('keeps a stored response when an expiry or cancellation brings none', async () => {
    const { store } = newStore();
    await store.create(pendingRecord('c1'));
    const cancelled = await store.decide('c1', 'pending', {
      status: 'cancelled',
      closedAt: new Date().toISOString(),
      closedReason: 'aborted',
    });
    expect(cancelled).toMatchObject({ status: 'cancelled', closedReason: 'aborted' });
    expect(cancelled.response).toBeUndefined();
  });

  it('refuses non-expiry decisions once the database clock passed expiresAt, whatever closedAt says', async () => {
    const { store } = newStore();
    const past = new Date(Date.now() - 60_000);
    await store.create(pendingRecord('old', { createdAt: new Date(past.getTime() - 1_000).toISOString(), expiresAt: past.toISOString() }));
    const early = new Date(past.getTime() - 500).toISOString();
    const refused = await errorOf(store.decide('old', 'pending', approve('old', early)));
    expect(refused.code).toBe('conflict');
    expect(refused.message).toBe(`request 'old' expired at ${past.toISOString()}`);
    expect(refused.details).toEqual({ ids: ['old'] });
    expect((await store.get('old'))?.status).toBe('pending');

    const expired = await store.decide('old', 'pending', {
      status: 'expired',
      closedAt: new Date().toISOString(),
      closedReason: 'timed out',
    });
    expect(expired).toMatchObject({ status: 'expired', closedReason: 'timed out' });
  });

  it('refuses an expiry the database clock does not agree with (a local clock running ahead)', async () => {
    const { store } = newStore();
    await store.create(pendingRecord('young'));
    const aheadBy = new Date(Date.now() + 3_600_000).toISOString();
    const refused = await errorOf(store.decide('young', 'pending', { status: 'expired', closedAt: aheadBy }));
    expect(refused.code).toBe('conflict');
    expect(refused.message).toMatch(/^request 'young' has not expired yet by the database clock \(it expires at .+\)$/);
    expect((await store.get('young'))?.status).toBe('pending');
    // The same clock is fine for a human decision: the database says the request is still open.
    expect((await store.decide('young', 'pending', approve('young', aheadBy))).status).toBe('approved');

    const forever = pendingRecord('forever');
    delete forever.expiresAt;
    await store.create(forever);
    expect((await errorOf(store.decide('forever', 'pending', { status: 'expired', closedAt: aheadBy }))).message).toBe(
      "request 'forever' never expires",
    );
  });

  it('refuses malformed patches with invalid_input', async () => {
    const { store } = newStore();
    await store.create(pendingRecord('p1'));
    expect(
      (await errorOf(store.decide('p1', 'pending', { status: 'pending' as never, closedAt: new Date().toISOString() }))).message,
    ).toMatch(/patch\.status 'pending' must be a final status/);
    expect((await errorOf(store.decide('p1', 'pending', { status: 'approved', closedAt: 'now' }))).message).toMatch(
      /patch\.closedAt 'now' is not an ISO 8601/,
    );
    expect((await errorOf(store.decide('p1', 'later' as never, approve('p1')))).message).toMatch(
      /expectedStatus 'later' is not a request status/,
    );
    expect(
      (
        await errorOf(
          store.decide('p1', 'pending', { status: 'approved', closedAt: new Date().toISOString(), response: { decision: 'yes' } as never }),
        )
      ).code,
    ).toBe('invalid_input');
    expect((await store.get('p1'))?.status).toBe('pending');
  });

  it('agrees with the memory store on any sequence of creates and decisions (property, 25 runs)', async () => {
    const statuses: RequestStatus[] = ['pending', 'approved', 'rejected', 'modified', 'expired', 'cancelled'];
    const operation = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), id: fc.integer({ min: 0, max: 4 }), tool: fc.constantFrom('a', 'b') }),
      fc.record({
        kind: fc.constant('decide' as const),
        id: fc.integer({ min: 0, max: 5 }),
        expected: fc.constantFrom(...statuses),
        status: fc.constantFrom<DecidePatch['status']>('approved', 'rejected', 'modified', 'cancelled'),
      }),
      fc.record({
        kind: fc.constant('list' as const),
        status: fc.option(fc.constantFrom(...statuses), { nil: undefined }),
        tool: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        limit: fc.integer({ min: 1, max: 3 }),
      }),
    );
    const outcome = async (run: () => Promise<unknown>) => {
      try {
        return { value: await run() };
      } catch (error) {
        return { error: HitlError.is(error) ? error.code : String(error) };
      }
    };
    const allPages = async (store: ApprovalStore, query: { status?: RequestStatus; toolName?: string; limit: number }) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(cursor === undefined ? query : { ...query, cursor });
        ids.push(...page.items.map((record) => record.request.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return ids;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 15 }), async (operations) => {
        const { store } = newStore();
        const model = createMemoryStore();
        const closedAt = new Date().toISOString();
        for (const op of operations) {
          if (op.kind === 'create') {
            const id = `m${op.id}`;
            const record = pendingRecord(id, { request: { id, type: 'approval', toolName: op.tool }, createdAt: closedAt });
            const [actual, expected] = [await outcome(() => store.create(record)), await outcome(() => model.create(record))];
            expect(actual).toEqual(expected);
          } else if (op.kind === 'decide') {
            const id = `m${op.id}`;
            const patch: DecidePatch = { status: op.status, closedAt };
            if (op.status !== 'cancelled') {
              const decision = op.status === 'approved' ? 'approve' : op.status === 'rejected' ? 'reject' : 'modify';
              patch.response = { requestId: id, decision, respondedAt: closedAt, ...(decision === 'modify' ? { modified: { x: 1 } } : {}) };
            }
            const [actual, expected] = [
              await outcome(() => store.decide(id, op.expected, patch)),
              await outcome(() => model.decide(id, op.expected, patch)),
            ];
            expect(actual).toEqual(expected);
          } else {
            const query = { limit: op.limit, ...(op.status ? { status: op.status } : {}), ...(op.tool ? { toolName: op.tool } : {}) };
            expect(await allPages(store, query)).toEqual(await allPages(model, query));
          }
        }
        await store.close();
      }),
      { numRuns: 25 },
    );
  });
});

describe('subscribe', () => {
  it('reports each local change once: created, then decided', async () => {
    const { store } = newStore();
    const changes: StoreChange[] = [];
    const unsubscribe = store.subscribe((change) => changes.push(change));
    const { record } = await store.create(pendingRecord('s1'));
    await store.create(pendingRecord('s1'));
    const decided = await store.decide('s1', 'pending', approve('s1'));
    await errorOf(store.decide('s1', 'pending', approve('s1')));
    expect(changes).toEqual([
      { type: 'created', record },
      { type: 'decided', record: decided },
    ]);
    unsubscribe();
    await store.create(pendingRecord('s2'));
    expect(changes).toHaveLength(2);
  });

  it('keeps going when a subscriber throws', async () => {
    const logger = createRecordingLogger();
    const { store } = newStore({ logger });
    const seen: string[] = [];
    store.subscribe(() => {
      throw new Error('subscriber bug');
    });
    store.subscribe((change) => seen.push(change.record.request.id));
    await store.create(pendingRecord('t1'));
    expect(seen).toEqual(['t1']);
    expect(logger.messages('error')).toContain('hitl: a store subscriber threw');
  });
});

describe('failures', () => {
  it('reports rows that are not records as store_unavailable, and skips them in notifications', async () => {
    const logger = createRecordingLogger();
    const { store, table } = newStore({ logger });
    const watcher = newStore({ table, logger });
    const seen: string[] = [];
    watcher.store.subscribe((change) => seen.push(change.record.request.id));
    await watcher.store.migrate();
    await store.create(pendingRecord('good-1'));
    await database.admin.query(
      `INSERT INTO "${schema}"."${table}" (id, seq, change_seq, type, tool_name, status, request, evaluation, input_hash, created_at)
       SELECT 'bad-1', v, v, 'approval', 'delete_user', 'pending', '"oops"', '{}', 'h', now() FROM (SELECT nextval('"${schema}"."${table}_seq"') AS v) n`,
    );
    await database.admin.query(
      `SELECT pg_notify($1, json_build_object('id', 'bad-1', 'status', 'pending', 'kind', 'created', 'origin', 'admin')::text)`,
      [`hitl:${schema}.${table}`],
    );
    await store.create(pendingRecord('good-2'));

    const read = await errorOf(store.get('bad-1'));
    expect(read.code).toBe('store_unavailable');
    expect(read.message).toBe(`row 'bad-1' of "${schema}"."${table}" is not a valid approval record: column request is not a JSON object`);
    expect((await errorOf(store.list({}))).code).toBe('store_unavailable');
    const manager = createManager({ store, logger });
    cleanups.push(() => manager.close());
    expect((await errorOf(manager.get('bad-1'))).code).toBe('store_unavailable');
    expect((await errorOf(manager.waitFor('bad-1'))).code).toBe('store_unavailable');

    await waitUntil(() => seen.includes('good-2'), { what: 'the watcher to see good-2' });
    expect(seen).toEqual(['good-1', 'good-2']);
    expect(logger.entries.some((entry) => entry.level === 'error' && HitlError.is(entry.details[0], 'store_unavailable'))).toBe(true);
  });

  it('turns a lost database into store_unavailable, never an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const port = await closedPort();
    const logger = createRecordingLogger();
    const store = createPostgresStore({
      connectionString: `postgres://postgres@127.0.0.1:${port}/test`,
      schema,
      logger,
      sweepIntervalMs: 20,
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    const manager = createManager({ store, logger });
    try {
      for (const attempt of [
        store.migrate(),
        store.get('x'),
        store.list({}),
        store.create(pendingRecord('x')),
        store.decide('x', 'pending', approve('x')),
        store.sweep(),
      ]) {
        const error = await errorOf(attempt);
        expect(error.code).toBe('store_unavailable');
        expect(error.message).toMatch(/could not connect to run its migrations: .*ECONNREFUSED/);
        expect(error.cause).toBeInstanceOf(Error);
      }
      expect((await errorOf(manager.submit({ toolName: 'delete_user' }))).code).toBe('store_unavailable');
      expect((await errorOf(manager.waitFor('hitl-x'))).code).toBe('store_unavailable');
      expect((await errorOf(manager.list())).code).toBe('store_unavailable');
      // The manager's subscription tried to start the store in the background: logged, not thrown.
      await waitUntil(() => logger.messages('warn').some((message) => message.includes('could not start')), {
        what: 'the background start failure',
      });
    } finally {
      await manager.close();
      await store.close();
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('survives terminated connections: the pool and the listener come back by themselves', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const logger = createRecordingLogger();
    const name = randomName('hitl_term');
    const store = createPostgresStore({
      connectionString: `${databaseUrl}?application_name=${name}`,
      schema,
      table: `requests_${++tableCounter}`,
      logger,
      sweepIntervalMs: 20,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    });
    try {
      store.subscribe(() => undefined);
      await store.create(pendingRecord('t-1'));
      await waitUntil(
        async () =>
          (await database.admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [`${name} hitl-listener`])).rowCount ===
          1,
        {
          what: 'the listener',
        },
      );
      const killed = await database.admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name IN ($1, $2)',
        [name, `${name} hitl-listener`],
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(2);
      await waitUntil(() => logger.messages('warn').some((message) => message.includes('LISTEN connection') && message.includes('down')), {
        what: 'the lost listener to be noticed',
      });
      // Operations right after the kill either work on a fresh connection or fail as store_unavailable.
      const outcome = await store.get('t-1').then(
        (record) => record?.status,
        (error: unknown) => (HitlError.is(error, 'store_unavailable') ? 'store_unavailable' : error),
      );
      expect(['pending', 'store_unavailable']).toContain(outcome);
      const record = await waitUntil(() => store.get('t-1').catch(() => undefined), { what: 'the store to answer again' });
      expect(record.status).toBe('pending');
      await waitUntil(
        async () =>
          (await database.admin.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [`${name} hitl-listener`])).rowCount ===
          1,
        {
          what: 'the listener to reconnect',
        },
      );
    } finally {
      await store.close();
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    await waitUntil(
      async () =>
        (await database.admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name LIKE $1 || '%'", [name])).rowCount === 0,
      {
        what: 'the owned pool and the listener to be closed',
      },
    );
  });
});

describe('close', () => {
  it('stops the store; a pool passed in stays open', async () => {
    const { store, pool } = newStore();
    await store.create(pendingRecord('z'));
    await store.close();
    await store.close();
    expect((await errorOf(store.get('z'))).code).toBe('store_unavailable');
    expect((await errorOf(store.create(pendingRecord('y')))).message).toMatch(/is closed/);
    expect(() => store.subscribe(() => undefined)).toThrow(/is closed/);
    const still = await pool.query('SELECT 1 AS one');
    expect(still.rows).toEqual([{ one: 1 }]);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
