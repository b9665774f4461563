// The dedicated LISTEN connection of a store: connects, LISTENs, checks itself with a heartbeat and
// reconnects with jittered exponential backoff when it is lost.
import pg from 'pg';
import type { ClientConfig, Notification } from 'pg';
import type { Logger } from '@hitl/core';

/** Appended to the LISTEN connection's `application_name`. */
export const LISTENER_NAME = 'hitl-listener';

/**
 * Backoff between attempts to (re)connect the LISTEN connection, and how often it is checked.
 *
 * @example
 * ```ts
 * const store = createPostgresStore({
 *   connectionString: process.env.DATABASE_URL!,
 *   reconnect: { initialDelayMs: 50, maxDelayMs: 2_000, heartbeatIntervalMs: 5_000 },
 * });
 * ```
 */
export interface ReconnectOptions {
  /** The first delay, in ms. Default 100. */
  initialDelayMs?: number;
  /** The longest delay, in ms; delays double up to it. Default 5 000. */
  maxDelayMs?: number;
  /**
   * How often the LISTEN connection is checked with a `SELECT 1`, in ms; no answer within the same
   * time means it is dead (a half-open TCP connection sends no error) and it is replaced. Default 10 000.
   */
  heartbeatIntervalMs?: number;
}

export interface ListenConnectionOptions {
  clientConfig: ClientConfig;
  channel: string;
  reconnect: Required<ReconnectOptions>;
  logger: Logger;
  /** The table's name for messages. */
  tableName: string;
  onNotification(message: Notification): void;
  /** Called each time the connection is (again) listening: what it missed while away is to be re-read. */
  onListening(): Promise<void>;
}

/** One LISTEN connection that keeps itself alive until closed. */
export interface ListenConnection {
  /** The connection while it is listening, for reads that must see what it was told. */
  readonly reader: pg.Client | undefined;
  /** Opens the connection (once). */
  open(): void;
  close(): Promise<void>;
}

function quoteChannel(channel: string): string {
  return `"${channel}"`;
}

/** Sets the LISTEN up and names the connection '<application_name> hitl-listener' in pg_stat_activity. */
function listenStatement(channel: string): string {
  return `LISTEN ${quoteChannel(channel)}; SELECT set_config('application_name', left(concat_ws(' ', nullif(current_setting('application_name'), ''), '${LISTENER_NAME}'), 63), false)`;
}

/** Checks the connection every `intervalMs`; no answer within the same time calls `onDead`. */
function startHeartbeat(connection: pg.Client, intervalMs: number, onDead: (error: unknown) => void): () => void {
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    const deadline = setTimeout(() => onDead(new Error(`no answer to a heartbeat within ${intervalMs} ms`)), intervalMs);
    deadline.unref();
    connection.query('SELECT 1').then(
      () => {
        clearTimeout(deadline);
        beating = false;
      },
      (error: unknown) => {
        clearTimeout(deadline);
        onDead(error);
      },
    );
  }, intervalMs);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}

/** Ends a connection politely, but never waits long: a half-open socket would not answer. */
async function endQuickly(connection: pg.Client): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    connection.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1_000);
    }),
  ]);
  clearTimeout(timer);
  connection.connection.stream.destroy();
}

/**
 * Creates the LISTEN connection of one store. It is not taken from the pool: it stays open, and a
 * lost one (error, end, or a heartbeat with no answer) is replaced after a backoff delay; each time
 * it listens again `onListening` runs so the caller can catch up.
 */
export function createListenConnection(options: ListenConnectionOptions): ListenConnection {
  const { clientConfig, channel, reconnect, logger, tableName, onNotification, onListening } = options;
  let opened = false;
  let closed = false;
  /** The connection being opened or in use. */
  let client: pg.Client | undefined;
  /** Set once `client` is listening. */
  let listening = false;
  let attempt = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  const scheduleReconnect = () => {
    if (closed || reconnectTimer !== undefined) return;
    const full = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * 2 ** Math.min(attempt, 20));
    attempt++;
    const delay = Math.round(full / 2 + (Math.random() * full) / 2);
    logger.warn(`hitl: the LISTEN connection of ${tableName} is down; reconnecting in ${delay} ms`);
    // Not unref'd: while it waits it stands for the LISTEN socket, which keeps the process alive too.
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const connection = new pg.Client(clientConfig);
    client = connection;
    listening = false;
    let lost = false;
    let stopHeartbeat: (() => void) | undefined = undefined;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      stopHeartbeat?.();
      connection.removeListener('notification', onNotification);
      connection.end().catch(() => undefined);
      // A half-open socket would wait for the server's goodbye forever.
      connection.connection.stream.destroy();
      if (client !== connection) return;
      client = undefined;
      listening = false;
      if (!closed) {
        if (error !== undefined) logger.warn(`hitl: lost the LISTEN connection of ${tableName}`, error);
        scheduleReconnect();
      }
    };
    connection.on('error', onLost);
    connection.on('end', () => onLost(new Error('the connection ended')));
    connection.on('notification', onNotification);
    try {
      await connection.connect();
      await connection.query(listenStatement(channel));
    } catch (error) {
      onLost(error);
      return;
    }
    if (closed || lost) {
      connection.end().catch(() => undefined);
      return;
    }
    listening = true;
    stopHeartbeat = startHeartbeat(connection, reconnect.heartbeatIntervalMs, onLost);
    if (attempt > 0) logger.info?.(`hitl: the LISTEN connection of ${tableName} is back after ${attempt} attempt(s)`);
    attempt = 0;
    await onListening();
  };

  return {
    get reader() {
      return listening ? client : undefined;
    },
    open() {
      if (opened || closed) return;
      opened = true;
      void connect();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const connection = client;
      client = undefined;
      listening = false;
      if (connection) await endQuickly(connection);
    },
  };
}
