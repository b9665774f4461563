// Turns changes (a store's own and, through LISTEN, everyone else's) into `StoreChange`s, each
// delivered once: notified rows are read in batches (or, with notifyRecords, taken from the
// payload), and a reconnect re-reads what was missed. Over 300 lines because the LISTEN handler,
// the batched reads and the catch-up share the feed's state of what was delivered.
import type { ClientConfig, Notification } from 'pg';
import type { Logger, StoreChange } from '@hitl/core';
import { carriedRecordRow } from './carried-record.js';
import { createDeliveredChanges } from './delivered-changes.js';
import { createListenConnection } from './listen-connection.js';
import type { ReconnectOptions } from './listen-connection.js';
import { rowToStored } from './records.js';
import type { RecordRow, StoredRow } from './records.js';
import type { StoreSql } from './sql.js';

/** After a reconnect, changes are re-read from this many sequence numbers before the last one seen (commit order is not sequence order). */
const CATCH_UP_MARGIN = 1_000n;
/** Rows per catch-up query. */
const CATCH_UP_PAGE = 1_000;
/** Ids per read of notified rows. */
const FETCH_BATCH = 500;
/** How many records' last delivered change are remembered to drop duplicates. */
const REMEMBERED_RECORDS = 10_000;

export interface ChangeFeedOptions {
  sql: StoreSql;
  /** The table's name for messages. */
  tableName: string;
  channel: string;
  /** This store's id in NOTIFY payloads, so it can drop the echo of its own changes. */
  origin: string;
  clientConfig: ClientConfig;
  reconnect: Required<ReconnectOptions>;
  logger: Logger;
  /** The store's subscribers, called once per change. */
  listeners: ReadonlySet<(change: StoreChange) => void>;
  /** Deliver the record a decision's notification carries instead of reading the row (`notifyRecords`). */
  trustCarriedRecords?: boolean;
  /** Called with each grant notification (`kind` 'grant-created' or 'grant-revoked'). */
  onGrant?: (payload: { id: string; kind: 'grant-created' | 'grant-revoked'; origin: string }) => void;
  /** Called each time the LISTEN connection is (re)established, before the records' catch-up. */
  onListening?: () => void;
}

/** The part of a store that turns changes (its own and, through LISTEN, everyone else's) into `StoreChange`s. */
export interface ChangeFeed {
  /** Opens the LISTEN connection; changes after sequence number `highWater` are delivered. */
  start(highWater: bigint): void;
  /**
   * Delivers a change read from the database, unless this record's change was delivered already. A
   * record created after the feed started and not delivered before is reported as `created` (with
   * its current status), so its creation is never skipped, whichever way the change arrives first.
   */
  deliver(stored: StoredRow): void;
  /** {@link deliver} for a raw row; a row that is not a record is logged and skipped. */
  deliverRow(row: RecordRow): void;
  close(): Promise<void>;
}

interface NotifyPayload {
  id: string;
  kind: 'created' | 'decided';
  origin: string;
  /** The change's sequence number; absent in notifications from older versions. */
  changeSeq?: bigint;
  /** The decided row, when the sender carries records and it fit the payload. */
  record?: RecordRow;
}

function parsePayload(text: string | undefined): NotifyPayload | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<NotifyPayload> | null;
    if (typeof value !== 'object' || value === null || typeof value.id !== 'string' || typeof value.origin !== 'string') return undefined;
    if (value.kind !== 'created' && value.kind !== 'decided') return undefined;
    const payload: NotifyPayload = { id: value.id, kind: value.kind, origin: value.origin };
    const changeSeq = (value as { change_seq?: unknown }).change_seq;
    if (typeof changeSeq === 'string' && /^[0-9]{1,20}$/.test(changeSeq)) payload.changeSeq = BigInt(changeSeq);
    const record =
      payload.kind === 'decided' ? carriedRecordRow((value as { record?: unknown }).record, payload.id, payload.changeSeq) : undefined;
    if (record) payload.record = record;
    return payload;
  } catch {
    return undefined;
  }
}

/** A grant notification's payload, or undefined for anything else. */
function parseGrantPayload(text: string | undefined): { id: string; kind: 'grant-created' | 'grant-revoked'; origin: string } | undefined {
  if (text === undefined || !text.includes('"grant-')) return undefined;
  try {
    const value = JSON.parse(text) as { id?: unknown; kind?: unknown; origin?: unknown } | null;
    if (value === null || typeof value.id !== 'string' || typeof value.origin !== 'string') return undefined;
    if (value.kind !== 'grant-created' && value.kind !== 'grant-revoked') return undefined;
    return { id: value.id, kind: value.kind, origin: value.origin };
  } catch {
    return undefined;
  }
}

/**
 * Creates the change feed of one store: a dedicated LISTEN connection (not from the pool) that
 * reconnects with exponential backoff, re-LISTENs and then re-reads every row changed since the
 * last change it saw, so nothing decided while it was away is missed. Notified rows are read in
 * batches on that same connection; each change reaches the listeners once, whichever way it
 * arrives (its own write, a notification, a catch-up read).
 */
