// The webhook chaos run's parts: a stepping clock, seeded draws, receiver behaviours and their classes, and the chaos receiver.
// Over 300 lines because the receiver performs every behaviour of the mix (answers, hangs, stalls, slow bodies, resets) in one place.
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManualClock, type ManualClock } from '@hitl/core/testing';

/**
 * A manual clock that also says when its next timer falls due, so a driver can move time from one
 * timer to the next and never skip past an instant where something was meant to happen.
 */
export interface SteppingClock extends ManualClock {
  /** The due time of the earliest timer, or undefined when none waits. */
  nextDue(): number | undefined;
}

export function createSteppingClock(startMs: number): SteppingClock {
  const inner = createManualClock(startMs);
  const dues = new Map<unknown, number>();
  return {
    now: inner.now,
    setTimeout(callback, delayMs) {
      const due = inner.now() + Math.max(0, delayMs);
      const handle: unknown = inner.setTimeout(() => {
        dues.delete(handle);
        callback();
      }, delayMs);
      dues.set(handle, due);
      return handle;
    },
    clearTimeout(handle) {
      dues.delete(handle);
      inner.clearTimeout(handle);
    },
    advance: (ms) => inner.advance(ms),
    pendingTimers: () => inner.pendingTimers(),
    nextDue() {
      let earliest: number | undefined;
      for (const due of dues.values()) if (earliest === undefined || due < earliest) earliest = due;
      return earliest;
    },
  };
}

/** A seeded PRNG (mulberry32) in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A draw in [0, 1) fixed by the seed and a key, whatever order the draws are made in. */
export function keyedUnit(seed: number, key: string): number {
  return createHash('sha256').update(`${seed}:${key}`).digest().readUInt32BE(0) / 4_294_967_296;
}

/** How a `Retry-After` header is written: seconds, an HTTP date that many seconds away, or junk. */
export type RetryAfterForm = { form: 'seconds'; seconds: number } | { form: 'date'; seconds: number } | { form: 'junk' };

/** What the receiver does with one attempt. */
export type Behaviour =
  /** Answers at once with this status (and Retry-After when given). */
  | { kind: 'answer'; status: number; retryAfter?: RetryAfterForm }
  /** Never answers: the sender's attempt timeout must cut it. */
  | { kind: 'hang' }
  /** Sends the status line and part of the body, then nothing more. */
  | { kind: 'stall'; status: number }
  /** Destroys the socket without an answer. */
  | { kind: 'reset' }
  /** Sends the status line and a few bytes of a longer body, then destroys the socket. */
  | { kind: 'reset-after-headers'; status: number }
  /** Answers in several chunks spread over a few real milliseconds. */
  | { kind: 'slow'; status: number; chunks: number };

/** How the sender must treat an attempt, by the policy of the notifier. */
export type AttemptClass =
  /** 2xx: delivered, never sent again. */
  | 'delivered'
  /** 3xx, 4xx other than 408/429, 410: failed for good, never sent again. */
  | 'final'
  /** 5xx, 408, 429, a reset: retried (after Retry-After when given, else backoff). */
  | 'retry'
  /** No answer: cut at the attempt timeout, then retried. */
  | 'timeout'
  /** A 2xx status line whose body never ends: cut at the attempt timeout, delivered by its status. */
  | 'timeout-delivered';

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function isRetryable(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status < 600);
}

export function classify(behaviour: Behaviour): AttemptClass {
  switch (behaviour.kind) {
    case 'answer':
    case 'slow':
      if (isSuccess(behaviour.status)) return 'delivered';
      return isRetryable(behaviour.status) ? 'retry' : 'final';
    case 'hang':
      return 'timeout';
    case 'stall':
      return isSuccess(behaviour.status) ? 'timeout-delivered' : 'timeout';
    case 'reset':
    case 'reset-after-headers':
      return 'retry';
  }
}

/** A short name for tallies: `answer 429 retry-after date`, `hang`, `slow 500`... */
export function behaviourName(behaviour: Behaviour): string {
  switch (behaviour.kind) {
    case 'answer': {
      const family = behaviour.status === 410 ? '410' : `${Math.floor(behaviour.status / 100)}xx`;
      const exact = [408, 429, 503].includes(behaviour.status) ? String(behaviour.status) : family;
      return behaviour.retryAfter ? `${exact} + Retry-After (${behaviour.retryAfter.form})` : exact;
    }
    case 'hang':
    case 'reset':
      return behaviour.kind;
    case 'stall':
    case 'reset-after-headers':
    case 'slow':
      return `${behaviour.kind} ${Math.floor(behaviour.status / 100)}xx`;
  }
}

/** One attempt as the receiver saw it. */
export interface ChaosAttempt {
  /** Order of arrival over the whole receiver. */
  seq: number;
  /** From the path `/hooks/<shard>`; -1 for any other path. */
  shard: number;
  /** The `id` of the JSON body ('' when the body is not JSON). */
  requestId: string;
  webhookId: string;
  /** 1 for the first attempt the receiver saw with this webhook-id. */
  number: number;
  /** The clock when the request arrived (the clock only moves while nothing but hangs is in flight). */
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  behaviour: Behaviour;
  /** The Retry-After header sent, if any. */
  retryAfterHeader?: string;
  /** The answer was sent in full. */
  finished: boolean;
  /** The clock when the connection closed before the answer was sent in full (a hang cut by the sender, a reset). */
  closedAt?: number;
  /** Finished or closed: nothing more will happen on this exchange. */
  done: boolean;
}

