/** The sweeper: expires overdue requests by the database clock on an interval, even when their instance is gone, and deletes old finished outbox jobs. */
import type { Logger } from '@hitl/core';
import type { ChangeFeed } from './change-feed.js';
import type { RecordRow } from './records.js';
import type { StoreSql } from './sql.js';
import type { StatementRunner } from './statement-runner.js';

/** Sweep queries in one tick at most, so one tick never runs unbounded. */
const MAX_SWEEP_ROUNDS = 10;

export interface SweeperOptions {
  sql: StoreSql;
  run: StatementRunner['run'];
  feed: Pick<ChangeFeed, 'deliverRow'>;
  channel: string;
  origin: string;
  tableName: string;
  intervalMs: number;
  batchSize: number;
  graceMs: number;
  /** Finished outbox jobs older than this are deleted, `batchSize` per sweep; `Infinity` keeps them. */
  outboxRetentionMs: number;
  logger: Logger;
  isClosed: () => boolean;
}

export interface Sweeper {
  /** Arms the next tick (unless closed, disabled by an infinite interval, or armed already). */
  schedule(): void;
  /** Sweeps now with `graceMs`; concurrent calls share one sweep. Resolves with how many it expired. */
  sweepNow(graceMs: number): Promise<number>;
  /** Disarms the timer (the store is closing). */
  stop(): void;
  /** Resolves when no sweep is in progress (a failed one included). */
  idle(): Promise<void>;
}

export function createSweeper({
  sql,
  run,
  feed,
  channel,
  origin,
  tableName,
  intervalMs,
  batchSize,
  graceMs,
  outboxRetentionMs,
  logger,
  isClosed,
}: SweeperOptions): Sweeper {
  let sweepTimer: ReturnType<typeof setTimeout> | undefined;
  let sweeping: Promise<number> | undefined;
  let sweepFailing = false;

  let purgeFailing = false;
  /** Deletes old finished outbox jobs; a failure (a runtime role without DELETE) is logged once per streak and never stops the expiry. */
  const purgeFinishedJobs = async () => {
    try {
      await run('delete finished outbox jobs', sql.outbox.purgeDone, [outboxRetentionMs, batchSize]);
      purgeFailing = false;
    } catch (error) {
      if (!purgeFailing && !isClosed()) {
        logger.warn(
          `hitl: the sweeper of ${tableName} could not delete finished outbox jobs (its role needs DELETE on the outbox table; ` +
            'or set outboxRetentionMs: Infinity); expiring requests goes on',
          error,
        );
      }
      purgeFailing = true;
    }
  };

  const sweepNow = (grace: number): Promise<number> => {
    sweeping ??= (async () => {
      let total = 0;
      try {
        for (let round = 0; round < MAX_SWEEP_ROUNDS && !isClosed(); round++) {
          const rows = await run<RecordRow>('expire overdue requests', sql.sweep, [batchSize, channel, origin, grace]);
          for (const row of rows) feed.deliverRow(row);
          total += rows.length;
          if (rows.length < batchSize) break;
        }
        if (Number.isFinite(outboxRetentionMs) && !isClosed()) await purgeFinishedJobs();
        return total;
      } finally {
        sweeping = undefined;
      }
    })();
    return sweeping;
  };

  const schedule = () => {
    if (isClosed() || !Number.isFinite(intervalMs) || sweepTimer !== undefined) return;
    sweepTimer = setTimeout(() => {
      sweepTimer = undefined;
      sweepNow(graceMs)
        .then(
          () => {
            if (sweepFailing) logger.info?.(`hitl: the sweeper of ${tableName} works again`);
            sweepFailing = false;
          },
          (error: unknown) => {
            // Once per failure streak: a database that is down for a while should not flood the log.
            if (!isClosed() && !sweepFailing)
              logger.warn(`hitl: the sweeper of ${tableName} failed; it keeps trying every ${intervalMs} ms`, error);
            sweepFailing = true;
          },
        )
        .finally(schedule);
    }, intervalMs);
    sweepTimer.unref();
  };

  return {
    schedule,
    sweepNow,
    stop() {
      if (sweepTimer !== undefined) clearTimeout(sweepTimer);
      sweepTimer = undefined;
    },
    async idle() {
      await sweeping?.catch(() => undefined);
    },
  };
}
