// Type tests of createPostgresStore: a pool or a connection string, not both; an ApprovalStore with migrate, sweep and close.
import pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import { createManager } from '@hitl/core';
import type { ApprovalStore } from '@hitl/core';
import { createPostgresStore } from './index.js';
import type { PostgresStore, PostgresStoreOptions } from './index.js';

describe('createPostgresStore types', () => {
  it('takes a pool or a connection string, not both and not neither', () => {
    const pool = new pg.Pool();
    expectTypeOf<{ pool: pg.Pool }>().toExtend<PostgresStoreOptions>();
    expectTypeOf<{ connectionString: string; schema: string; table: string }>().toExtend<PostgresStoreOptions>();
    expectTypeOf<{ pool: pg.Pool; connectionString: string }>().not.toExtend<PostgresStoreOptions>();
    expectTypeOf<{ schema: string }>().not.toExtend<PostgresStoreOptions>();
    // @ts-expect-error a pool and a connection string together
    createPostgresStore({ pool, connectionString: 'postgres://localhost/test' });
    // @ts-expect-error the schema must be a string
    createPostgresStore({ pool, schema: 1 });
  });

  it('returns an ApprovalStore a manager accepts, with migrate, sweep and close', () => {
    expectTypeOf<PostgresStore>().toExtend<ApprovalStore>();
    expectTypeOf<PostgresStore['close']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<PostgresStore['sweep']>().returns.resolves.toBeNumber();
    expectTypeOf(createManager).parameter(0).toExtend<{ store?: ApprovalStore } | undefined>();
    expectTypeOf(createPostgresStore).returns.toEqualTypeOf<PostgresStore>();
  });
});