export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const { sql, tableName, channel, origin, clientConfig, reconnect, logger, listeners, trustCarriedRecords = false } = options;

  const delivered = createDeliveredChanges(REMEMBERED_RECORDS);
  /** Notified ids waiting to be read. */
  const queue = new Set<string>();
  let started = false;
  let closed = false;
  let baseline = 0n;
  let highWater = 0n;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let readFailures = 0;
  let fetching = false;
  let catchUpNeeded = false;
  let catchingUp = false;

  const emit = (change: StoreChange) => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        logger.error('hitl: a store subscriber threw', error);
      }
    }
  };

  const deliver = (stored: StoredRow) => {
    const { record, seq, changeSeq } = stored;
    if (changeSeq > highWater) highWater = changeSeq;
    const id = record.request.id;
    const known = delivered.get(id);
    if (known !== undefined && known >= changeSeq) return;
    let type: StoreChange['type'];
    // Created since the feed started and never delivered: its creation has not been reported yet.
    if (known === undefined && seq > baseline) type = 'created';
    else if (record.status !== 'pending') type = 'decided';
    else if ((record.approvals?.length ?? 0) > 0) type = 'approval-added';
    else return;
    delivered.remember(id, changeSeq);
    emit({ type, record });
  };

  const deliverRow = (row: RecordRow) => {
    let stored: StoredRow;
    try {
      stored = rowToStored(row, tableName);
    } catch (error) {
      logger.error(`hitl: skipped a change of ${tableName}`, error);
      return;
    }
    deliver(stored);
  };

  /** Delivers the record a notification carried; false when it is not a valid record (then the row is read). */
  const deliverCarried = (row: RecordRow): boolean => {
    let stored: StoredRow;
    try {
      stored = rowToStored(row, tableName);
    } catch (error) {
      logger.debug?.(`hitl: a notification of ${tableName} carried a record that is not valid; reading the row instead`, error);
      return false;
    }
    deliver(stored);
    return true;
  };

  /** Retries a failed read later (the connection is still up, so no reconnect will do it). */
  const retryReadsLater = () => {
    if (closed || retryTimer !== undefined) return;
    const delay = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * 2 ** Math.min(readFailures, 20));
    readFailures++;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (catchUpNeeded) void catchUp();
      else void fetchQueued();
    }, delay);
  };

  const fetchQueued = async (): Promise<void> => {
    const reader = connection.reader;
    if (closed || fetching || catchingUp || queue.size === 0 || !reader) return;
    fetching = true;
    const batch: string[] = [];
    for (const id of queue) {
      batch.push(id);
      queue.delete(id);
      if (batch.length === FETCH_BATCH) break;
    }
    let failed = false;
    try {
      const result = await reader.query<RecordRow>({ ...sql.getMany, values: [batch] });
      readFailures = 0;
      if (!closed) for (const row of result.rows) deliverRow(row);
    } catch (error) {
      failed = true;
      for (const id of batch) queue.add(id);
      if (!closed && reader === connection.reader) {
        logger.warn(`hitl: could not read changed rows of ${tableName}; retrying`, error);
        retryReadsLater();
      }
    } finally {
      fetching = false;
    }
    if (!failed) void fetchQueued();
  };

  /** Reads every row changed since the last change seen: what a dropped connection may have missed. */
  const catchUp = async (): Promise<void> => {
    const reader = connection.reader;
    if (closed || catchingUp || !reader) return;
    catchingUp = true;
    catchUpNeeded = false;
    const margin = highWater - CATCH_UP_MARGIN;
    let from = margin > baseline ? margin : baseline;
    try {
      if (listeners.size === 0) {
        // Nobody to tell: skip what happened meanwhile and start again from now.
        const result = await reader.query<{ high_water: string }>(sql.highWater);
        const latest = BigInt(result.rows[0]?.high_water ?? '0');
        if (latest > highWater) highWater = latest;
        if (latest > baseline) baseline = latest;
        return;
      }
      for (;;) {
        const result = await reader.query<RecordRow>({ ...sql.changedSince, values: [from.toString(), CATCH_UP_PAGE] });
        if (closed) return;
        for (const row of result.rows) deliverRow(row);
        const last = result.rows.at(-1);
        if (result.rows.length < CATCH_UP_PAGE || !last) break;
        from = BigInt(last.change_seq);
      }
      readFailures = 0;
    } catch (error) {
      catchUpNeeded = true;
      if (!closed && reader === connection.reader) {
        logger.warn(`hitl: could not re-read the changes of ${tableName} after connecting; retrying`, error);
        retryReadsLater();
      }
    } finally {
      catchingUp = false;
    }
    void fetchQueued();
  };

  const onNotification = (message: Notification) => {
    if (message.channel !== channel) return;
    const grant = parseGrantPayload(message.payload);
    if (grant !== undefined) {
      options.onGrant?.(grant);
      return;
    }
    const payload = parsePayload(message.payload);
    if (!payload) {
      logger.debug?.(`hitl: ignored a notification on channel '${channel}' that hitl did not send`, message.payload);
      return;
    }
    if (listeners.size === 0) return;
    if (payload.origin === origin) {
      // This store's own write: normally delivered when its statement returned. Read it only when
      // that never happened (the commit went through but the reply was lost on the way back).
      if (payload.changeSeq === undefined) return;
      const known = delivered.get(payload.id);
      if (known !== undefined && known >= payload.changeSeq) return;
    }
    // The decided row itself, sent on commit: no read needed (only from stores trusted to carry it).
    if (trustCarriedRecords && payload.record && deliverCarried(payload.record)) return;
    queue.add(payload.id);
    void fetchQueued();
  };

  const connection = createListenConnection({
    clientConfig,
    channel,
    reconnect,
    logger,
    tableName,
    onNotification,
    onListening: async () => {
      options.onListening?.();
      await catchUp();
    },
  });

  return {
    start(initialHighWater) {
      if (started || closed) return;
      started = true;
      baseline = initialHighWater;
      if (initialHighWater > highWater) highWater = initialHighWater;
      connection.open();
    },
    deliver,
    deliverRow,
    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      queue.clear();
      await connection.close();
    },
  };
}
