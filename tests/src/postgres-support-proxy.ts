// A TCP proxy in front of PostgreSQL that breaks the reply of one store statement at a chosen point, or cuts the database off.
// Over 300 lines because it is one closure over the proxy's connections, armed faults and cut mode, reading the wire protocol.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/**
 * What the proxy does to the connection that carries the next trapped statement of
 * @hitl/store-postgres (a decide, `UPDATE … SET status = $3 …`, or a create, `INSERT INTO … (id, seq,
 * change_seq, …`), once PostgreSQL has all of it. PostgreSQL always runs and commits it: the proxy
 * keeps the server side open until the server's `ReadyForQuery`.
 *
 * - `drop-before-reply`: the client's socket is destroyed as soon as the statement is forwarded,
 *   before the server has answered (the client's error may come before the commit).
 * - `drop-reply`: the server's reply is held back until complete, then `keepBytes` of it (never the
 *   whole of it) are forwarded and the client's socket is destroyed.
 * - `black-hole`: the reply is swallowed and the socket left open; the client gives up on its own
 *   (pg's `query_timeout`), as it would behind a dead network path.
 */
export type StatementFault = { kind: 'drop-before-reply' } | { kind: 'drop-reply'; keepBytes: number } | { kind: 'black-hole' };

/** The store's statements the proxy can trap. */
export type TrappedStatement = 'decide' | 'create';

/** What happened to the trapped statement at the server. */
export interface TrappedReply {
  /**
   * The command tag PostgreSQL answered with (`UPDATE 1`, `INSERT 0 1` when the row was written;
   * `SELECT 1` for the form with outbox jobs), or the error.
   */
  outcome: string;
  /** Bytes of the reply the client got. */
  forwardedBytes: number;
  /** Bytes of the whole reply. */
  replyBytes: number;
}

/**
 * How new connections are treated after {@link PostgresProxy.cut}: `refuse` (nothing listens on the
 * port), `reset` (accepted, then closed at once), `black-hole` (accepted, never answered).
 * Connections open at the cut are destroyed (`refuse`, `reset`) or go silent (`black-hole`).
 */
export type CutMode = 'refuse' | 'reset' | 'black-hole';

export interface PostgresProxy {
  readonly port: number;
  /** Arms a fault for the next such statement that passes; resolves once PostgreSQL has answered it. */
  trapNext(statement: TrappedStatement, fault: StatementFault): Promise<TrappedReply>;
  /** Cuts the database off. */
  cut(mode: CutMode): Promise<void>;
  /**
   * Cuts the database off once `statements` more statements (`Sync` messages, on any connection)
   * have been forwarded to it; resolves when it has.
   */
  cutAfter(statements: number, mode: CutMode): Promise<void>;
  /** Forwards new connections again after a cut. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  close(): void;
}

const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;
/**
 * The store's statement texts (the sweeper's `SET status = 'expired'` is not a decide), alone or
 * wrapped with their outbox jobs (`WITH written AS (…), jobs AS (…) SELECT * FROM written`).
 */
const STATEMENT_TEXT: Record<TrappedStatement, RegExp> = {
  decide: /^\s*(?:WITH written AS \()?UPDATE\b[\s\S]*\bSET status = \$3\b/,
  create: /^\s*(?:WITH written AS \()?INSERT INTO\b[^(]*\(id, seq, change_seq\b/,
};

function cString(buffer: Buffer, start: number): { text: string; next: number } {
  const end = buffer.indexOf(0, start);
  const stop = end === -1 ? buffer.length : end;
  return { text: buffer.toString('utf8', start, stop), next: stop + 1 };
}

/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL that reads the frontend/backend protocol just
 * enough to recognise the store's decide and create statements (by their `Parse` text, then their
 * prepared names in `Bind`) and break the connection of one of them at a chosen point; it can also
 * cut the database off.
 */
export async function createPostgresProxy(target: { host: string; port: number }): Promise<PostgresProxy> {
  const pairs = new Set<Pair>();
  /** Prepared-statement names of the store's statements, learned from `Parse` messages. */
  const statementNames = new Map<string, TrappedStatement>();
  const armed: { statement: TrappedStatement; fault: StatementFault; resolve(value: TrappedReply): void; reject(error: Error): void }[] =
    [];
  let mode: 'forward' | CutMode = 'forward';
  let port = 0;
  /** A cut waiting for a number of statements to pass. */
  let pendingCut: { remaining: number; run(): void } | undefined;

  const onConnection = (client: Socket) => {
    if (mode === 'reset') {
      client.destroy();
      return;
    }
    client.on('error', () => undefined);
    if (mode === 'black-hole') {
      const silent: Pair = { client, upstream: client, close: () => client.destroy() };
      pairs.add(silent);
      client.on('close', () => pairs.delete(silent));
      client.pause();
      return;
    }
    const upstream = connect(target.port, target.host);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    let closed = false;
    const pair: Pair = {
      client,
      upstream,
      close() {
        if (closed) return;
        closed = true;
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      },
    };
    pairs.add(pair);

    let fromClient = Buffer.alloc(0);
    let startupDone = false;
    let trap: (typeof armed)[number] | undefined;
    /**
     * `normal` until the trapped statement's `Sync` is forwarded; `awaiting-reply` while the server's
     * bytes are its reply; `done` once that reply is complete (later bytes are not the client's).
     */
    let phase: 'normal' | 'awaiting-reply' | 'done' = 'normal';
    let reply = Buffer.alloc(0);
    let clientGone = false;

    /** Reads whole frontend messages: learns statement names, spots the trapped statement and its `Sync`. */
    const inspectClientBytes = (chunk: Buffer) => {
      fromClient = Buffer.concat([fromClient, chunk]);
      for (;;) {
        if (!startupDone) {
          if (fromClient.length < 8) return;
          const length = fromClient.readInt32BE(0);
          if (fromClient.length < length) return;
          const code = fromClient.readInt32BE(4);
          if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startupDone = true;
          fromClient = fromClient.subarray(length);
          continue;
        }
        if (fromClient.length < 5) return;
        const type = String.fromCharCode(fromClient[0] as number);
        const total = 1 + fromClient.readInt32BE(1);
        if (fromClient.length < total) return;
        const message = fromClient.subarray(0, total);
        fromClient = fromClient.subarray(total);
        if (type === 'P') {
          const name = cString(message, 5);
          const text = cString(message, name.next);
          for (const [kind, pattern] of Object.entries(STATEMENT_TEXT) as [TrappedStatement, RegExp][]) {
            // Unnamed statements (the migrations') are parsed afresh each time: only named ones count.
            if (name.text !== '' && pattern.test(text.text)) statementNames.set(name.text, kind);
          }
        } else if (type === 'B' && trap === undefined && armed.length > 0) {
          const portal = cString(message, 5);
          const kind = statementNames.get(cString(message, portal.next).text);
          const index = armed.findIndex((item) => item.statement === kind);
          if (index !== -1) [trap] = armed.splice(index, 1);
        } else if (type === 'S') {
          if (trap !== undefined && phase === 'normal') phase = 'awaiting-reply';
          if (pendingCut !== undefined && --pendingCut.remaining <= 0) {
            const { run } = pendingCut;
            pendingCut = undefined;
            // After this chunk has been forwarded.
            queueMicrotask(run);
          }
        }
      }
    };

    /** Reads the server's reply to the trapped statement: its length and outcome once `ReadyForQuery` is in. */
    const completeReply = (): { end: number; outcome: string } | undefined => {
      let offset = 0;
      let outcome = 'no command tag';
      while (reply.length - offset >= 5) {
        const type = String.fromCharCode(reply[offset] as number);
        const total = 1 + reply.readInt32BE(offset + 1);
        if (reply.length - offset < total) return undefined;
        if (type === 'C') outcome = cString(reply, offset + 5).text;
        if (type === 'E')
          outcome = `error: ${reply
            .toString('utf8', offset + 5, offset + total)
            .replace(/\0/g, ' ')
            .trim()}`;
        offset += total;
        if (type === 'Z') return { end: offset, outcome };
      }
      return undefined;
    };

    client.on('data', (chunk: Buffer) => {
      if (clientGone) return;
      inspectClientBytes(chunk);
      upstream.write(chunk);
      if (phase === 'awaiting-reply' && trap?.fault.kind === 'drop-before-reply') {
        clientGone = true;
        client.destroy();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (phase === 'normal') {
        if (!clientGone) client.write(chunk);
        return;
      }
      if (phase === 'done' || trap === undefined) return;
      reply = Buffer.concat([reply, chunk]);
      const complete = completeReply();
      if (!complete) return;
      phase = 'done';
      const { fault, resolve } = trap;
      let forwardedBytes = 0;
      if (fault.kind === 'drop-reply' && !clientGone) {
        forwardedBytes = Math.max(0, Math.min(fault.keepBytes, complete.end - 1));
        clientGone = true;
        client.write(reply.subarray(0, forwardedBytes), () => client.destroy());
        // A client that does not read would keep the socket open: destroy it shortly regardless.
        setTimeout(() => client.destroy(), 50).unref();
      }
      // The server has committed and said so. The client's socket closing closes the server side:
      // at once when it is gone already, after the kept bytes for `drop-reply`, and when the client
      // gives up for `black-hole`.
      if (fault.kind === 'drop-before-reply') pair.close();
      resolve({ outcome: complete.outcome, forwardedBytes, replyBytes: complete.end });
    });
    client.on('close', () => {
      // A trapped statement the server has not answered yet keeps the server side open until it does.
      if (phase === 'awaiting-reply') {
        clientGone = true;
        return;
      }
      pair.close();
    });
    upstream.on('error', () => pair.close());
    upstream.on('close', () => pair.close());
  };

  let server: Server = createServer(onConnection);
  const listen = (onPort: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  await listen(0);
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;

  const stopListening = () => new Promise<void>((resolve) => server.close(() => resolve()));

  const cut = async (cutMode: CutMode) => {
    mode = cutMode;
    for (const pair of [...pairs]) {
      if (cutMode === 'black-hole') {
        pair.client.removeAllListeners('data');
        pair.upstream.removeAllListeners('data');
        pair.client.pause();
        pair.upstream.pause();
      } else {
        pair.close();
      }
    }
    if (cutMode === 'refuse') await stopListening();
  };

  return {
    port,
    trapNext(statement, fault) {
      return new Promise<TrappedReply>((resolve, reject) => {
        armed.push({ statement, fault, resolve, reject });
      });
    },
    cut,
    cutAfter(statements, cutMode) {
      return new Promise<void>((resolve, reject) => {
        const run = () => void cut(cutMode).then(resolve, reject);
        if (statements <= 0) run();
        else pendingCut = { remaining: statements, run };
      });
    },
    async restore() {
      pendingCut = undefined;
      const wasRefusing = mode === 'refuse';
      mode = 'forward';
      // Connections left silent by a black-hole cut stay dead, as after a real partition.
      for (const pair of [...pairs]) if (pair.client.isPaused()) pair.close();
      if (wasRefusing) {
        server = createServer(onConnection);
        await listen(port);
      }
    },
    async close() {
      for (const trap of armed.splice(0)) trap.reject(new Error(`the proxy closed before a ${trap.statement} passed`));
      for (const pair of [...pairs]) pair.close();
      if (server.listening) await stopListening();
    },
  };
}
