/** Reads stored requests from a @hitl/store-postgres table in a READ ONLY transaction, for `hitl replay`. */
import type { InteractionResponse, PolicyEvaluation, RequestStatus, StoredRequest } from '@hitl/core';
import { CliError, ExitCode, usageError } from './exit-codes.js';

/** What replay needs of a stored record. */
export interface StoredDecision {
  request: StoredRequest;
  status: RequestStatus;
  evaluation: PolicyEvaluation;
  /** Once decided: who or what decided (`metadata.cause: 'grant'` for a grant that decided it while pending). */
  response?: InteractionResponse;
  createdAt: string;
}

export interface ReplaySource {
  databaseUrl: string;
  schema: string;
  table: string;
  /** Only records created at or after this instant. */
  since?: Date | undefined;
  limit: number;
}

/** The most records one replay reads. */
export const MAX_REPLAY_LIMIT = 100_000;
/** How long the read may take, in ms, before PostgreSQL cancels it. */
const STATEMENT_TIMEOUT_MS = 60_000;

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** A schema or table name as the store accepts them (lower-case letters, digits, `_`). */
export function requireIdentifier(flag: string, value: string): string {
  if (!identifier.test(value))
    throw usageError(`${flag} '${value}' must be lower-case letters, digits and _ (at most 63), as @hitl/store-postgres names it`);
  return value;
}

const durationPattern = /^(\d{1,9})(s|m|h|d)$/;
const unitMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO 8601 instant, or a duration back from `now` (`90s`, `30m`, `24h`, `7d`). */
export function parseSince(value: string, now: number): Date {
  const duration = durationPattern.exec(value);
  if (duration) return new Date(now - Number(duration[1]) * (unitMs[duration[2] as string] ?? 0));
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw usageError(`--since '${value}' must be an ISO 8601 time (2026-11-30T12:00:00Z) or a duration (90s, 30m, 24h, 7d)`);
  return date;
}

/** `--limit`: a whole number in 1..MAX_REPLAY_LIMIT. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined) return 1000;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_REPLAY_LIMIT)
    throw usageError(`--limit '${value}' must be a whole number from 1 to ${MAX_REPLAY_LIMIT}`);
  return limit;
}

interface Row {
  request: string;
  evaluation: string;
  response: string | null;
  status: RequestStatus;
  created_ms: string;
}

/** The connection string without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/**
 * Reads the newest `limit` records (since `since`) in one `BEGIN READ ONLY` transaction with a
 * statement timeout, then rolls back: nothing is written, not even the store's migrations.
 */
export async function readStoredDecisions(source: ReplaySource): Promise<StoredDecision[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: source.databaseUrl,
    connectionTimeoutMillis: 10_000,
    application_name: 'hitl-cli-replay',
  });
  client.on('error', () => undefined);
  const table = `"${source.schema}"."${source.table}"`;
  const where = redactUrl(source.databaseUrl);
  try {
    await client.connect();
  } catch (error) {
    throw new CliError(ExitCode.Unavailable, `cannot connect to ${where}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    await client.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
    const result = await client.query<Row>(
      `SELECT request::text AS request, evaluation::text AS evaluation, response::text AS response, status,
  floor(extract(epoch FROM created_at) * 1000)::bigint::text AS created_ms
FROM ${table}
WHERE $1::timestamptz IS NULL OR created_at >= $1::timestamptz
ORDER BY seq DESC
LIMIT $2`,
      [source.since?.toISOString() ?? null, source.limit],
    );
    return result.rows.map((row) => {
      const decision: StoredDecision = {
        request: JSON.parse(row.request) as StoredRequest,
        evaluation: JSON.parse(row.evaluation) as PolicyEvaluation,
        status: row.status,
        createdAt: new Date(Number(row.created_ms)).toISOString(),
      };
      const response = row.response === null ? null : (JSON.parse(row.response) as InteractionResponse | null);
      if (response !== null) decision.response = response;
      return decision;
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message =
      code === '42P01'
        ? `the table ${table} does not exist at ${where} (see --schema and --table)`
        : `cannot read ${table} at ${where}: ${(error as Error).message}`;
    throw new CliError(ExitCode.Unavailable, message, { cause: error });
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
