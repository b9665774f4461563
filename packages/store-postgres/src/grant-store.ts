/**
 * The PostgreSQL store's grant methods and decideMany: grants in their own table, a use counted by
 * one atomic UPDATE (database clock), grant changes NOTIFYed on the store's channel, and decideMany
 * (with respond's grant) in one transaction.
 * Over 300 lines because every grant method and decideMany share one closure: the query and transaction helpers, the listeners.
 */
import { HitlError } from '@hitl/core';
import { errorMessage, invalidInput, isRecord, matchesGrantQuery } from '@hitl/core/internal';
import type {
  ApprovalRecord,
  ApprovalStoreGrants,
  DecideManyItem,
  Grant,
  GrantChange,
  GrantQuery,
  Logger,
  OutboxJobInput,
} from '@hitl/core';
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import type { GrantSql } from './grant-sql.js';
import { addApprovalParameters } from './approvals-sql.js';
import { decideParameters, rowToStored, toTimestampParameter, type RecordRow, type StoredRow } from './records.js';
import type { Statement } from './sql.js';
import type { StatementRunner } from './statement-runner.js';

/** The most live grants re-read after a (re)connect. */
const CATCH_UP_GRANTS = 100_000;

/** A grant row as read: every column as text. */
interface GrantRow {
  id: string;
  effect: string;
  tool_pattern: string;
  condition: string | null;
  thread_id: string | null;
  run_id: string | null;
  requested_by: string | null;
  expires_ms: string | null;
  max_uses: string | null;
  uses: string;
  granted_by: string;
  created_ms: string;
  reason: string | null;
  revoked_ms: string | null;
  revoked_by: string | null;
  source_request_id: string | null;
}

const isoOf = (ms: string) => new Date(Number(ms)).toISOString();

function rowToGrant(row: GrantRow): Grant {
  const scope: Grant['scope'] = {};
  if (row.thread_id !== null) scope.threadId = row.thread_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  if (row.requested_by !== null) scope.requestedBy = row.requested_by;
  const grant: Grant = {
    id: row.id,
    effect: row.effect === 'deny' ? 'deny' : 'approve',
    toolPattern: row.tool_pattern,
    scope,
    uses: Number(row.uses),
    grantedBy: row.granted_by,
    createdAt: isoOf(row.created_ms),
  };
  if (row.condition !== null) grant.when = row.condition;
  if (row.expires_ms !== null) grant.expiresAt = isoOf(row.expires_ms);
  if (row.max_uses !== null) grant.maxUses = Number(row.max_uses);
  if (row.reason !== null) grant.reason = row.reason;
  if (row.revoked_ms !== null) grant.revokedAt = isoOf(row.revoked_ms);
  if (row.revoked_by !== null) grant.revokedBy = row.revoked_by;
  if (row.source_request_id !== null) grant.sourceRequestId = row.source_request_id;
  return Object.freeze(grant);
}

function grantParameters(grant: Grant): unknown[] {
  if (!isRecord(grant) || typeof grant.id !== 'string' || grant.id === '') throw invalidInput('grant', grant, 'must be a Grant with an id');
  return [
    grant.id,
    grant.effect,
    grant.toolPattern,
    grant.when ?? null,
    grant.scope?.threadId ?? null,
    grant.scope?.runId ?? null,
    grant.scope?.requestedBy ?? null,
    grant.expiresAt ?? null,
    grant.maxUses ?? null,
    grant.grantedBy,
    grant.createdAt,
    grant.reason ?? null,
    grant.sourceRequestId ?? null,
  ];
}

export interface GrantStoreContext {
  pool: Pool;
  sql: GrantSql;
  run: StatementRunner['run'];
  failure: StatementRunner['failure'];
  ensureReady(): Promise<void>;
  channel: string;
  origin: string;
  tableName: string;
  logger: Logger;
  /** Hands decided rows to the change feed. */
  deliver(stored: StoredRow): void;
  /** Four eyes: the store's addApproval statement, run inside decideMany's transaction for approval items. */
  addApproval: Statement;
  /** Writes outbox jobs inside decideMany's transaction: the statement and its JSON parameter. */
  jobs: { statement: Statement; parameter(jobs: readonly OutboxJobInput[]): string };
}

