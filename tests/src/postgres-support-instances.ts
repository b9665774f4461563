// Manager instances on one PostgreSQL table for the reliability suites, and what they reported: events, hooks, NOTIFYs, listener pids.
import type pg from 'pg';
import { createManager, HitlError } from '@hitl/core';
import type { ApprovalRecord, Manager, ManagerEvent, ManagerHooks, ManagerOptions } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import type { PostgresStore, PostgresStoreSettings } from '@hitl/store-postgres';
import { createRecordingLogger, waitUntil } from '@hitl/test-kit';
import { connectAdmin, createTestPool, databaseUrl, randomName } from '@hitl/test-kit/postgres';
import type { RecordingLogger } from '@hitl/test-kit';

/** One server instance: its own pool, store and manager on a shared table, and what they reported. */
export interface Instance {
  applicationName: string;
  pool: pg.Pool;
  store: PostgresStore;
  manager: Manager;
  logger: RecordingLogger;
  events: ManagerEvent[];
  hookCalls: { hook: string; id: string }[];
  /** The manager's time when started with `manualTime` (set `now` by hand). */
  clock: { now: number };
  stop(): Promise<void>;
}

export interface InstanceOptions {
  /** Connect through this port on 127.0.0.1 (a fault proxy) instead of the database's own. */
  port?: number;
  pool?: pg.PoolConfig;
  store?: PostgresStoreSettings;
  manager?: ManagerOptions;
  /** The manager reads `clock.now` instead of `Date.now()`. */
  manualTime?: boolean;
}

/**
 * Starts instances on `schema.table`: fast reconnects, the sweeper off unless asked for, every
 * decision hook recorded. `stopAll()` stops them in reverse order.
 */
export function createInstances({ schema, table }: { schema: string; table: string }) {
  const started: Instance[] = [];

  function start(
    name: string,
    { port, pool: poolConfig = {}, store: storeOptions = {}, manager: managerOptions = {}, manualTime = false }: InstanceOptions = {},
  ): Instance {
    const applicationName = randomName(`hitl_${name}`);
    const url = new URL(databaseUrl);
    if (port !== undefined) {
      url.hostname = '127.0.0.1';
      url.port = String(port);
    }
    const pool = createTestPool(applicationName, { max: 6, connectionString: url.toString(), ...poolConfig });
    const logger = createRecordingLogger();
    const store = createPostgresStore({
      pool,
      schema,
      table,
      logger,
      sweepIntervalMs: Infinity,
      reconnect: { initialDelayMs: 5, maxDelayMs: 50 },
      ...storeOptions,
    });
    const hookCalls: { hook: string; id: string }[] = [];
    const hook = (hookName: string) => (record: ApprovalRecord) => {
      hookCalls.push({ hook: hookName, id: record.request.id });
    };
    const hooks: ManagerHooks = {
      onApprove: hook('approve'),
      onReject: hook('reject'),
      onModify: hook('modify'),
      onTimeout: hook('timeout'),
      onCancel: hook('cancel'),
      onError: () => undefined,
    };
    const clock = { now: Date.now() };
    const manager = createManager({ store, logger, hooks, ...(manualTime ? { now: () => clock.now } : {}), ...managerOptions });
    const events: ManagerEvent[] = [];
    manager.subscribe((event) => events.push(event));
    let stopped = false;
    const instance: Instance = {
      applicationName,
      pool,
      store,
      manager,
      logger,
      events,
      hookCalls,
      clock,
      async stop() {
        if (stopped) return;
        stopped = true;
        await manager.close();
        await store.close();
        await pool.end();
      },
    };
    started.push(instance);
    return instance;
  }

  return {
    start,
    async stopAll() {
      for (const instance of started.splice(0).reverse()) await instance.stop();
    },
  };
}

/** The code of the `HitlError` a call rejects with; fails when it resolves or throws anything else. */
export async function errorOf(promise: Promise<unknown>): Promise<HitlError> {
  try {
    await promise;
  } catch (error) {
    if (HitlError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a HitlError, got a result');
}

/** What a manager announced about `id` after its creation: its final events, in order. */
export function finalEventsFor(instance: Instance, id: string): string[] {
  return instance.events.filter((event) => event.record.request.id === id && event.type !== 'request-created').map((event) => event.type);
}

/** Every decision hook that ran for `id` on any of `instances`. */
export function hooksFor(instances: Instance[], id: string): string[] {
  return instances.flatMap((instance) => instance.hookCalls.filter((call) => call.id === id).map((call) => call.hook));
}

/**
 * Submits a marker through `from` and waits until every instance's manager has announced it:
 * NOTIFY keeps commit order, so any late duplicate of an earlier change would have arrived by then.
 */
export async function settle(from: Instance, instances: Instance[]): Promise<void> {
  const marker = await from.manager.submit({ toolName: 'marker', timeoutMs: Infinity });
  for (const instance of instances) {
    await waitUntil(() => instance.events.some((event) => event.record.request.id === marker.request.id), {
      what: `the marker to reach ${instance.applicationName}`,
    });
  }
}

/** The pid of an instance's LISTEN connection (named `<application_name> hitl-listener`), if it is up. */
export async function listenerPid(admin: pg.Client, instance: Instance): Promise<number | undefined> {
  const result = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
    `${instance.applicationName} hitl-listener`,
  ]);
  return result.rows[0]?.pid;
}

/** Counts the store's `decided` notifications per request id on `channel`, as a plain LISTEN client sees them. */
export async function countDecidedNotifications(channel: string): Promise<{ decided: Map<string, number>; stop(): Promise<void> }> {
  const client = await connectAdmin();
  const decided = new Map<string, number>();
  client.on('notification', (message) => {
    if (message.channel !== channel || message.payload === undefined) return;
    const payload = JSON.parse(message.payload) as { id: string; kind: string };
    if (payload.kind === 'decided') decided.set(payload.id, (decided.get(payload.id) ?? 0) + 1);
  });
  await client.query(`LISTEN "${channel}"`);
  return { decided, stop: () => client.end() };
}
