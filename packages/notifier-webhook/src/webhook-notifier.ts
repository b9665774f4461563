/**
 * The webhook notifier: a bounded queue of deliveries, each retried with backoff until it succeeds, fails or is dropped.
 * Over 300 lines because notify, deliver, retries, 410 Gone and close are one closure over the queue and its slots.
 */
import { randomUUID } from 'node:crypto';
import { HitlError, type ApprovalRecord } from '@hitl/core';
import { describeValue, errorMessage, invalidInput, isPlainObject } from '@hitl/core/internal';
import { createAttempt, type AttemptOutcome } from './delivery-attempt.js';
import { abortableSleep, createDeliverySlots } from './delivery-slots.js';
import { parseNotifierOptions } from './notifier-options.js';
import { toWebhookPayload } from './payload.js';
import { backoffDelay } from './retry.js';
import { createSignalWatch } from './signal-watch.js';
import { durationOption, MAX_TIMER_DELAY_MS } from './validation.js';
import { createEventDelivery } from './event-delivery.js';
import { parseEvents } from './webhook-event.js';

export type {
  NotifierSettings,
  WebhookCloseOptions,
  WebhookNotifier,
  WebhookNotifierOptions,
  WebhookNotifierStats,
  WebhookRetryOptions,
} from './notifier-types.js';
import type { NotifierSettings, WebhookCloseOptions, WebhookNotifier, WebhookNotifierOptions } from './notifier-types.js';

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

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The machinery shared by every notifier of this package. Not exported from the package entry. */
export function createNotifier(options: WebhookNotifierOptions, settings: NotifierSettings): WebhookNotifier {
  const parsed = parseNotifierOptions(options, settings);
  const { label, name, attempts, baseDelayMs, maxDelayMs, buildBody, maxQueue, concurrency, logger, random, now, scheduler } = parsed;
  const attemptOnce = createAttempt(parsed);
  const slots = createDeliverySlots(concurrency);

  const live = new Set<Delivery>();
  const drainWaiters = new Set<() => void>();
  let retrying = 0;
  let delivered = 0;
  let failed = 0;
  let dropped = 0;
  let disabled = false;
  let closed = false;
  let overflowing = false;

  const failure = (requestId: string, message: string, cause?: unknown) =>
    new HitlError(
      'notify_failed',
      `webhook notification for request '${requestId}' to ${label} ${message}`,
      cause === undefined ? undefined : { cause },
    );

  const disabledFailure = (requestId: string) => failure(requestId, 'was not sent: the endpoint answered 410 Gone earlier and is disabled');

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

  const run = async (delivery: Delivery): Promise<void> => {
    const signal = delivery.controller.signal;
    for (let number = 1; ; number += 1) {
      await slots.acquire(signal);
      // Waiting for a free slot can outlast the request: nobody can act on an expired one.
      if (delivery.expiresAtMs !== undefined && now() >= delivery.expiresAtMs) {
        slots.release();
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
        slots.release();
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
      logger.debug?.(
        `webhook notifier '${name}': attempt ${number} of ${attempts} for request '${delivery.requestId}' to ${label} ${outcome.reason}; retrying in ${delayMs} ms`,
      );
      retrying += 1;
      try {
        await abortableSleep(scheduler, delayMs, signal);
      } finally {
        retrying -= 1;
      }
    }
  };

  const disable = (current?: Delivery) => {
    if (disabled) return;
    disabled = true;
    logger.warn(`webhook notifier '${name}': ${label} answered 410 Gone; the endpoint is disabled and nothing more is sent to it`);
    for (const other of [...live]) {
      if (other !== current) abandon(other, disabledFailure(other.requestId));
    }
  };

  const watch = createSignalWatch<Delivery>((member, signal) =>
    abandon(
      member,
      failure(member.requestId, `stopped after ${plural(member.attempts, 'attempt')}: the signal was aborted`, signal.reason),
    ),
  );

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
          failure(
            requestId,
            `was dropped before its first attempt: the queue is full (maxQueue ${maxQueue}) and every delivery in it is being sent`,
          ),
        );
      }
      abandon(
        oldestWaiting,
        failure(
          oldestWaiting.requestId,
          `was dropped after ${plural(oldestWaiting.attempts, 'attempt')}: the queue is full (maxQueue ${maxQueue})`,
        ),
      );
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
          settle(delivery, HitlError.is(error, 'notify_failed') ? error : failure(requestId, `failed: ${errorMessage(error)}`, error)),
      );
    });
  };

  // Only a notifier given `events` takes outbox messages; without it, `notify` keeps its own retries and body.
  const events = settings.events && options.events !== undefined ? parseEvents(options.events) : undefined;
  const deliver = events
    ? createEventDelivery({
        label,
        now,
        customBody: options.body,
        attemptOnce,
        slots,
        isDisabled: () => disabled || closed,
        disable: () => disable(),
        counted: (outcome) => {
          if (outcome === 'delivered') delivered += 1;
          else failed += 1;
        },
      })
    : undefined;

  return {
    name,
    notify,
    ...(events && deliver ? { events, deliver } : {}),
    stats: () => ({ pending: live.size, sending: slots.inUse(), retrying, delivered, failed: failed - dropped, dropped, disabled }),
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
        abandon(
          delivery,
          failure(delivery.requestId, `was abandoned after ${plural(delivery.attempts, 'attempt')}: the notifier closed first`),
        );
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
 * Retries stop once the request has expired.
 *
 * With a store that has an outbox (the memory store, `@hitl/store-postgres`), the manager calls
 * `deliver` instead: one signed attempt per event, retried by the outbox from any instance, with
 * the outbox job's id as `webhook-id`, when `events` says what to send; each event is then a
 * Standard Webhooks message `{ type, timestamp, data }` (see {@link toWebhookEvent}). Without
 * `events`, pending requests are sent as before (through `notify`, with the retries above). At most `maxQueue` deliveries are held: when full,
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
  return createNotifier(options, { defaultName: 'webhook', defaultBody: toWebhookPayload, events: true });
}
