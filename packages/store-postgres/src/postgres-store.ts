/**
 * The PostgreSQL store: an ApprovalStore on one table, assembled from its options, statement
 * runner, migrations, sweeper and change feed (grants, the outbox, resume claims and four eyes in
 * their own modules, spread in here). Over 450 lines because it also holds the store's public
 * option types (~100 lines of documented fields) and the core ApprovalStore methods, whose SQL
 * outcomes (created or found, decided or why not) are read here.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig, Pool } from 'pg';
import { HitlError, isRequestStatus } from '@hitl/core';
import { checkGetManyIds, invalidInput, isRecord, normalizeListQuery } from '@hitl/core/internal';
import type {
  AddApprovalInput,
  AddApprovalWriteOptions,
  ApprovalRecord,
  ApprovalStore,
  CreateResult,
  DecidePatch,
  ListQuery,
  ListResult,
  Logger,
  OutboxStore,
  RequestStatus,
  ResumeClaim,
  StoreChange,
  StoreWriteOptions,
  UnresumedPage,
  UnresumedQuery,
} from '@hitl/core';
import { createPostgresOutbox, jobsParameter } from './outbox-store.js';
import { createChangeFeed } from './change-feed.js';
import type { ReconnectOptions } from './listen-connection.js';
import { decideParameters, insertParameters, rowToStored, toTimestampParameter } from './records.js';
import { addApprovalParameters, approvalInsertParameters, approvalRefusal } from './approvals-sql.js';
import type { RecordRow } from './records.js';
import { createStatementRunner } from './statement-runner.js';
import { runMigrations } from './migrations.js';
import { createResumeClaims } from './resume-claims.js';
import { resolveOptions } from './store-options.js';
import { createSweeper } from './sweeper.js';
import { buildSql, LIST_FILTERS, notify, RECORD_COLUMNS, type Statement } from './sql.js';
import { buildGrantSql } from './grant-sql.js';
import { createGrantStore } from './grant-store.js';

/**
 * The settings every store takes, whichever way it connects.
 *
 * @example
 * ```ts
 * const settings: PostgresStoreSettings = { schema: 'approvals', table: 'requests', sweepIntervalMs: 5_000 };
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL!, ...settings });
 * ```
 */
export interface PostgresStoreSettings {
  /** The schema of the table, created when missing. Default `'public'`. Lower-case letters, digits and `_`. */
  schema?: string;
  /** The table's name. Default `'hitl_requests'`. Lower-case letters, digits and `_`, at most 40 characters. */
  table?: string;
  /**
   * The NOTIFY channel. Default `'hitl:<schema>.<table>'` (hashed when longer than 63 bytes). Every
   * instance sharing the table must use the same one.
   */
  channel?: string;
  /** How often this instance expires overdue requests, in ms. Default 1 000; `Infinity` turns the sweeper off. */
  sweepIntervalMs?: number;
  /** The most requests one sweep query expires. Default 500. */
  sweepBatchSize?: number;
  /**
   * How long past its deadline a request must be before the sweeper expires it, in ms. Default
   * 2 000: a live manager's own expiry timer goes first (it stores its `onTimeout: 'reject'` response); the sweeper
   * is the backstop for requests whose instance is gone. `sweep()` called by hand uses no grace.
   */
  sweepGraceMs?: number;
  /** Backoff of the LISTEN connection's reconnects. */
  reconnect?: ReconnectOptions;
  /**
   * Carry a decided record in its NOTIFY payload (when the payload stays under PostgreSQL's 8,000
   * bytes; larger ones fall back to the small payload), so other instances wake their waiters without
   * reading the row: one round trip less between a decision and the agent it unblocks. Default
   * `false`. Any role that can connect to the database may LISTEN and NOTIFY on any channel: turn it
   * on only when every such role may read this table and decide its requests. Give every instance
   * sharing the table the same setting (a store with it off reads the row whatever the payload says).
   */
  notifyRecords?: boolean;
  /**
   * Where the LISTEN connection connects. Default: the pool's own settings (or `connectionString`).
   * Set it when the pool goes through a pooler that cannot LISTEN (PgBouncer in transaction mode).
   */
  listenerConfig?: ClientConfig;
  /** Where reconnects and skipped rows are reported. Default `console`. */
  logger?: Logger;
  /**
   * How often a manager on this store looks for outbox jobs written by other instances (a sweeper's
   * expiries, jobs of an instance that died), in ms. Default 1 000.
   */
  outboxPollIntervalMs?: number;
  /**
   * How long a finished (`done`) outbox job is kept, in ms: each sweep looks at the `sweepBatchSize`
   * oldest finished jobs and deletes those finished longer ago. Default 604 800 000 (7 days);
   * `Infinity` keeps them all. Dead jobs are kept until they are redelivered.
   */
  outboxRetentionMs?: number;
}

