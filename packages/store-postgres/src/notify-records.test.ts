// `notifyRecords`: a decision's NOTIFY carries the decided row, so other instances need not read it;
// payloads over PostgreSQL's limit, and carried records that are not the notified row, fall back to a read.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { ApprovalRecord, ApprovalStore, StoreChange } from '@hitl/core';
import { storeConformanceCases } from '@hitl/core/testing';
import { createRecordingLogger, waitUntil, type RecordingLogger } from '@hitl/test-kit';
import { createTestPool, databaseUrl, randomName, usePostgresSchema } from '@hitl/test-kit/postgres';
import { createPostgresStore } from './index.js';
import type { PostgresStore, PostgresStoreSettings } from './index.js';
import { rowToStored, type RecordRow } from './records.js';
import { pendingRecord } from './test-support.js';

const database = usePostgresSchema('hitl_notify_records');
const { schema, cleanups } = database;
let tableCounter = 0;

interface Instance {
  store: PostgresStore;
  changes: StoreChange[];
  logger: RecordingLogger;
}

function startStore(table: string, settings: PostgresStoreSettings = {}): Instance {
  const pool = createTestPool(randomName('hitl_notify'));
  const logger = createRecordingLogger();
  const store = createPostgresStore({
    pool,
    schema,
    table,
    logger,
    sweepIntervalMs: Infinity,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...settings,
  });
  const changes: StoreChange[] = [];
  store.subscribe((change) => changes.push(change));
  cleanups.push(async () => {
    await store.close();
    await pool.end();
  });
  return { store, changes, logger };
}

/** A raw LISTEN on the table's channel: the payloads exactly as PostgreSQL delivers them. */
async function listenRaw(table: string): Promise<{ payloads: Record<string, unknown>[]; client: pg.Client }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const payloads: Record<string, unknown>[] = [];
  client.on('notification', (message) => payloads.push(JSON.parse(message.payload ?? 'null') as Record<string, unknown>));
  await client.query(`LISTEN "hitl:${schema}.${table}"`);
  cleanups.push(() => client.end());
  return { payloads, client };
}

/** A login role that may connect (and so LISTEN) but may not read the table. */
async function listenOnlyRole(): Promise<pg.ClientConfig> {
  const role = randomName('hitl_listen_only');
  await database.admin.query(`CREATE ROLE "${role}" LOGIN`);
  cleanups.push(() => database.admin.query(`DROP ROLE IF EXISTS "${role}"`));
  const url = new URL(databaseUrl);
  url.username = role;
  return { connectionString: url.toString() };
}

const decidedOn = (instance: Instance, id: string) =>
  instance.changes.find((change) => change.record.request.id === id && change.record.status !== 'pending')?.record;

const approve = (id: string) => ({
  status: 'approved' as const,
  closedAt: new Date().toISOString(),
  response: { requestId: id, decision: 'approve' as const, respondedBy: 'reviewer', respondedAt: new Date().toISOString() },
});

