import { randomUUID, type KeyObject } from 'node:crypto';
import { HitlError, type ApprovalRecord, type Logger, type Notifier, type Scheduler } from '@hitl/core';
import { defaultScheduler, describeValue, errorMessage, invalidInput, isPlainObject } from '@hitl/core/internal';
import { toWebhookPayload } from './payload.js';
import { backoffDelay, parseRetryAfter } from './retry.js';
import { parseSecrets } from './secret.js';
import { signatureHeader } from './signature.js';
import {
  durationOption,
  functionOption,
  integerOption,
  MAX_TIMER_DELAY_MS,
} from './validation.js';

/**
 * How failed deliveries are retried. Unset fields keep their defaults.
 *
 * @example
 * ```ts
 * const retry: WebhookRetryOptions = { attempts: 8, baseDelayMs: 1_000, maxDelayMs: 60_000 };
 * ```
 */
export interface WebhookRetryOptions {
  /** Every attempt counts, the first included: 1 means no retry. Default 5. */
  attempts?: number;
  /** The backoff ceiling after the first failure; it doubles after each further one. Default 500. */
  baseDelayMs?: number;
  /** The longest wait between two attempts, `Retry-After` included. Default 30 000. */
  maxDelayMs?: number;
}

/**
 * Options of {@link createWebhookNotifier}.
 *
 * @example
 * ```ts
 * const options: WebhookNotifierOptions = {
 *   url: 'https://approvals.example.com/hooks/hitl',
 *   secret: process.env.HITL_WEBHOOK_SECRET,
 *   retry: { attempts: 5 },
 * };
 * ```
 */
export interface WebhookNotifierOptions {
  /** Where to POST; `http:` or `https:`, without credentials in it. */
  url: string | URL;
  /** The notifier's name in `notify-failed` events. Default `'webhook'`. */
  name?: string;
  /**
   * A Standard Webhooks secret (`'whsec_'` + base64 of 24 to 64 bytes) to sign with; a list signs
   * with each (newest first), for rotation. Without it requests carry `webhook-id` and
   * `webhook-timestamp` but no signature.
   */
  secret?: string | readonly string[];
  /** Each attempt is aborted after this long, in ms. Default 10 000. */
  timeoutMs?: number;
  retry?: WebhookRetryOptions;
  /** Extra request headers (an `authorization` header, say). `webhook-*` signing headers are reserved. */
  headers?: Readonly<Record<string, string>>;
  /** Builds the JSON body from the record. Default {@link toWebhookPayload}. Runs once per notification. */
  body?: (record: ApprovalRecord) => unknown;
  /** The most deliveries held at once (waiting, sending or between retries). Default 1 000. */
  maxQueue?: number;
  /** The most requests in flight at once. Default 8. */
  concurrency?: number;
  /** The fetch to use. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Where the notifier reports a disabled endpoint (warn), a full queue (warn) and retries (debug). Default `console` (warn only). */
  logger?: Logger;
  /** The random source of the backoff jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** The clock, in ms since the epoch, for `webhook-timestamp` and `Retry-After` dates. Default `Date.now`. */
  now?: () => number;
  /** The timers for backoff waits, attempt timeouts and `close` deadlines. Default the global ones. */
  scheduler?: Scheduler;
}

/**
 * What {@link WebhookNotifier.stats} reports.
 *
 * @example
 * ```ts
 * const { pending, dropped, disabled } = webhook.stats();
 * metrics.gauge('hitl.webhook.pending', pending);
 * if (disabled) alert('the approvals webhook answered 410 Gone');
 * ```
 */
export interface WebhookNotifierStats {
  /** Deliveries held now: waiting for a slot, sending, or waiting to retry. At most `maxQueue`. */
  pending: number;
  /** Requests in flight now. At most `concurrency`. */
  sending: number;
  /** Deliveries waiting out a backoff now. */
  retrying: number;
  /** Deliveries that got a 2xx answer, since creation. */
  delivered: number;
  /** Deliveries that failed (final answer, attempts used up, aborted, abandoned at close), since creation. */
  failed: number;
  /** Deliveries dropped because the queue was full, since creation. */
  dropped: number;
  /** True once the endpoint answered 410 Gone: every later `notify` fails at once. */
  disabled: boolean;
}

