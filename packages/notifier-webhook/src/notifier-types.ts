/** The public types of the webhook notifiers: options, stats, the notifier itself, and the settings its variants differ in. */
import type { ApprovalRecord, Logger, NotificationEventType, Notifier, Scheduler } from '@hitl/core';

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
  /**
   * The events to send, with a store that has an outbox: any of `request.created`,
   * `request.approval_added` (four eyes: an approval left the request pending, another approver is
   * needed), `request.decided`, `request.expired`, `request.cancelled`, `request.reminder`,
   * `request.escalated`. Each is then sent once per event (the manager's outbox retries it, from any
   * instance) as a Standard Webhooks message `{ type, timestamp, data }` with a stable `webhook-id`.
   * Without it, pending requests are sent as {@link toWebhookPayload} bodies through `notify`.
   * A `request.decided` callback lets a serverless agent resume.
   */
  events?: readonly NotificationEventType[];
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
  /** Whether the notifier takes outbox events (`events` and `deliver`). */
  events?: boolean;
}
