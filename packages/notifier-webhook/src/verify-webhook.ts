/** `verifyWebhook`: checks a received webhook's Standard Webhooks signature and age, then parses it. */
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { HitlError } from '@hitl/core';
import { parseSecrets } from './secret.js';
import { computeSignature } from './signature.js';
import { describeValue, invalidInput, isPlainObject } from '@hitl/core/internal';
import { functionOption } from './validation.js';

/**
 * Request headers as a receiver has them: a Fetch `Headers` instance, or a plain object with keys
 * in any case (Node's `request.headers`, Express's `req.headers`). `webhook-id` or
 * `webhook-timestamp` given more than once is refused; `webhook-signature` given more than once
 * (an array, or values joined with ", ") is read as one list of signatures.
 *
 * @example
 * ```ts
 * const fromNode: WebhookHeaders = request.headers; // node:http IncomingMessage
 * const fromFetch: WebhookHeaders = new Headers({ 'webhook-id': 'msg_1' });
 * ```
 */
export type WebhookHeaders =
  { get(name: string): string | null | undefined } | Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * Options of {@link verifyWebhook}. Give `secret` (one `whsec_...` string or a list) or `secrets`
 * (a list), not both.
 *
 * @example
 * ```ts
 * // In a Fetch-style handler (Hono, Next.js route handlers, Deno, Bun):
 * const options: VerifyWebhookOptions = {
 *   secrets: [process.env.HITL_WEBHOOK_SECRET!, process.env.HITL_WEBHOOK_SECRET_OLD!],
 *   headers: request.headers,
 *   rawBody: await request.arrayBuffer(),
 * };
 * const payload = verifyWebhook(options);
 * ```
 */
export interface VerifyWebhookOptions {
  /** The shared secret, `'whsec_'` + base64 of 24 to 64 bytes; a list accepts any of them. */
  secret?: string | readonly string[];
  /** The secrets of a rotation: a signature made with any of them is accepted. */
  secrets?: readonly string[];
  headers: WebhookHeaders;
  /** The body exactly as received, before any JSON parsing. */
  rawBody: string | Uint8Array | ArrayBuffer;
  /** How far `webhook-timestamp` may be from now, either way, in seconds. Default 300. */
  toleranceSec?: number;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

const MAX_ID_LENGTH = 256;
const TIMESTAMP = /^[0-9]{1,12}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(problem: string): HitlError {
  return new HitlError('forbidden', `webhook verification failed: ${problem}`);
}

/** Reads one header by its lower-case name; undefined when absent. */
function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value: unknown = (headers as { get(name: string): unknown }).get(name);
    if (value === null || value === undefined) return undefined;
    if (typeof value !== 'string') throw refuse(`the ${name} header is ${describeValue(value)}, not a string`);
    return value;
  }
  let found: unknown;
  let matches = 0;
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    matches += 1;
    found = (headers as Record<string, unknown>)[key];
  }
  if (matches > 1) throw refuse(`the ${name} header is given ${matches} times`);
  if (Array.isArray(found)) {
    if (found.length > 1) throw refuse(`the ${name} header is given ${found.length} times`);
    found = found[0];
  }
  if (found === undefined) return undefined;
  if (typeof found !== 'string') throw refuse(`the ${name} header is ${describeValue(found)}, not a string`);
  return found;
}

/**
 * Every value of the `webhook-signature` header, as one space-delimited list. Standard Webhooks puts
 * several signatures in one header separated by spaces; a header sent twice reaches a receiver as
 * an array (a plain object of headers) or joined with ", " (Fetch `Headers.get`, Node's
 * `request.headers`): every form is accepted, and any one signature that verifies is enough.
 */
function readSignatures(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return readHeader(headers, name);
  const values: string[] = [];
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue;
    const value: unknown = (headers as Record<string, unknown>)[key];
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item === undefined) continue;
      if (typeof item !== 'string') throw refuse(`the ${name} header is ${describeValue(item)}, not a string`);
      values.push(item);
    }
  }
  return values.length === 0 ? undefined : values.join(' ');
}

/** The signatures of a `webhook-signature` value: split on spaces, each without the "," that joined two headers. */
function signatureEntries(text: string): string[] {
  return text
    .split(/\s+/)
    .map((entry) => entry.replace(/,+$/, ''))
    .filter((entry) => entry !== '');
}

function requireHeader(headers: WebhookHeaders, name: string): string {
  const value = readHeader(headers, name);
  if (value === undefined || value === '') throw refuse(`the ${name} header is missing`);
  return value;
}

function bodyBytes(rawBody: unknown): string | Uint8Array {
  if (typeof rawBody === 'string' || rawBody instanceof Uint8Array) return rawBody;
  if (rawBody instanceof ArrayBuffer) return new Uint8Array(rawBody);
  throw invalidInput('rawBody', rawBody, 'must be the raw body as a string, Uint8Array, Buffer or ArrayBuffer');
}

function secretKeys(options: VerifyWebhookOptions): KeyObject[] {
  const { secret, secrets } = options;
  if (secret !== undefined && secrets !== undefined) {
    throw new HitlError('invalid_input', 'give either secret or secrets, not both', { details: { field: 'secrets' } });
  }
  if (secret !== undefined) return parseSecrets('secret', secret);
  if (secrets !== undefined) {
    if (!Array.isArray(secrets)) throw invalidInput('secrets', secrets, 'must be a list of whsec_ secrets');
    return parseSecrets('secrets', secrets);
  }
  throw new HitlError('invalid_input', 'secret (or secrets) is required to verify a webhook', {
    details: { field: 'secret', value: 'undefined' },
  });
}