/**
 * Options of {@link WebhookNotifier.close}.
 *
 * @example
 * ```ts
 * const { abandoned } = await webhook.close({ deadlineMs: 5_000 });
 * ```
 */
export interface WebhookCloseOptions {
  /** How long to let pending deliveries finish, in ms; the rest are abandoned. Default 10 000; 0 abandons at once. */
  deadlineMs?: number;
}

/**
 * A {@link Notifier} that POSTs to a webhook through a bounded queue, with stats and a `close`.
 *
 * @example
 * ```ts
 * const webhook: WebhookNotifier = createWebhookNotifier({ url: 'https://approvals.example.com/hooks/hitl' });
 * const manager = createManager({ notifiers: [webhook] });
 * process.on('SIGTERM', async () => {
 *   await webhook.close({ deadlineMs: 5_000 }); // first: closing the manager aborts deliveries
 *   await manager.close();
 * });
 * ```
 */
export interface WebhookNotifier extends Notifier {
  /** Queue and delivery counters, for metrics and health checks. */
  stats(): WebhookNotifierStats;
  /**
   * Stops taking notifications (later `notify` calls fail at once), waits up to `deadlineMs` for
   * pending deliveries, then abandons the rest (their promises reject with `notify_failed`).
   * Resolves with how many were abandoned.
   */
  close(options?: WebhookCloseOptions): Promise<{ abandoned: number }>;
}

type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'gone'; reason: string }
  | { kind: 'final'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; cause?: unknown };

interface Delivery {
  readonly requestId: string;
  readonly webhookId: string;
  readonly body: string;
  readonly expiresAtMs: number | undefined;
  readonly controller: AbortController;
  attempts: number;
  /** True while an attempt holds a slot (a request, and its socket, in flight): never dropped then. */
  sending: boolean;
  settled: boolean;
  resolve(): void;
  reject(error: HitlError): void;
  detach(): void;
}

/** Settings that differ between the generic webhook notifier and the ones built on it. */
export interface NotifierSettings {
  /** The default `name`. */
  defaultName: string;
  /** The option's name in messages about the URL. Default `'url'`. */
  urlField?: string;
  /** How the URL appears in messages; default its origin and path (the query may hold tokens). */
  label?: (url: URL) => string;
  /** The default `body`. */
  defaultBody: (record: ApprovalRecord) => unknown;
}

const RESERVED_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
const DETAIL_BYTES = 512;
const DRAIN_BYTES = 64 * 1024;

const defaultLogger: Logger = {
  warn: (message, ...details) => console.warn(message, ...details),
  error: (message, ...details) => console.error(message, ...details),
};

function parseUrl(field: string, value: unknown): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) throw invalidInput(field, value, 'must be a string or a URL');
  let url: URL;
  try {
    url = new URL(value instanceof URL ? value.href : value);
  } catch {
    throw invalidInput(field, value, 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HitlError('invalid_input', `${field} must use http: or https:, not '${url.protocol}'`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new HitlError('invalid_input', `${field} must not hold credentials; send them in headers (an authorization header)`);
  }
  return url;
}

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidInput('headers', value, 'must be an object of header names to string values');
  const result: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw new HitlError('invalid_input', `headers.${name} is reserved for Standard Webhooks signing`);
    if (typeof headerValue !== 'string') throw invalidInput(`headers.${name}`, headerValue, 'must be a string');
    try {
      new Headers([[name, headerValue]]);
    } catch {
      throw new HitlError('invalid_input', `headers.${name} is not a valid HTTP header name and value`);
    }
    result[lower] = headerValue;
  }
  return result;
}

function parseLogger(value: unknown): Logger {
  if (value === undefined) return defaultLogger;
  const logger = value as Partial<Logger> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw invalidInput('logger', value, 'must have warn and error functions');
  }
  return value as Logger;
}

function parseScheduler(value: unknown): Scheduler {
  if (value === undefined) return defaultScheduler;
  const scheduler = value as Partial<Scheduler> | null;
  if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.setTimeout !== 'function' || typeof scheduler.clearTimeout !== 'function') {
    throw invalidInput('scheduler', value, 'must have setTimeout and clearTimeout functions');
  }
  return value as Scheduler;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The first bytes of a response body as one short line, for error messages; the rest is read and dropped. */
