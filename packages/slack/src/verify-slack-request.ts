/** `verifySlackRequest`: checks a Slack request's v0 signature and timestamp. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HitlError } from '@hitl/core';

/**
 * Options of {@link verifySlackRequest}.
 *
 * @example
 * ```ts
 * const options: VerifySlackRequestOptions = {
 *   signingSecret: process.env.SLACK_SIGNING_SECRET!,
 *   signature: request.get('x-slack-signature'),
 *   timestamp: request.get('x-slack-request-timestamp'),
 *   rawBody,
 * };
 * ```
 */
export interface VerifySlackRequestOptions {
  /** The app's signing secret (Basic Information → App Credentials). */
  signingSecret: string;
  /** The `X-Slack-Signature` header: `v0=` + hex HMAC-SHA256. */
  signature: string | undefined;
  /** The `X-Slack-Request-Timestamp` header: Unix seconds. */
  timestamp: string | undefined;
  /** The body exactly as received. */
  rawBody: string | Buffer;
  /** How far the timestamp may be from now, in seconds. Default 300 (Slack's recommendation). */
  toleranceSec?: number;
  /** The clock, in milliseconds. Default `Date.now()`. */
  nowMs?: number;
}

/**
 * Checks a request from Slack per Slack's "verifying requests" scheme: `v0=` HMAC-SHA256 of
 * `v0:{timestamp}:{raw body}` keyed by the signing secret, compared in constant time, with the
 * timestamp within ±`toleranceSec` of now. Throws `HitlError('forbidden')` saying what was wrong.
 *
 * Hand-written on `node:crypto` because the only maintained Slack package exporting this check is
 * `@slack/bolt` (a whole app framework); `@slack/events-api` and `@slack/interactive-messages` are retired.
 *
 * @example
 * ```ts
 * import { verifySlackRequest } from '@hitl/slack';
 *
 * verifySlackRequest({ signingSecret, signature: headers['x-slack-signature'], timestamp: headers['x-slack-request-timestamp'], rawBody });
 * ```
 */
export function verifySlackRequest({
  signingSecret,
  signature,
  timestamp,
  rawBody,
  toleranceSec = 300,
  nowMs = Date.now(),
}: VerifySlackRequestOptions): void {
  if (typeof signature !== 'string' || !signature.startsWith('v0=')) {
    throw new HitlError('forbidden', 'Slack request has no v0 X-Slack-Signature header', { details: { field: 'signature' } });
  }
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) {
    throw new HitlError('forbidden', 'Slack request has no valid X-Slack-Request-Timestamp header', { details: { field: 'timestamp' } });
  }
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > toleranceSec) {
    throw new HitlError(
      'forbidden',
      `Slack request timestamp is ${Math.round(skew)} s away from now (more than ${toleranceSec} s): stale or replayed`,
      {
        details: { field: 'timestamp', value: `'${timestamp}'` },
      },
    );
  }
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new HitlError('forbidden', 'Slack request signature does not match the signing secret', { details: { field: 'signature' } });
  }
}

/**
 * Signs a body the way Slack does: the headers a test (or a bench) sends to the actions router.
 *
 * @example
 * ```ts
 * const headers = signSlackRequest({ signingSecret: 'test-secret', rawBody: 'payload=...' });
 * ```
 */
export function signSlackRequest({
  signingSecret,
  rawBody,
  timestamp = Math.floor(Date.now() / 1000),
}: {
  signingSecret: string;
  rawBody: string;
  timestamp?: number;
}): {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
} {
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(timestamp) };
}