/**
 * Options of {@link createPostgresStore}: a `pg` pool you own, or a connection string for a pool
 * the store creates (and ends in `close()`), plus the {@link PostgresStoreSettings}.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const shared: PostgresStoreOptions = { pool: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 }) };
 * const owned: PostgresStoreOptions = { connectionString: process.env.DATABASE_URL!, schema: 'hitl' };
 * ```
 */
export type PostgresStoreOptions = PostgresStoreSettings &
  ({ pool: Pool; connectionString?: undefined } | { connectionString: string; pool?: undefined });

/**
 * An {@link ApprovalStore} on PostgreSQL, with its lifecycle.
 *
 * @example
 * ```ts
 * const store: PostgresStore = createPostgresStore({ connectionString: process.env.DATABASE_URL! });
 * await store.migrate(); // optional: fail fast at startup
 * process.on('SIGTERM', () => void store.close());
 * ```
 */
export interface PostgresStore extends ApprovalStore {
  /** The outbox on `<table>_outbox`: jobs written with each change, claimed with `FOR UPDATE SKIP LOCKED`. */
  readonly outbox: OutboxStore;
  /** `"schema"."table"`, as the store's SQL names it. */
  readonly tableName: string;
  /**
   * Runs the migrations (once per store; every method waits for them anyway) and starts the LISTEN
   * connection and the sweeper. Call it at startup to fail fast when the database is unreachable.
   */
  migrate(): Promise<void>;
  /**
   * Four eyes: one approval of a request that needs several, as one `UPDATE` (see `ApprovalStore.addApproval`).
   *
   * @example
   * ```ts
   * const at = new Date().toISOString();
   * await store.addApproval(id, { approval: { by: 'alice', at }, required: 2, response: { requestId: id, decision: 'approve', respondedBy: 'alice', respondedAt: at } });
   * ```
   */
  addApproval(id: string, input: AddApprovalInput, options?: AddApprovalWriteOptions): Promise<ApprovalRecord>;
  /**
   * Expires every overdue pending request now, by the database's clock, and deletes finished outbox
   * jobs older than `outboxRetentionMs`; resolves with how many requests it expired.
   */
  sweep(): Promise<number>;
  /** Takes the resume claim of a decided request (see `ApprovalStore.claimResume`): one atomic statement, leases by the database clock. */
  claimResume(requestId: string, owner: string, leaseMs: number): Promise<ResumeClaim | undefined>;
  /** Marks a claimed resume done; true when `owner` held the claim. */
  completeResume(requestId: string, owner: string): Promise<boolean>;
  /** Decided requests marked `metadata.resumeWith` whose resume is not completed, oldest decision first. */
  listUnresumed(query: UnresumedQuery): Promise<UnresumedPage>;
  /** Stops the sweeper, ends the LISTEN connection, and ends the pool if the store created it. */
  close(): Promise<void>;
}