export interface ChaosReceiver {
  url(shard: number): string;
  /** Every attempt, in order of arrival. */
  readonly attempts: ChaosAttempt[];
  /** Attempts by webhook-id, in order. */
  readonly byWebhookId: ReadonlyMap<string, ChaosAttempt[]>;
  /** Attempts by the request id in their body, in order. */
  readonly byRequestId: ReadonlyMap<string, ChaosAttempt[]>;
  /** Attempts not yet done. */
  readonly open: ReadonlySet<ChaosAttempt>;
  close(): Promise<void>;
}

export interface ChaosReceiverOptions {
  /** The test clock: arrival times and Retry-After dates use it. */
  now: () => number;
  /** Picks the behaviour of one attempt. */
  choose: (attempt: { shard: number; requestId: string; number: number; at: number }) => Behaviour;
}

function retryAfterValue(form: RetryAfterForm, nowMs: number): string {
  if (form.form === 'seconds') return String(form.seconds);
  if (form.form === 'date') return new Date(nowMs + form.seconds * 1000).toUTCString();
  return 'soon';
}

/** A real node:http receiver on 127.0.0.1 whose every answer is picked by `choose`. */
export async function startChaosReceiver({ now, choose }: ChaosReceiverOptions): Promise<ChaosReceiver> {
  const attempts: ChaosAttempt[] = [];
  const byWebhookId = new Map<string, ChaosAttempt[]>();
  const byRequestId = new Map<string, ChaosAttempt[]>();
  const open = new Set<ChaosAttempt>();
  const slowTimers = new Set<ReturnType<typeof setTimeout>>();

  const perform = (attempt: ChaosAttempt, request: IncomingMessage, response: ServerResponse) => {
    const { behaviour } = attempt;
    const plain = { 'content-type': 'text/plain' };
    switch (behaviour.kind) {
      case 'answer': {
        const headers: Record<string, string> = { ...plain };
        if (behaviour.retryAfter) {
          attempt.retryAfterHeader = retryAfterValue(behaviour.retryAfter, now());
          headers['retry-after'] = attempt.retryAfterHeader;
        }
        if (behaviour.status >= 300 && behaviour.status < 400) headers.location = '/elsewhere';
        const text = behaviour.status === 204 ? '' : `chaos ${behaviour.status}`;
        response.writeHead(behaviour.status, headers).end(text);
        return;
      }
      case 'hang':
        return;
      case 'stall':
        response.writeHead(behaviour.status, plain);
        response.write('the rest of this answer never comes');
        return;
      case 'reset':
        request.socket.destroy();
        return;
      case 'reset-after-headers':
        response.writeHead(behaviour.status, { ...plain, 'content-length': '4096' });
        response.write('cut short', () => request.socket.destroy());
        return;
      case 'slow': {
        response.writeHead(behaviour.status, plain);
        let sent = 0;
        const next = () => {
          if (attempt.done || response.destroyed) return;
          if (sent === behaviour.chunks) {
            response.end('end');
            return;
          }
          sent += 1;
          response.write(`chunk ${sent} `);
          const timer = setTimeout(() => {
            slowTimers.delete(timer);
            next();
          }, 2);
          slowTimers.add(timer);
        };
        next();
        return;
      }
    }
  };

  const server = createServer({ keepAliveTimeout: 120_000 }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = request.url ?? '';
      const shardMatch = /^\/hooks\/(\d+)$/.exec(path);
      const shard = shardMatch ? Number(shardMatch[1]) : -1;
      const webhookIdHeader = request.headers['webhook-id'];
      const webhookId = typeof webhookIdHeader === 'string' ? webhookIdHeader : '';
      let requestId = '';
      try {
        const parsed = JSON.parse(body.toString('utf8')) as { id?: unknown };
        if (typeof parsed.id === 'string') requestId = parsed.id;
      } catch {
        // Left empty: the checks report a body that is not the payload.
      }
      const sameDelivery = byWebhookId.get(webhookId) ?? [];
      const at = now();
      const number = sameDelivery.length + 1;
      const attempt: ChaosAttempt = {
        seq: attempts.length,
        shard,
        requestId,
        webhookId,
        number,
        at,
        path,
        headers: request.headers,
        body,
        behaviour: choose({ shard, requestId, number, at }),
        finished: false,
        done: false,
      };
      attempts.push(attempt);
      sameDelivery.push(attempt);
      byWebhookId.set(webhookId, sameDelivery);
      const sameRequest = byRequestId.get(requestId) ?? [];
      sameRequest.push(attempt);
      byRequestId.set(requestId, sameRequest);
      open.add(attempt);
      const end = () => {
        attempt.done = true;
        open.delete(attempt);
      };
      response.on('finish', () => {
        attempt.finished = true;
        end();
      });
      response.on('close', () => {
        if (!attempt.finished) attempt.closedAt = now();
        end();
      });
      perform(attempt, request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: (shard) => `http://127.0.0.1:${port}/hooks/${shard}`,
    attempts,
    byWebhookId,
    byRequestId,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of slowTimers) clearTimeout(timer);
        slowTimers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Resolves true when `promise` settles before the event loop's next turn (no I/O, no timer needed). */
export function settlesWithinTurn(promise: Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    let decided = false;
    const settle = (value: boolean) => {
      if (decided) return;
      decided = true;
      resolve(value);
    };
    promise.then(
      () => settle(true),
      () => settle(true),
    );
    setImmediate(() => settle(false));
  });
}

/** Counts of active libuv resources by type (`TCPSocketWrap`, `TCPServerWrap`, `Timeout`...). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
