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

/** Two hitl instances on one table. */
export interface HitlPair {
  a: HitlInstance;
  b: HitlInstance;
  schema: string;
  /** The NOTIFY channel of the table. */
  channel: string;
}

export interface PeerPostgres {
  admin: pg.Client;
  langGraphSchema: string;
  /** hitl with the default store (a notification names the row to read). */
  hitl: HitlPair;
  /** hitl with `notifyRecords: true` (a decision's notification carries the record). */
  hitlCarried: HitlPair;
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
  const langGraphSchema = `peer_langgraph_${suffix}`;
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'hitl-bench-peer-admin' });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${langGraphSchema}"`);
  const pair = async (schema: string, notifyRecords: boolean): Promise<HitlPair> => {
    const instance = (name: string): HitlInstance => {
      const pool = newPool(`${schema}-${name}`);
      const store = createPostgresStore({ pool, schema, logger: quiet, notifyRecords });
      return { pool, store, manager: createPeerManager(store) };
    };
    const a = instance('a');
    const b = instance('b');
    await a.store.migrate();
    await b.store.migrate();
    return { a, b, schema, channel: `hitl:${schema}.hitl_requests` };
  };
  const hitl = await pair(`peer_hitl_${suffix}`, false);
  const hitlCarried = await pair(`peer_hitl_carried_${suffix}`, true);
  const instances = [hitl.a, hitl.b, hitlCarried.a, hitlCarried.b];
  const langGraphPools = [newPool('langgraph-a'), newPool('langgraph-b')];
  const saverA = new PostgresSaver(langGraphPools[0]!, undefined, { schema: langGraphSchema });
  const saverB = new PostgresSaver(langGraphPools[1]!, undefined, { schema: langGraphSchema });
  await saverA.setup();
  await saverB.setup();
  return {
    admin,
    langGraphSchema,
    hitl,
    hitlCarried,
    langGraph: { a: saverA, b: saverB, pools: langGraphPools },
    pools: () => [...instances.map((instance) => instance.pool), ...langGraphPools],
    async close() {
      for (const { manager, store } of instances) {
        await manager.close();
        await store.close();
      }
      await Promise.all([...instances.map((instance) => instance.pool.end()), ...langGraphPools.map((pool) => pool.end())]);
      for (const schema of [hitl.schema, hitlCarried.schema, langGraphSchema])
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}