const cursorPattern = /^p(0|[1-9][0-9]{0,18})$/;
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * Creates an {@link ApprovalStore} on PostgreSQL, so approvals survive restarts and every instance
 * behind a load balancer shares them. Pass it to `createManager({ store })`.
 *
 * - The table and its indexes are created on first use, under advisory locks on the schema and the table (safe when many
 *   instances start at once), and never dropped.
 * - `decide` is one `UPDATE … WHERE id = $1 AND status = $2 AND <not expired by the database clock>
 *   RETURNING …`: exactly one decision wins, everywhere.
 * - Every change is `NOTIFY`ed; each store keeps one LISTEN connection that reconnects with backoff
 *   and re-reads what changed meanwhile, so a decision on one instance wakes `waitFor` on all others.
 * - A sweeper expires overdue requests by the database clock, even when their instance is gone.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createPostgresStore } from '@hitl/store-postgres';
 *
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL! });
 * const manager = createManager({ store });
 * const record = await manager.submit({ toolName: 'delete_user', input: { user_id: '42' } });
 * // Any instance on the same database: await manager.respond(record.request.id, { decision: 'approve' });
 * await manager.close();
 * await store.close();
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  const {
    schema,
    table,
    channel,
    sweepIntervalMs,
    sweepBatchSize,
    sweepGraceMs,
    initialDelayMs,
    maxDelayMs,
    heartbeatIntervalMs,
    outboxPollIntervalMs,
    outboxRetentionMs,
    logger,
    notifyRecords,
  } = resolveOptions(options);
  const sql = buildSql(schema, table, { notifyRecords });
  const tableName = sql.qualifiedTable;
  const origin = randomBytes(6).toString('hex');
  const ownsPool = options.pool === undefined;
  const pool: Pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.connectionString,
      fallback_application_name: 'hitl-store-postgres',
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
  const listenerConfig: ClientConfig = {
    connectionTimeoutMillis: 10_000,
    ...(options.listenerConfig ?? (ownsPool ? { connectionString: options.connectionString } : (pool.options as ClientConfig))),
    fallback_application_name: 'hitl-store-postgres',
    keepAlive: true,
  };
  const onPoolError = (error: Error) => {
    logger.warn(`hitl: an idle connection of ${tableName}'s pool failed`, error);
  };
  pool.on('error', onPoolError);

  const listeners = new Set<(change: StoreChange) => void>();
  const feed = createChangeFeed({
    sql,
    tableName,
    channel,
    origin,
    clientConfig: listenerConfig,
    reconnect: { initialDelayMs, maxDelayMs, heartbeatIntervalMs },
    logger,
    listeners,
    trustCarriedRecords: notifyRecords,
    onGrant: (payload) => grants.onNotification(payload),
    onListening: () => grants.catchUp(),
  });

  let closed = false;
  let closing: Promise<void> | undefined;
  let ready = false;
  let readying: Promise<void> | undefined;

  const closedError = () => new HitlError('store_unavailable', `the PostgreSQL store on ${tableName} is closed`);

  const { run, failure } = createStatementRunner(pool, tableName);
  const sweeper = createSweeper({
    sql,
    run,
    feed,
    channel,
    origin,
    tableName,
    intervalMs: sweepIntervalMs,
    batchSize: sweepBatchSize,
    graceMs: sweepGraceMs,
    outboxRetentionMs,
    logger,
    isClosed: () => closed,
  });

  const initialize = async (): Promise<void> => {
    await runMigrations(pool, sql, schema, failure);
    const [row] = await run<{ high_water: string }>('read its latest change', sql.highWater, []);
    if (closed) return;
    feed.start(BigInt(row?.high_water ?? '0'));
    sweeper.schedule();
  };

  const ensureReady = (): Promise<void> => {
    if (closed) return Promise.reject(closedError());
    if (ready) return Promise.resolve();
    readying ??= initialize().then(
      () => {
        ready = true;
      },
      (error: unknown) => {
        readying = undefined;
        throw error;
      },
    );
    return readying;
  };

  const grants = createGrantStore({
    pool,
    sql: buildGrantSql(schema, table, tableName, RECORD_COLUMNS, (channelParameter, originParameter) =>
      notify('decided', channelParameter, originParameter, notifyRecords),
    ),
    run,
    failure,
    ensureReady,
    channel,
    origin,
    tableName,
    logger,
    deliver: (stored) => feed.deliver(stored),
    addApproval: sql.addApproval,
    jobs: { statement: sql.outbox.insertJobs, parameter: jobsParameter },
  });

  const requireRecordId = (value: unknown): string => {
    if (typeof value !== 'string' || value === '') throw invalidInput('id', value, 'must be a non-empty string');
    return value;
  };

  const outbox = createPostgresOutbox({ sql: sql.outbox, run, ensureReady, pollIntervalMs: outboxPollIntervalMs });
  /** The statement and values of a write, with the outbox jobs (one more parameter) when there are any. */
  const withJobs = (
    statement: Statement,
    values: unknown[],
    options: StoreWriteOptions | undefined,
    when?: string,
  ): [Statement, unknown[]] => {
    if (options?.jobs === undefined || options.jobs.length === 0) return [statement, values];
    return [sql.outbox.withJobs(statement, values.length + 1, when), [...values, jobsParameter(options.jobs)]];
  };
  const resumeClaims = createResumeClaims({ schema, table, tableName, run, ensureReady });

  /** Runs a write that returns the changed row, and delivers that change to subscribers; undefined when it changed nothing. */
  const writeRecord = async (action: string, statement: Statement, values: unknown[]): Promise<ApprovalRecord | undefined> => {
    await ensureReady();
    const [row] = await run<RecordRow>(action, statement, values);
    if (!row) return undefined;
    const stored = rowToStored(row, tableName);
    feed.deliver(stored);
    return stored.record;
  };
  /** Why a decide or an approval changed nothing: the request's status and expiry as they are now. */
  const readDecideFailure = async (id: string) =>
    (await run<{ status: string; expires_ms: string | null; expired: string }>('read a request', sql.decideFailure, [id]))[0];

  const store: PostgresStore = {
    tableName,
    ...resumeClaims,
    ...grants.methods,
    outbox,

    async create(record: ApprovalRecord, options?: StoreWriteOptions): Promise<CreateResult> {
      const parameters = insertParameters(record);
      const approvalParameters = approvalInsertParameters(record);
      const [insert, values] = withJobs(sql.insert, [...parameters, channel, origin, ...approvalParameters], options);
      const created = await writeRecord('store a request', insert, values);
      if (created) return { record: created, created: true };
      const [existing] = await run<RecordRow>('read a request', sql.get, [parameters[0]]);
      if (!existing) {
        throw new HitlError('store_unavailable', `request '${String(parameters[0])}' was neither stored nor found in ${tableName}`, {
          details: { ids: [String(parameters[0])] },
        });
      }
      return { record: rowToStored(existing, tableName).record, created: false };
    },

    async get(id: string): Promise<ApprovalRecord | undefined> {
      requireRecordId(id);
      await ensureReady();
      const [row] = await run<RecordRow>('read a request', sql.get, [id]);
      return row ? rowToStored(row, tableName).record : undefined;
    },

    async getMany(ids: readonly string[]): Promise<ApprovalRecord[]> {
      const unique = [...new Set(checkGetManyIds(ids))];
      if (unique.length === 0) return [];
      await ensureReady();
      const rows = await run<RecordRow>('read requests', sql.getMany, [unique]);
      return rows.map((row) => rowToStored(row, tableName).record);
    },

    async list(query: ListQuery = {}): Promise<ListResult> {
      if (!isRecord(query)) throw invalidInput('query', query, 'must be an object');
      const normalized = normalizeListQuery(query);
      const { cursor, limit } = normalized;
      let before: string | undefined;
      if (cursor !== undefined) {
        const match = typeof cursor === 'string' ? cursorPattern.exec(cursor) : null;
        if (!match || BigInt(match[1] as string) > MAX_BIGINT) throw invalidInput('cursor', cursor, 'is not a cursor returned by list');
        before = match[1] as string;
      }
      await ensureReady();
      const filters = LIST_FILTERS.filter((filter) => normalized[filter] !== undefined);
      const values: unknown[] = filters.map((filter) => normalized[filter]);
      if (before !== undefined) values.push(before);
      values.push(limit + 1);
      const statement = sql.list(filters, before !== undefined);
      const rows = await run<RecordRow>('list requests', statement, values);
      const page = rows.slice(0, limit).map((row) => rowToStored(row, tableName));
      const result: ListResult = { items: page.map((stored) => stored.record) };
      const last = page.at(-1);
      if (rows.length > limit && last) result.nextCursor = `p${last.seq}`;
      return result;
    },

    async decide(id: string, expectedStatus: RequestStatus, patch: DecidePatch, options?: StoreWriteOptions): Promise<ApprovalRecord> {
      requireRecordId(id);
      if (!isRequestStatus(expectedStatus)) throw invalidInput('expectedStatus', expectedStatus, 'is not a request status');
      const [status, response, closedAt, closedReason] = decideParameters(patch);
      const [statement, values] = withJobs(
        status === 'expired' ? sql.decideExpired : sql.decide,
        [id, expectedStatus, status, response, closedAt, closedReason, channel, origin],
        options,
      );
      const decided = await writeRecord('decide a request', statement, values);
      if (decided) return decided;
      const current = await readDecideFailure(id);
      if (!current) throw new HitlError('not_found', `request '${id}' does not exist`, { details: { ids: [id] } });
      if (current.status !== expectedStatus)
        throw new HitlError('conflict', `request '${id}' is already ${current.status}`, { details: { ids: [id] } });
      const expiresAt = current.expires_ms === null ? undefined : new Date(Number(current.expires_ms)).toISOString();
      if (status !== 'expired' && current.expired === 'true') {
        throw new HitlError('conflict', `request '${id}' expired at ${expiresAt}`, { details: { ids: [id] } });
      }
      if (status === 'expired' && current.expired !== 'true') {
        throw new HitlError(
          'conflict',
          expiresAt === undefined
            ? `request '${id}' never expires`
            : `request '${id}' has not expired yet by the database clock (it expires at ${expiresAt})`,
          { details: { ids: [id] } },
        );
      }
      throw new HitlError('conflict', `request '${id}' changed while it was being decided`, { details: { ids: [id] } });
    },

    async addApproval(id: string, input: AddApprovalInput, options?: AddApprovalWriteOptions): Promise<ApprovalRecord> {
      requireRecordId(id);
      const parameters = addApprovalParameters(id, input, toTimestampParameter('input.approval.at', input.approval.at));
      // In the same statement: the decision's jobs only when this approval completed the quorum, the
      // partial approval's (another approver is needed) only when the request stayed pending.
      const values: unknown[] = [...parameters, channel, origin];
      const groups: { parameter: number; when: string }[] = [];
      for (const [jobs, when] of [
        [options?.jobs, "written.status = 'approved'"],
        [options?.partialJobs, "written.status = 'pending'"],
      ] as const) {
        if (jobs === undefined || jobs.length === 0) continue;
        values.push(jobsParameter(jobs));
        groups.push({ parameter: values.length, when });
      }
      const statement = groups.length === 0 ? sql.addApproval : sql.outbox.withJobGroups(sql.addApproval, groups);
      const approved = await writeRecord('record an approval', statement, values);
      if (approved) return approved;
      const current = await readDecideFailure(id);
      const [latest] = current?.status === 'pending' ? await run<RecordRow>('read a request', sql.get, [id]) : [];
      const expiresAt = current?.expires_ms ? new Date(Number(current.expires_ms)).toISOString() : undefined;
      throw approvalRefusal(
        id,
        input.approval.by,
        current && { ...current, ...(expiresAt ? { expiresAt } : {}) },
        latest && rowToStored(latest, tableName).record,
      );
    },

    subscribe(listener: (change: StoreChange) => void): () => void {
      if (typeof listener !== 'function') throw invalidInput('listener', listener, 'must be a function');
      if (closed) throw closedError();
      listeners.add(listener);
      ensureReady().catch((error: unknown) => {
        if (!closed) logger.warn(`hitl: the PostgreSQL store on ${tableName} could not start; it retries on its next use`, error);
      });
      return () => {
        listeners.delete(listener);
      };
    },

    migrate(): Promise<void> {
      return ensureReady();
    },

    async sweep(): Promise<number> {
      await ensureReady();
      return sweeper.sweepNow(0);
    },

    close(): Promise<void> {
      closing ??= (async () => {
        closed = true;
        sweeper.stop();
        listeners.clear();
        grants.clear();
        await feed.close();
        await readying?.catch(() => undefined);
        await sweeper.idle();
        pool.removeListener('error', onPoolError);
        if (ownsPool) await pool.end().catch(() => undefined);
      })();
      return closing;
    },
  };
  return store;
}