async function readDetail(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (keptBytes < DETAIL_BYTES) {
        kept.push(value);
        keptBytes += value.byteLength;
      }
      if (total > DRAIN_BYTES) {
        await reader.cancel();
        break;
      }
    }
  } catch {
    // The body could not be read; the status alone decides.
  }
  const text = Buffer.concat(kept).toString('utf8', 0, DETAIL_BYTES).replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function describeStatus(response: Response, detail: string): string {
  const statusText = response.statusText ? ` ${response.statusText}` : '';
  return `answered ${response.status}${statusText}${detail ? ` (${JSON.stringify(detail)})` : ''}`;
}

/** The machinery shared by every notifier of this package. Not exported from the package entry. */
export function createNotifier(options: WebhookNotifierOptions, settings: NotifierSettings): WebhookNotifier {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const url = parseUrl(settings.urlField ?? 'url', options.url);
  const label = settings.label ? settings.label(url) : `${url.origin}${url.pathname}`;
  const name = options.name ?? settings.defaultName;
  if (typeof name !== 'string' || name.trim() === '') throw invalidInput('name', name, 'must be a non-empty string');
  const keys: KeyObject[] = options.secret === undefined ? [] : parseSecrets('secret', options.secret);
  const timeoutMs = durationOption('timeoutMs', options.timeoutMs, 10_000, 1);
  const retry = options.retry ?? {};
  if (!isPlainObject(retry)) throw invalidInput('retry', retry, 'must be an object { attempts?, baseDelayMs?, maxDelayMs? }');
  const attempts = integerOption('retry.attempts', retry.attempts, 5, 1, 100);
  const baseDelayMs = durationOption('retry.baseDelayMs', retry.baseDelayMs, 500, 0);
  const maxDelayMs = durationOption('retry.maxDelayMs', retry.maxDelayMs, 30_000, 0);
  const extraHeaders = parseHeaders(options.headers);
  const buildBody = functionOption<(record: ApprovalRecord) => unknown>('body', options.body, settings.defaultBody);
  const maxQueue = integerOption('maxQueue', options.maxQueue, 1_000, 1, 1_000_000);
  const concurrency = integerOption('concurrency', options.concurrency, 8, 1, 1_000);
  const fetchImpl = functionOption<typeof fetch>('fetch', options.fetch, (input, init) => fetch(input, init));
  const logger = parseLogger(options.logger);
  const random = functionOption<() => number>('random', options.random, Math.random);
  const now = functionOption<() => number>('now', options.now, () => Date.now());
  const scheduler = parseScheduler(options.scheduler);
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': '@hitl/notifier-webhook',
    ...extraHeaders,
  };

  const live = new Set<Delivery>();
  const slotWaiters = new Set<() => void>();
  const drainWaiters = new Set<() => void>();
  let sending = 0;
  let retrying = 0;
  let delivered = 0;
  let failed = 0;
  let dropped = 0;
  let disabled = false;
  let closed = false;
  let overflowing = false;

  const failure = (requestId: string, message: string, cause?: unknown) =>
    new HitlError('notify_failed', `webhook notification for request '${requestId}' to ${label} ${message}`, cause === undefined ? undefined : { cause });

  const disabledFailure = (requestId: string) =>
    failure(requestId, 'was not sent: the endpoint answered 410 Gone earlier and is disabled');

  const settle = (delivery: Delivery, error?: HitlError) => {
    if (delivery.settled) return;
    delivery.settled = true;
    live.delete(delivery);
    delivery.detach();
    if (error) delivery.reject(error);
    else {
      delivered += 1;
      delivery.resolve();
    }
    if (live.size === 0) {
      for (const wake of [...drainWaiters]) wake();
    }
  };

  /** Ends a delivery at once, whatever it is doing: its attempt, slot wait or backoff is aborted. */
  const abandon = (delivery: Delivery, error: HitlError) => {
    if (delivery.settled) return;
    delivery.controller.abort(error);
    settle(delivery, error);
  };

  /** The oldest held delivery not in flight; `live` iterates in insertion order. */
  const firstWaiting = (): Delivery | undefined => {
    for (const delivery of live) if (!delivery.sending) return delivery;
    return undefined;
  };

  const acquireSlot = (signal: AbortSignal): Promise<void> => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (sending < concurrency) {
      sending += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        sending += 1;
        resolve();
      };
      const onAbort = () => {
        slotWaiters.delete(grant);
        reject(signal.reason as Error);
      };
      slotWaiters.add(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };

  const releaseSlot = () => {
    sending -= 1;
    for (const grant of slotWaiters) {
      slotWaiters.delete(grant);
      grant();
      break;
    }
  };

  const sleep = (delayMs: number, signal: AbortSignal): Promise<void> => {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        scheduler.clearTimeout(handle);
        reject(signal.reason as Error);
      };
      const handle = scheduler.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, delayMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };

  const attemptOnce = async (delivery: Delivery): Promise<AttemptOutcome> => {
    const timestamp = String(Math.floor(now() / 1000));
    const headers: Record<string, string> = {
      ...baseHeaders,
      'webhook-id': delivery.webhookId,
      'webhook-timestamp': timestamp,
    };
    if (keys.length > 0) headers['webhook-signature'] = signatureHeader(keys, delivery.webhookId, timestamp, delivery.body);

    const deliverySignal = delivery.controller.signal;
    const attempt = new AbortController();
    let timedOut = false;
    const onDeliveryAbort = () => attempt.abort(deliverySignal.reason);
    deliverySignal.addEventListener('abort', onDeliveryAbort, { once: true });
    const timer = scheduler.setTimeout(() => {
      timedOut = true;
      attempt.abort(new HitlError('timeout', `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        headers,
        body: delivery.body,
        redirect: 'manual',
        signal: attempt.signal,
      });
      const { status } = response;
      const detail = await readDetail(response);
      if (status >= 200 && status < 300) return { kind: 'delivered' };
      if (deliverySignal.aborted) throw deliverySignal.reason;
      const reason = describeStatus(response, detail);
      if (status === 410) return { kind: 'gone', reason };
      if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
        return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
      }
      if (status >= 300 && status < 400) {
        return { kind: 'final', reason: `${reason}; redirects are not followed, point url at the final address` };
      }
      return { kind: 'final', reason };
    } catch (error) {
      if (deliverySignal.aborted) throw deliverySignal.reason;
      if (timedOut) return { kind: 'retry', reason: `got no answer within ${timeoutMs} ms (attempt aborted)` };
      return { kind: 'retry', reason: `could not be sent: ${errorMessage(error)}`, cause: error };
    } finally {
      scheduler.clearTimeout(timer);
      deliverySignal.removeEventListener('abort', onDeliveryAbort);
    }
  };

  const run = async (delivery: Delivery): Promise<void> => {
    const signal = delivery.controller.signal;
    for (let number = 1; ; number += 1) {
      await acquireSlot(signal);
      // Waiting for a free slot can outlast the request: nobody can act on an expired one.
      if (delivery.expiresAtMs !== undefined && now() >= delivery.expiresAtMs) {
        releaseSlot();
        throw failure(
          delivery.requestId,
          number === 1
            ? 'was not sent: the request expired while it waited for a free slot'
            : `failed after ${plural(number - 1, 'attempt')}: the request expired before attempt ${number} could be sent`,
        );
      }
      let outcome: AttemptOutcome;
      try {
        delivery.attempts = number;
        delivery.sending = true;
        outcome = await attemptOnce(delivery);
      } finally {
        delivery.sending = false;
        releaseSlot();
      }
      if (outcome.kind === 'delivered') return;
      const tried = plural(number, 'attempt');
      if (outcome.kind === 'gone') {
        disable(delivery);
        throw failure(delivery.requestId, `failed after ${tried}: ${outcome.reason}; the endpoint is now disabled`);
      }
      if (outcome.kind === 'final') throw failure(delivery.requestId, `failed after ${tried}: ${outcome.reason}`);
      const cause = outcome.cause;
      if (number >= attempts) throw failure(delivery.requestId, `failed after ${tried}: ${outcome.reason}`, cause);
      const delayMs =
        outcome.retryAfterMs === undefined
          ? backoffDelay(number, baseDelayMs, maxDelayMs, random)
          : Math.min(outcome.retryAfterMs, maxDelayMs);
      if (delivery.expiresAtMs !== undefined && now() + delayMs >= delivery.expiresAtMs) {
        throw failure(delivery.requestId, `failed after ${tried}: ${outcome.reason}; the request expires before the next attempt`, cause);
      }
      logger.debug?.(`webhook notifier '${name}': attempt ${number} of ${attempts} for request '${delivery.requestId}' to ${label} ${outcome.reason}; retrying in ${delayMs} ms`);
      retrying += 1;
      try {
        await sleep(delayMs, signal);
      } finally {
        retrying -= 1;
      }
    }
  };

  const disable = (current: Delivery) => {
    if (disabled) return;
    disabled = true;
    logger.warn(`webhook notifier '${name}': ${label} answered 410 Gone; the endpoint is disabled and nothing more is sent to it`);
    for (const other of [...live]) {
      if (other !== current) abandon(other, disabledFailure(other.requestId));
    }
  };

  /**
   * One abort listener per caller signal, however many deliveries share it (the manager passes the
   * same signal to every notification): a listener per delivery would make adding and removing
   * them linear in the queue length, and trips Node's max-listeners warning.
   */
  const watched = new Map<AbortSignal, { deliveries: Set<Delivery>; onAbort: () => void }>();
  const watch = (signal: AbortSignal, delivery: Delivery): (() => void) => {
    let entry = watched.get(signal);
    if (!entry) {
      const deliveries = new Set<Delivery>();
      const onAbort = () => {
        watched.delete(signal);
        for (const member of [...deliveries]) {
          abandon(member, failure(member.requestId, `stopped after ${plural(member.attempts, 'attempt')}: the signal was aborted`, signal.reason));
        }
      };
      entry = { deliveries, onAbort };
      watched.set(signal, entry);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const current = entry;
    current.deliveries.add(delivery);
    return () => {
      current.deliveries.delete(delivery);
      if (current.deliveries.size === 0 && watched.get(signal) === current) {
        watched.delete(signal);
        signal.removeEventListener('abort', current.onAbort);
      }
    };
  };

  const notify = (record: ApprovalRecord, context?: { signal?: AbortSignal }): Promise<void> => {
    const request = isPlainObject(record) ? record.request : undefined;
    if (!isPlainObject(request) || typeof request.id !== 'string') {
      return Promise.reject(invalidInput('record', record, 'must be an ApprovalRecord with request.id'));
    }
    const requestId = request.id;
    if (closed) return Promise.reject(failure(requestId, 'was not sent: the notifier is closed'));
    if (disabled) return Promise.reject(disabledFailure(requestId));
    const signal = context?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(invalidInput('context.signal', signal, 'must be an AbortSignal'));
    }
    if (signal?.aborted) return Promise.reject(failure(requestId, 'was not sent: the signal was already aborted', signal.reason));

    let body: string;
    try {
      const value = buildBody(record);
      if (typeof (value as { then?: unknown } | null)?.then === 'function') {
        throw new Error('it returned a Promise; it must return the body itself');
      }
      const text = JSON.stringify(value) as string | undefined;
      if (typeof text !== 'string') throw new Error(`it returned ${describeValue(value)}, which has no JSON form`);
      body = text;
    } catch (error) {
      return Promise.reject(failure(requestId, `was not sent: body(record) failed: ${errorMessage(error)}`, error));
    }

    if (live.size >= maxQueue) {
      if (!overflowing) {
        overflowing = true;
        logger.warn(`webhook notifier '${name}': queue full (maxQueue ${maxQueue}); dropping the oldest deliveries to ${label}`);
      }
      // The oldest delivery that is waiting (for a slot or a retry) makes room. One in flight is
      // never aborted: its slot would start the next fetch at once while the aborted socket lingers,
      // so a burst would open a socket per dropped delivery. When every held delivery is in flight
      // (maxQueue <= concurrency), the new one is the one dropped.
      const oldestWaiting = firstWaiting();
      dropped += 1;
      if (oldestWaiting === undefined) {
        failed += 1;
        return Promise.reject(
          failure(requestId, `was dropped before its first attempt: the queue is full (maxQueue ${maxQueue}) and every delivery in it is being sent`),
        );
      }
      abandon(oldestWaiting, failure(oldestWaiting.requestId, `was dropped after ${plural(oldestWaiting.attempts, 'attempt')}: the queue is full (maxQueue ${maxQueue})`));
    } else {
      overflowing = false;
    }

    const expiresAtMs = record.expiresAt === undefined ? undefined : Date.parse(record.expiresAt);
    return new Promise<void>((resolve, reject) => {
      const controller = new AbortController();
      const delivery: Delivery = {
        requestId,
        webhookId: `msg_${randomUUID().replace(/-/g, '')}`,
        body,
        expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : undefined,
        controller,
        attempts: 0,
        sending: false,
        settled: false,
        resolve,
        reject: (error) => {
          failed += 1;
          reject(error);
        },
        detach: () => undefined,
      };
      live.add(delivery);
      if (signal) delivery.detach = watch(signal, delivery);
      run(delivery).then(
        () => settle(delivery),
        (error: unknown) =>
          settle(
            delivery,
            HitlError.is(error, 'notify_failed') ? error : failure(requestId, `failed: ${errorMessage(error)}`, error),
          ),
      );
    });
  };

  return {
    name,
    notify,
    stats: () => ({ pending: live.size, sending, retrying, delivered, failed: failed - dropped, dropped, disabled }),
    async close(closeOptions: WebhookCloseOptions = {}) {
      if (!isPlainObject(closeOptions)) throw invalidInput('options', closeOptions, 'must be an object');
      const deadlineMs = durationOption('deadlineMs', closeOptions.deadlineMs, 10_000, 0);
      closed = true;
      if (live.size > 0 && deadlineMs > 0) {
        let handle: unknown;
        await new Promise<void>((resolve) => {
          drainWaiters.add(resolve);
          handle = scheduler.setTimeout(resolve, Math.min(deadlineMs, MAX_TIMER_DELAY_MS));
        }).finally(() => {
          scheduler.clearTimeout(handle);
        });
      }
      drainWaiters.clear();
      let abandoned = 0;
      for (const delivery of [...live]) {
        abandoned += 1;
        abandon(delivery, failure(delivery.requestId, `was abandoned after ${plural(delivery.attempts, 'attempt')}: the notifier closed first`));
      }
      return { abandoned };
    },
  };
}

/**
 * A notifier that POSTs each pending request as JSON to `url`, signed per the Standard Webhooks
 * spec when `secret` is given (`webhook-id` stable across retries; `webhook-timestamp` and
 * `webhook-signature` fresh on each attempt).
 *
 * `notify` never blocks the approval: it queues the delivery and returns a promise that settles
 * when the delivery finally succeeds or fails (the manager turns a rejection into a
 * `notify-failed` event). Only 2xx is success. 5xx, 408, 429 and network errors are retried with
 * exponential backoff and full jitter, honouring `Retry-After` up to `retry.maxDelayMs`; 3xx and
 * other 4xx fail at once; 410 Gone disables the endpoint. Each attempt is aborted at `timeoutMs`.
 * Retries stop once the request has expired. At most `maxQueue` deliveries are held: when full,
 * the oldest one waiting (for a slot or a retry) is dropped and its promise rejected; a request in
 * flight is never aborted to make room, so at most `concurrency` sockets are open. Failures reject with
 * `HitlError('notify_failed')` naming the URL, the answer and the attempts.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createWebhookNotifier } from '@hitl/notifier-webhook';
 *
 * const webhook = createWebhookNotifier({
 *   url: 'https://approvals.example.com/hooks/hitl',
 *   secret: process.env.HITL_WEBHOOK_SECRET,
 *   retry: { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 },
 * });
 * const manager = createManager({ notifiers: [webhook] });
 * // ... on shutdown, let deliveries in flight finish first (closing the manager aborts them):
 * await webhook.close({ deadlineMs: 5_000 });
 * await manager.close();
 * ```
 */
export function createWebhookNotifier(options: WebhookNotifierOptions): WebhookNotifier {
  return createNotifier(options, { defaultName: 'webhook', defaultBody: toWebhookPayload });
}
