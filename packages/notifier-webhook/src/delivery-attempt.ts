/** One delivery attempt: a signed POST with its own timeout, its answer classified as delivered, gone, final or retry. */
import type { KeyObject } from 'node:crypto';
import { HitlError, type Scheduler } from '@hitl/core';
import { errorMessage } from '@hitl/core/internal';
import { parseRetryAfter } from './retry.js';
import { signatureHeader } from './signature.js';

const DETAIL_BYTES = 512;
const DRAIN_BYTES = 64 * 1024;

/** What one attempt came to. */
export type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'gone'; reason: string }
  | { kind: 'final'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number; cause?: unknown };

/** What an attempt needs of a delivery: its stable id, its body, and the signal that ends it. */
export interface AttemptTarget {
  readonly webhookId: string;
  readonly body: string;
  readonly controller: AbortController;
}

export interface AttemptSettings {
  url: URL;
  baseHeaders: Record<string, string>;
  keys: KeyObject[];
  timeoutMs: number;
  fetchImpl: typeof fetch;
  now: () => number;
  scheduler: Scheduler;
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

/**
 * Makes the attempt function: each call POSTs once, with `webhook-timestamp` and
 * `webhook-signature` fresh and `webhook-id` stable, and never follows redirects.
 */
export function createAttempt({ url, baseHeaders, keys, timeoutMs, fetchImpl, now, scheduler }: AttemptSettings) {
  return async (delivery: AttemptTarget): Promise<AttemptOutcome> => {
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
}
