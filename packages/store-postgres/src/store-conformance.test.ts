// The PostgreSQL store's conformance run: every ApprovalStore rule, with a second instance on the same table as the peer.
import type pg from 'pg';
import { describe, it } from 'vitest';
import type { ApprovalStore } from '@hitl/core';
import { storeConformanceCases } from '@hitl/core/testing';
import { createPostgresStore } from './index.js';
import { createRecordingLogger } from '@hitl/test-kit';
import { createTestPool, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';

const database = usePostgresSchema('hitl_conformance');
const { schema } = database;

let tableCounter = 0;
/** Each store's pool, ended after the store closes. */
const pools = new Map<ApprovalStore, pg.Pool>();
/** The table each store was made on, so a peer opens the same one. */
const tables = new Map<ApprovalStore, string>();

function openStore(table: string): ApprovalStore {
  const pool = createTestPool(randomName('hitl_conformance'));
  const store = createPostgresStore({ pool, schema, table, sweepIntervalMs: Infinity, logger: createRecordingLogger() });
  pools.set(store, pool);
  tables.set(store, table);
  return store;
}

describe('the PostgreSQL store keeps every ApprovalStore rule (a peer is a second instance on the same table)', () => {
  const cases = storeConformanceCases({
    createStore: () => openStore(`requests_${++tableCounter}`),
    createPeer: (store) => openStore(tables.get(store) as string),
    async disposeStore(store) {
      await store.close?.();
      await pools.get(store)?.end();
      pools.delete(store);
      tables.delete(store);
    },
  });
  for (const testCase of cases) it(testCase.name, testCase.run, 20_000);
});
