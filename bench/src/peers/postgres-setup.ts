// Two instances, A (runs the agent) and B (where the reviewer decides), on one PostgreSQL database,
// for hitl (the Postgres store) and for LangGraph (PostgresSaver), each in its own fresh schema.
import { randomBytes } from 'node:crypto';
import type { Manager } from '@hitl/core';
import { createPostgresStore, type PostgresStore } from '@hitl/store-postgres';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import pg from 'pg';
import { createPeerManager } from './agents.js';

export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = { warn() {}, error() {}, info() {}, debug() {} };

export interface HitlInstance {
  pool: pg.Pool;
  store: PostgresStore;
  manager: Manager;
}

export interface PeerPostgres {
  admin: pg.Client;
  hitlSchema: string;
  langGraphSchema: string;
  /** The NOTIFY channel of hitl's table. */
  channel: string;
  hitl: { a: HitlInstance; b: HitlInstance };
  langGraph: { a: PostgresSaver; b: PostgresSaver; pools: pg.Pool[] };
  pools(): pg.Pool[];
  close(): Promise<void>;
}

const newPool = (name: string) => {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: `hitl-bench-peer-${name}`, max: 4 });
  pool.on('error', () => undefined);
  return pool;
};

/** Connects (a database that is down fails the row loudly), creates both schemas and migrates both stores. */
export async function createPeerPostgres(): Promise<PeerPostgres> {
  const suffix = randomBytes(4).toString('hex');
  const hitlSchema = `peer_hitl_${suffix}`;
  const langGraphSchema = `peer_langgraph_${suffix}`;
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'hitl-bench-peer-admin' });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${langGraphSchema}"`);
  const instance = (name: string): HitlInstance => {
    const pool = newPool(`hitl-${name}`);
    const store = createPostgresStore({ pool, schema: hitlSchema, logger: quiet });
    return { pool, store, manager: createPeerManager(store) };
  };
  const a = instance('a');
  const b = instance('b');
  await a.store.migrate();
  await b.store.migrate();
  const langGraphPools = [newPool('langgraph-a'), newPool('langgraph-b')];
  const saverA = new PostgresSaver(langGraphPools[0]!, undefined, { schema: langGraphSchema });
  const saverB = new PostgresSaver(langGraphPools[1]!, undefined, { schema: langGraphSchema });
  await saverA.setup();
  await saverB.setup();
  return {
    admin,
    hitlSchema,
    langGraphSchema,
    channel: `hitl:${hitlSchema}.hitl_requests`,
    hitl: { a, b },
    langGraph: { a: saverA, b: saverB, pools: langGraphPools },
    pools: () => [a.pool, b.pool, ...langGraphPools],
    async close() {
      for (const { manager, store } of [a, b]) {
        await manager.close();
        await store.close();
      }
      await Promise.all([a.pool.end(), b.pool.end(), ...langGraphPools.map((pool) => pool.end())]);
      await admin.query(`DROP SCHEMA IF EXISTS "${hitlSchema}" CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS "${langGraphSchema}" CASCADE`);
      await admin.end();
    },
  };
}
