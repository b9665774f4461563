/**
 * One outbox message, one POST: with a store that has an outbox the manager retries (with backoff,
 * from any instance), so `deliver` makes a single signed attempt with the message's stable id as
 * `webhook-id`, resolves on 2xx, resolves `'gone'` on 410 (and disables the endpoint), rejects otherwise.
 */
import { createHash } from 'node:crypto';
import { HitlError, type NotificationMessage } from '@hitl/core';
import { errorMessage } from '@hitl/core/internal';
import type { AttemptOutcome, AttemptTarget } from './delivery-attempt.js';
import type { DeliverySlots } from './delivery-slots.js';
import { toWebhookEvent } from './webhook-event.js';

/**
 * The `webhook-id` of an outbox message: `msg_` and 32 hex digits of the SHA-256 of its delivery
 * id, so it is the same on every retry and every instance (a delivery id may hold `.`, which
 * Standard Webhooks ids may not).
 *
 * @example
 * ```ts
 * import { webhookIdOf } from '@hitl/notifier-webhook';
 * const [job] = (await manager.listDeliveries({ state: 'dead' })).items;
 * if (job) console.log(webhookIdOf(job.id)); // what the receiver saw as webhook-id
 * ```
 */
export function webhookIdOf(deliveryId: string): string {
  return `msg_${createHash('sha256').update(deliveryId).digest('hex').slice(0, 32)}`;
}

export interface EventDeliveryOptions {
  label: string;
  now: () => number;
  /** A custom `body` option: its result becomes the event's `data`. */
  customBody: ((record: NotificationMessage['record']) => unknown) | undefined;
  attemptOnce(target: AttemptTarget): Promise<AttemptOutcome>;
  slots: DeliverySlots;
  isDisabled(): boolean;
  disable(): void;
  counted(outcome: 'delivered' | 'failed'): void;
}

export function createEventDelivery({ label, now, customBody, attemptOnce, slots, isDisabled, disable, counted }: EventDeliveryOptions) {
  const failure = (message: NotificationMessage, reason: string, cause?: unknown) =>
    new HitlError(
      'notify_failed',
      `webhook ${message.type} for request '${message.record.request.id}' to ${label} ${reason}`,
      cause === undefined ? undefined : { cause },
    );

  return async (message: NotificationMessage, context: { signal: AbortSignal }): Promise<void | 'gone'> => {
    if (isDisabled()) return 'gone';
    let body: string;
    try {
      const event = toWebhookEvent(message, now());
      const data = customBody ? customBody(message.record) : event.data;
      body = JSON.stringify({ ...event, data });
    } catch (error) {
      throw failure(message, `was not sent: body(record) failed: ${errorMessage(error)}`, error);
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(context.signal.reason);
    context.signal.addEventListener('abort', onAbort, { once: true });
    await slots.acquire(controller.signal);
    let outcome: AttemptOutcome;
    try {
      outcome = await attemptOnce({ webhookId: webhookIdOf(message.id), body, controller });
    } finally {
      slots.release();
      context.signal.removeEventListener('abort', onAbort);
    }
    if (outcome.kind === 'delivered') {
      counted('delivered');
      return undefined;
    }
    counted('failed');
    if (outcome.kind === 'gone') {
      disable();
      return 'gone';
    }
    throw failure(message, `failed (attempt ${message.attempt}): ${outcome.reason}`, outcome.kind === 'retry' ? outcome.cause : undefined);
  };
}
