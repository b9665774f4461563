/** The statement runner: runs one prepared statement on the pool and maps a database error to the HitlError a caller should see. */
import { HitlError } from '@hitl/core';
import { errorMessage } from '@hitl/core/internal';
import pg from 'pg';
import type { Pool } from 'pg';
import type { Statement } from './sql.js';

/** Maps an error of `action` to a HitlError. */
export type StoreFailure = (action: string, error: unknown) => HitlError;

export interface StatementRunner {
  /** Runs `statement` with `values`; a failure becomes the HitlError {@link StatementRunner.failure} gives. */
  run<Row extends object>(action: string, statement: Statement, values: unknown[]): Promise<Row[]>;
  failure: StoreFailure;
}

export function createStatementRunner(pool: Pool, tableName: string): StatementRunner {
  /** Database errors in the data class (bad text, out-of-range dates) are the caller's; the rest mean the store is unavailable. */
  const failure = (action: string, error: unknown): HitlError => {
    if (HitlError.is(error)) return error;
    if (error instanceof pg.DatabaseError && typeof error.code === 'string' && error.code.startsWith('22')) {
      return new HitlError('invalid_input', `PostgreSQL refused to ${action}: ${error.message}`, { cause: error });
    }
    return new HitlError('store_unavailable', `the PostgreSQL store on ${tableName} could not ${action}: ${errorMessage(error)}`, {
      cause: error,
    });
  };

  const run = async <Row extends object>(action: string, statement: Statement, values: unknown[]): Promise<Row[]> => {
    try {
      const result = await pool.query<Row>({ name: statement.name, text: statement.text, values });
      return result.rows;
    } catch (error) {
      throw failure(action, error);
    }
  };

  return { run, failure };
}