/** The grant methods, plus `onNotification` for the change feed's grant notifications and `clear` for close. */
export function createGrantStore(context: GrantStoreContext) {
  const { pool, sql, run, failure, ensureReady, channel, origin, tableName, logger, deliver, addApproval } = context;
  const listeners = new Set<(change: GrantChange) => void>();

  /** Grants whose creation the subscribers have heard of, so a catch-up tells only what they missed. */
  const known = new Set<string>();

  const emit = (change: GrantChange) => {
    known.add(change.grant.id);
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        logger.error('hitl: a grant subscriber threw', error);
      }
    }
  };

  const query = async (client: PoolClient, statement: Statement, values: unknown[]) =>
    client.query({ name: statement.name, text: statement.text, values });

  /** Runs `body` in one transaction on one pooled connection; a connection left in doubt is discarded. */
  const transaction = async <T>(action: string, body: (client: PoolClient) => Promise<T>): Promise<T> => {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw failure(action, error);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        const result = await body(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } catch (error) {
      if (!HitlError.is(error) && !(error instanceof pg.DatabaseError)) broken = true;
      throw failure(action, error);
    } finally {
      client.release(broken);
    }
  };

  const methods: Required<Omit<ApprovalStoreGrants, 'useGrantNow'>> = {
    async createGrant(grant: Grant): Promise<Grant> {
      const parameters = grantParameters(grant);
      await ensureReady();
      const [row] = await run<GrantRow>('store a grant', sql.insertGrant, [...parameters, channel, origin]);
      if (!row) throw new HitlError('store_unavailable', `grant '${grant.id}' was not stored in ${tableName}`);
      const stored = rowToGrant(row);
      emit({ type: 'grant-created', grant: stored });
      return stored;
    },

    async getGrant(id: string): Promise<Grant | undefined> {
      await ensureReady();
      const [row] = await run<GrantRow>('read a grant', sql.getGrant, [id]);
      return row ? rowToGrant(row) : undefined;
    },

    async revokeGrant(id: string, { revokedBy, revokedAt }): Promise<Grant> {
      await ensureReady();
      const [row] = await run<GrantRow>('revoke a grant', sql.revokeGrant, [id, revokedAt, revokedBy, channel, origin]);
      if (row) {
        const revoked = rowToGrant(row);
        emit({ type: 'grant-revoked', grant: revoked });
        return revoked;
      }
      const [current] = await run<GrantRow>('read a grant', sql.getGrant, [id]);
      if (!current) throw new HitlError('not_found', `grant '${id}' does not exist`, { details: { ids: [id] } });
      return rowToGrant(current);
    },

    async listGrants(grantQuery: GrantQuery & { at: string }): Promise<Grant[]> {
      await ensureReady();
      const rows = await run<GrantRow>('list grants', sql.listGrants, [
        grantQuery.active ?? null,
        grantQuery.threadId ?? null,
        grantQuery.tool === undefined ? (grantQuery.limit ?? 100) : 100_000,
      ]);
      let grants = rows.map(rowToGrant);
      if (grantQuery.tool !== undefined) {
        const tool = { tool: grantQuery.tool };
        grants = grants.filter((grant) => matchesGrantQuery(grant, tool, 0)).slice(0, grantQuery.limit ?? 100);
      }
      return grants;
    },

    /** The database clock judges expiry: `at` is not used. */
    async useGrant(id: string): Promise<Grant | undefined> {
      await ensureReady();
      const [row] = await run<GrantRow>('count a use of a grant', sql.useGrant, [id]);
      return row ? rowToGrant(row) : undefined;
    },

    async releaseGrantUse(id: string): Promise<Grant | undefined> {
      await ensureReady();
      const [row] = await run<GrantRow>('give back a use of a grant', sql.releaseGrantUse, [id]);
      return row ? rowToGrant(row) : undefined;
    },

    async decideMany(items: DecideManyItem[], options?: { grant?: Grant }): Promise<ApprovalRecord[]> {
      if (!Array.isArray(items)) throw invalidInput('items', items, 'must be an array');
      const ids = items.map((item) => item.id);
      const columns: [string[], string[], string[], (string | null)[], string[]] = [[], [], [], [], []];
      // Four eyes: approval items run the addApproval statement in the same transaction.
      const approvals = items.flatMap((item) =>
        item.approval === undefined
          ? []
          : [
              {
                id: item.id,
                by: item.approval.approval.by,
                values: addApprovalParameters(item.id, item.approval, toTimestampParameter('approval.at', item.approval.approval.at)),
                jobs: item.jobs ?? [],
                partialJobs: item.partialJobs ?? [],
              },
            ],
      );
      for (const item of items) {
        if (item.approval !== undefined) continue;
        const [status, response, closedAt] = decideParameters(item.patch);
        columns[0].push(item.id);
        columns[1].push(item.expectedStatus);
        columns[2].push(status);
        columns[3].push(response);
        columns[4].push(closedAt);
      }
      const grantValues = options?.grant === undefined ? undefined : grantParameters(options.grant);
      const jobs = items.flatMap((item) => (item.approval === undefined ? (item.jobs ?? []) : []));
      await ensureReady();
      const { rows, grantRow } = await transaction('decide requests together', async (client) => {
        const locked = await query(client, sql.lockForDecide, [ids]);
        const found = new Map(locked.rows.map((row: { id: string; status: string; expired: string }) => [row.id, row]));
        const missing = ids.filter((id) => !found.has(id));
        if (missing.length > 0)
          throw new HitlError(
            'not_found',
            `nothing was decided: ${missing.length} request(s) do not exist: ${missing.slice(0, 20).join(', ')}`,
            { details: { ids: missing } },
          );
        const refused = items.filter((item) => {
          const row = found.get(item.id);
          return row?.status !== (item.expectedStatus ?? 'pending') || row.expired === 'true';
        });
        if (refused.length > 0) {
          const refusedIds = refused.map((item) => item.id);
          throw new HitlError(
            'conflict',
            `nothing was decided: ${refusedIds.length} request(s) are no longer pending or have expired: ${refusedIds.slice(0, 20).join(', ')}`,
            {
              details: { ids: refusedIds },
            },
          );
        }
        const decided = await query(client, sql.decideMany, [...columns, channel, origin]);
        if (decided.rows.length !== items.length - approvals.length)
          throw new HitlError('conflict', 'nothing was decided: the requests changed while they were being decided', { details: { ids } });
        for (const approval of approvals) {
          const [row] = (await query(client, addApproval, [...approval.values, channel, origin])).rows as RecordRow[];
          if (row === undefined) {
            const refused = approval.values[0] as string;
            throw new HitlError(
              'conflict',
              `nothing was decided: '${approval.by}' has already approved request '${refused}'; another reviewer must approve it`,
              {
                details: { field: 'respondedBy', value: approval.by, ids: [refused] },
              },
            );
          }
          // Four eyes: an approval's jobs are the decision's, written only when it completed the quorum;
          // its partial jobs (another approver is needed) only when the request stayed pending.
          if (row.status === 'approved') jobs.push(...approval.jobs);
          else jobs.push(...approval.partialJobs);
          decided.rows.push(row);
        }
        if (jobs.length > 0) await query(client, context.jobs.statement, [context.jobs.parameter(jobs)]);
        const inserted =
          grantValues === undefined ? undefined : (await query(client, sql.insertGrant, [...grantValues, channel, origin])).rows[0];
        return { rows: decided.rows as RecordRow[], grantRow: inserted as GrantRow | undefined };
      });
      const byId = new Map<string, ApprovalRecord>();
      for (const row of rows) {
        const stored = rowToStored(row, tableName);
        deliver(stored);
        byId.set(stored.record.request.id, stored.record);
      }
      if (grantRow !== undefined) emit({ type: 'grant-created', grant: rowToGrant(grantRow) });
      return ids.map((id) => byId.get(id) as ApprovalRecord);
    },

    subscribeGrants(listener: (change: GrantChange) => void): () => void {
      if (typeof listener !== 'function') throw invalidInput('listener', listener, 'must be a function');
      listeners.add(listener);
      ensureReady().catch(() => undefined);
      return () => {
        listeners.delete(listener);
      };
    },
  };

  /** A grant notification from another instance: read the row, then tell the subscribers. */
  const onNotification = (payload: { id: string; kind: GrantChange['type']; origin: string }) => {
    if (payload.origin === origin || listeners.size === 0) return;
    run<GrantRow>('read a grant', sql.getGrant, [payload.id]).then(
      ([row]) => {
        if (row) emit({ type: payload.kind, grant: rowToGrant(row) });
      },
      (error: unknown) => logger.warn(`hitl: could not read grant '${payload.id}' of ${tableName}: ${errorMessage(error)}`),
    );
  };

  /**
   * After the LISTEN connection (re)connects: the live grants created while nobody listened are
   * told as created. (A revocation missed meanwhile needs no news: a use is confirmed by the
   * database, which refuses a revoked grant.)
   */
  const catchUp = () => {
    if (listeners.size === 0) return;
    run<GrantRow>('list grants', sql.listGrants, [true, null, CATCH_UP_GRANTS]).then(
      (rows) => {
        for (const row of rows.reverse()) if (!known.has(row.id)) emit({ type: 'grant-created', grant: rowToGrant(row) });
      },
      (error: unknown) => logger.warn(`hitl: could not re-read the grants of ${tableName} after connecting: ${errorMessage(error)}`),
    );
  };

  return { methods, onNotification, catchUp, clear: () => listeners.clear() };
}