function sameText(candidate: string, expected: Buffer): boolean {
  const bytes = Buffer.from(candidate, 'utf8');
  return bytes.length === expected.length && timingSafeEqual(bytes, expected);
}

/**
 * Checks a webhook the Standard Webhooks way (what `createWebhookNotifier` sends) and returns its
 * parsed JSON body. It checks, in order: the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers are present; the timestamp is an integer within `toleranceSec` of
 * now, in the past **or** the future (replays and clock tricks); and one `v1` signature matches an
 * HMAC-SHA256 of `id.timestamp.body` under one of the secrets, compared in constant time.
 * Signatures of other versions (`v1a`, ...) are skipped.
 *
 * Throws `HitlError('forbidden')` saying which check failed (answer 401), or
 * `HitlError('invalid_input')` for a malformed secret or option, or for a correctly signed body
 * that is not JSON (answer 400). Pass the body exactly as received: JSON re-serialized by a body
 * parser does not verify.
 *
 * The type parameter only casts the result; validate the payload's shape yourself.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { HitlError } from '@hitl/core';
 * import { verifyWebhook } from '@hitl/notifier-webhook';
 *
 * createServer(async (request, response) => {
 *   const chunks: Buffer[] = [];
 *   for await (const chunk of request) chunks.push(chunk as Buffer);
 *   try {
 *     const payload = verifyWebhook({ secret: process.env.HITL_WEBHOOK_SECRET!, headers: request.headers, rawBody: Buffer.concat(chunks) });
 *     console.log('approval waiting', payload);
 *     response.writeHead(204).end();
 *   } catch (error) {
 *     response.writeHead(HitlError.is(error, 'forbidden') ? 401 : 400).end();
 *   }
 * }).listen(8787);
 * ```
 */
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions): T {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const keys = secretKeys(options);
  const { toleranceSec = 300, headers } = options;
  if (typeof toleranceSec !== 'number' || !Number.isFinite(toleranceSec) || toleranceSec <= 0) {
    throw invalidInput('toleranceSec', toleranceSec, 'must be a positive, finite number of seconds');
  }
  const now = functionOption<() => number>('now', options.now, Date.now);
  if (typeof headers !== 'object' || headers === null) {
    throw invalidInput('headers', headers, 'must be a Headers instance or an object of header values');
  }
  const body = bodyBytes(options.rawBody);

  let id: string;
  let timestampText: string;
  let signatureText: string;
  try {
    id = requireHeader(headers, 'webhook-id');
    timestampText = requireHeader(headers, 'webhook-timestamp');
    const signatures = readSignatures(headers, 'webhook-signature');
    if (signatures === undefined || signatures.trim() === '') throw refuse('the webhook-signature header is missing');
    signatureText = signatures;
  } catch (error) {
    if (HitlError.is(error)) throw error;
    throw new HitlError('invalid_input', `headers could not be read: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      details: { field: 'headers' },
    });
  }

  if (id.length > MAX_ID_LENGTH) throw refuse(`the webhook-id header is longer than ${MAX_ID_LENGTH} characters`);
  if (id.includes('.')) throw refuse(`the webhook-id header ${describeValue(id)} contains '.'`);
  if (!TIMESTAMP.test(timestampText)) {
    throw refuse(`the webhook-timestamp header ${describeValue(timestampText)} is not an integer number of seconds`);
  }
  const timestamp = Number(timestampText);
  const nowMs = now();
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw invalidInput('now()', nowMs, 'must return a finite number of ms');
  const nowSec = Math.floor(nowMs / 1000);
  if (nowSec - timestamp > toleranceSec) {
    throw refuse(`the webhook-timestamp ${timestamp} is too old (${nowSec - timestamp} s ago; tolerance ${toleranceSec} s)`);
  }
  if (timestamp - nowSec > toleranceSec) {
    throw refuse(`the webhook-timestamp ${timestamp} is too new (${timestamp - nowSec} s ahead; tolerance ${toleranceSec} s)`);
  }

  const candidates: string[] = [];
  const otherVersions = new Set<string>();
  for (const entry of signatureEntries(signatureText)) {
    const comma = entry.indexOf(',');
    const version = comma === -1 ? entry : entry.slice(0, comma);
    if (version === 'v1' && comma !== -1) candidates.push(entry.slice(comma + 1));
    else otherVersions.add(version.length > 16 ? `${version.slice(0, 13)}...` : version);
  }
  if (candidates.length === 0) {
    const seen = [...otherVersions]
      .slice(0, 5)
      .map((version) => `'${version}'`)
      .join(', ');
    throw refuse(`the webhook-signature header has no v1 signature (only ${seen || 'nothing'})`);
  }
  let matched = false;
  for (const key of keys) {
    const expected = Buffer.from(computeSignature(key, id, timestampText, body), 'utf8');
    for (const candidate of candidates) {
      if (sameText(candidate, expected)) matched = true;
    }
  }
  if (!matched) {
    throw refuse(`no v1 signature matches (${candidates.length} tried against ${keys.length} secret${keys.length === 1 ? '' : 's'})`);
  }

  let text: string;
  try {
    text = typeof body === 'string' ? body : utf8.decode(body);
  } catch (error) {
    throw new HitlError('invalid_input', 'rawBody is correctly signed but is not UTF-8 text', {
      cause: error,
      details: { field: 'rawBody' },
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new HitlError('invalid_input', 'rawBody is correctly signed but is not JSON', { cause: error, details: { field: 'rawBody' } });
  }
}