describe('notifyRecords', () => {
  it('delivers the decided record from the payload: A wakes though its LISTEN connection may not read the table', async () => {
    const table = `carried_${++tableCounter}`;
    const b = startStore(table, { notifyRecords: true });
    await b.store.migrate();
    const a = startStore(table, { notifyRecords: true, listenerConfig: await listenOnlyRole() });
    await a.store.migrate();
    const raw = await listenRaw(table);
    // A listens once its catch-up read after connecting was refused: a decision before that would
    // reach no LISTEN, and A could never read it (on a loaded machine the connection comes up late).
    await waitUntil(() => a.logger.messages('warn').some((message) => message.includes('could not re-read the changes')), {
      what: "A's LISTEN connection to come up",
    });

    await b.store.create(pendingRecord('r1'));
    const decided = await b.store.decide('r1', 'pending', approve('r1'));

    const seen = await waitUntil(() => decidedOn(a, 'r1'), { what: 'A to hear of the decision' });
    expect(seen).toEqual(decided);
    // A could not have read it: its LISTEN connection is refused the table (its catch-up read above failed).
    // The record in the payload is the row as committed.
    const payload = await waitUntil(() => raw.payloads.find((entry) => entry.kind === 'decided'), { what: 'the raw notification' });
    expect(rowToStored(payload.record as RecordRow, 'table').record).toEqual(await b.store.get('r1'));
  });

  it('without notifyRecords, a store reads the row: the same listen-only A never hears of the decision', async () => {
    const table = `carried_${++tableCounter}`;
    const b = startStore(table, { notifyRecords: true });
    await b.store.migrate();
    const a = startStore(table, { listenerConfig: await listenOnlyRole() });
    await a.store.migrate();

    await b.store.create(pendingRecord('r1'));
    await b.store.decide('r1', 'pending', approve('r1'));
    // A reads the row either on the notification or, when its LISTEN connection came up after the
    // decision, in the catch-up after connecting: both are refused to a listen-only role.
    const refused = (message: string) =>
      message.includes('could not read changed rows') || message.includes('could not re-read the changes');
    await waitUntil(() => a.logger.messages('warn').some(refused), { what: 'A to try to read the decided row' });
    expect(decidedOn(a, 'r1')).toBeUndefined();
  });

  it('a payload over NOTIFY’s 8,000 bytes goes out small and listeners read the row', async () => {
    const table = `carried_${++tableCounter}`;
    const b = startStore(table, { notifyRecords: true });
    const a = startStore(table, { notifyRecords: true });
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    const raw = await listenRaw(table);

    const big = pendingRecord('big', {
      request: { id: 'big', type: 'approval', toolName: 'send_email', input: { body: 'x'.repeat(9_000) } },
    });
    await b.store.create(big);
    const decided = await b.store.decide('big', 'pending', approve('big'));
    const small = pendingRecord('small');
    await b.store.create(small);
    const decidedSmall = await b.store.decide('small', 'pending', approve('small'));

    expect(await waitUntil(() => decidedOn(a, 'big'), { what: 'A to read the big decision' })).toEqual(decided);
    expect(await waitUntil(() => decidedOn(a, 'small'), { what: 'A to hear of the small decision' })).toEqual(decidedSmall);
    const decidedPayloads = await waitUntil(() => {
      const found = raw.payloads.filter((entry) => entry.kind === 'decided');
      return found.length === 2 && found;
    });
    expect(decidedPayloads.map((entry) => [entry.id, 'record' in entry])).toEqual([
      ['big', false],
      ['small', true],
    ]);
  });

  it('every store reports each of many concurrent decisions once, as decided (its own from the statement, the others from payloads)', async () => {
    const table = `carried_${++tableCounter}`;
    const stores = ['a', 'b', 'c'].map(() => startStore(table, { notifyRecords: true })) as [Instance, Instance, Instance];
    await Promise.all(stores.map((instance) => instance.store.migrate()));
    const ids = Array.from({ length: 30 }, (_, index) => `many-${index}`);
    for (const id of ids) await stores[0].store.create(pendingRecord(id));
    const decided = await Promise.all(ids.map((id, index) => stores[1 + (index % 2)]!.store.decide(id, 'pending', approve(id))));
    for (const instance of stores) {
      await waitUntil(() => ids.every((id) => decidedOn(instance, id)), { what: 'every store to hear of every decision' });
    }
    // A marker created after the decisions: once every store has it, any duplicate would have arrived too.
    await stores[1].store.create(pendingRecord('marker'));
    for (const instance of stores)
      await waitUntil(() => instance.changes.some((change) => change.record.request.id === 'marker'), { what: 'the marker' });
    for (const instance of stores) {
      const decisions = instance.changes.filter((change) => change.record.status !== 'pending');
      expect(decisions.map((change) => change.record)).toEqual(expect.arrayContaining(decided));
      expect(decisions).toHaveLength(ids.length);
    }
  });

  it('a carried record that is not the notified change is not trusted: the row is read', async () => {
    const table = `carried_${++tableCounter}`;
    const b = startStore(table, { notifyRecords: true });
    const a = startStore(table, { notifyRecords: true });
    await Promise.all([a.store.migrate(), b.store.migrate()]);
    await b.store.create(pendingRecord('victim'));
    await waitUntil(() => a.changes.some((change) => change.record.request.id === 'victim'), { what: 'A to see the request' });
    const victim = (await b.store.get('victim')) as ApprovalRecord;

    // A forged decision: the right id, a record that claims 'approved' but names another change.
    const row = (
      await database.admin.query<RecordRow>(
        `SELECT id, seq::text AS seq, change_seq::text AS change_seq, type, tool_name, 'approved' AS status, request::text AS request,
        evaluation::text AS evaluation, input_hash, '0' AS created_ms, NULL AS expires_ms, NULL AS closed_ms, NULL AS closed_reason,
        '{"requestId":"victim","decision":"approve","respondedAt":"2026-01-01T00:00:00.000Z"}' AS response
       FROM "${schema}"."${table}" WHERE id = 'victim'`,
      )
    ).rows[0]!;
    const next = BigInt(row.change_seq) + 1n;
    const forged = {
      id: 'victim',
      status: 'approved',
      kind: 'decided',
      origin: 'forger',
      change_seq: String(next + 1n),
      record: { ...row, change_seq: String(next) },
    };
    await database.admin.query('SELECT pg_notify($1, $2)', [`hitl:${schema}.${table}`, JSON.stringify(forged)]);
    // A later change on the same channel: once A has it, A has handled the forged notification.
    await b.store.create(pendingRecord('marker'));
    await waitUntil(() => a.changes.some((change) => change.record.request.id === 'marker'), { what: 'A to see the marker' });
    expect(decidedOn(a, 'victim')).toBeUndefined();
    expect(await a.store.get('victim')).toEqual(victim);
  });
});

describe('with notifyRecords the store keeps every ApprovalStore rule (a peer is a second instance on the same table)', () => {
  const pools = new Map<ApprovalStore, pg.Pool>();
  const tables = new Map<ApprovalStore, string>();
  const openStore = (table: string): ApprovalStore => {
    const pool = createTestPool(randomName('hitl_notify_conformance'));
    const store = createPostgresStore({
      pool,
      schema,
      table,
      sweepIntervalMs: Infinity,
      logger: createRecordingLogger(),
      notifyRecords: true,
    });
    pools.set(store, pool);
    tables.set(store, table);
    return store;
  };
  const cases = storeConformanceCases({
    createStore: () => openStore(`conformance_${++tableCounter}`),
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
