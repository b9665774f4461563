/** Options of the PostgreSQL store: checked once, with the defaults filled in (names, sweeper, reconnect backoff). */
import type { Logger } from '@hitl/core';
import { invalidInput, isRecord } from '@hitl/core/internal';
import type { PostgresStoreOptions } from './postgres-store.js';
import { defaultChannel, requireChannel, requireSchema, requireTable } from './sql.js';

function positiveNumber(field: string, value: unknown, fallback: number, { allowInfinity = false } = {}): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw invalidInput(field, value, `must be a positive number${allowInfinity ? ' (or Infinity)' : ''}`);
  }
  return value;
}

export function validateOptions(options: unknown): asserts options is PostgresStoreOptions {
  if (!isRecord(options)) throw invalidInput('options', options, 'must be an object with pool or connectionString');
  const { pool, connectionString } = options;
  if (pool !== undefined && connectionString !== undefined) {
    throw invalidInput('options.connectionString', connectionString, 'cannot be given together with options.pool');
  }
  if (pool === undefined && connectionString === undefined) {
    throw invalidInput('options.pool', pool, 'is required (or options.connectionString)');
  }
  if (pool !== undefined && (!isRecord(pool) || typeof pool.query !== 'function' || typeof pool.connect !== 'function')) {
    throw invalidInput('options.pool', pool, 'must be a pg Pool');
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString.trim() === '')) {
    throw invalidInput('options.connectionString', connectionString, 'must be a non-empty string');
  }
  if (options.reconnect !== undefined && !isRecord(options.reconnect))
    throw invalidInput('options.reconnect', options.reconnect, 'must be an object');
  if (options.listenerConfig !== undefined && !isRecord(options.listenerConfig)) {
    throw invalidInput('options.listenerConfig', options.listenerConfig, 'must be a pg client config object');
  }
  const logger = options.logger as Partial<Logger> | undefined;
  if (logger !== undefined && (!isRecord(logger) || typeof logger.warn !== 'function' || typeof logger.error !== 'function')) {
    throw invalidInput('options.logger', logger, 'must have warn and error functions');
  }
}

/** The store's settings: every option checked, every default filled in. */
export interface ResolvedOptions {
  schema: string;
  table: string;
  channel: string;
  sweepIntervalMs: number;
  sweepBatchSize: number;
  sweepGraceMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  heartbeatIntervalMs: number;
  outboxPollIntervalMs: number;
  outboxRetentionMs: number;
  logger: Logger;
  notifyRecords: boolean;
}

/** Checks `options` (throws `HitlError('invalid_input')` naming the field) and fills in the defaults. */
export function resolveOptions(options: PostgresStoreOptions): ResolvedOptions {
  validateOptions(options);
  const {
    schema: schemaOption = 'public',
    table: tableOption = 'hitl_requests',
    sweepIntervalMs: sweepOption,
    sweepBatchSize: batchOption,
    sweepGraceMs: graceOption,
    reconnect: reconnectOption = {},
    logger = console as Logger,
    notifyRecords = false,
  } = options;
  if (typeof notifyRecords !== 'boolean') throw invalidInput('options.notifyRecords', notifyRecords, 'must be a boolean');
  const schema = requireSchema(schemaOption);
  const table = requireTable(tableOption);
  const channel = options.channel === undefined ? defaultChannel(schema, table) : requireChannel(options.channel);
  const sweepIntervalMs = positiveNumber('options.sweepIntervalMs', sweepOption, 1_000, { allowInfinity: true });
  const sweepBatchSize = positiveNumber('options.sweepBatchSize', batchOption, 500);
  if (!Number.isInteger(sweepBatchSize) || sweepBatchSize > 10_000) {
    throw invalidInput('options.sweepBatchSize', sweepBatchSize, 'must be an integer from 1 to 10000');
  }
  const sweepGraceMs = graceOption === undefined ? 2_000 : graceOption;
  if (typeof sweepGraceMs !== 'number' || !Number.isFinite(sweepGraceMs) || sweepGraceMs < 0) {
    throw invalidInput('options.sweepGraceMs', sweepGraceMs, 'must be a number of ms, 0 or more');
  }
  const initialDelayMs = positiveNumber('options.reconnect.initialDelayMs', reconnectOption.initialDelayMs, 100);
  const maxDelayMs = positiveNumber('options.reconnect.maxDelayMs', reconnectOption.maxDelayMs, Math.max(5_000, initialDelayMs));
  const heartbeatIntervalMs = positiveNumber('options.reconnect.heartbeatIntervalMs', reconnectOption.heartbeatIntervalMs, 10_000);
  if (maxDelayMs < initialDelayMs) {
    throw invalidInput(
      'options.reconnect.maxDelayMs',
      maxDelayMs,
      `must not be below options.reconnect.initialDelayMs (${initialDelayMs})`,
    );
  }
  const outboxPollIntervalMs = positiveNumber('options.outboxPollIntervalMs', options.outboxPollIntervalMs, 1_000);
  const outboxRetentionMs = positiveNumber('options.outboxRetentionMs', options.outboxRetentionMs, 604_800_000, { allowInfinity: true });
  return {
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
  };
}
