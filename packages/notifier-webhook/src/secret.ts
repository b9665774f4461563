/** Standard Webhooks secrets: parsing `whsec_` keys (and rotations) and generating new ones. */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { HitlError } from '@hitl/core';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The Standard Webhooks spec asks for 24 to 64 random bytes (192 to 512 bits). */
const MIN_BYTES = 24;
const MAX_BYTES = 64;

/** Why a secret is refused; the message never shows the secret itself. */
function badSecret(field: string, problem: string): HitlError {
  return new HitlError('invalid_input', `${field} ${problem}`, { details: { field } });
}

/**
 * Decodes one `whsec_<base64>` secret into an HMAC key, once. The base64 must be canonical (no
 * stray characters, no spare bits), so one secret has exactly one spelling.
 */
export function parseSecret(field: string, secret: unknown): KeyObject {
  if (typeof secret !== 'string') throw badSecret(field, `must be a 'whsec_...' string, got ${secret === null ? 'null' : typeof secret}`);
  if (!secret.startsWith(PREFIX)) throw badSecret(field, `must start with '${PREFIX}' (a Standard Webhooks secret)`);
  const encoded = secret.slice(PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) throw badSecret(field, `is not valid base64 after '${PREFIX}'`);
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw badSecret(field, `is not canonical base64 after '${PREFIX}'`);
  }
  if (bytes.length < MIN_BYTES || bytes.length > MAX_BYTES) {
    throw badSecret(field, `decodes to ${bytes.length} bytes; Standard Webhooks secrets are ${MIN_BYTES} to ${MAX_BYTES} bytes`);
  }
  return createSecretKey(bytes);
}

/** Decodes a secret or a non-empty list of secrets (newest first, for rotation). */
export function parseSecrets(field: string, secrets: unknown): KeyObject[] {
  if (Array.isArray(secrets)) {
    if (secrets.length === 0)
      throw new HitlError('invalid_input', `${field} must not be an empty list`, { details: { field, value: 'an array' } });
    if (secrets.length > 10)
      throw new HitlError('invalid_input', `${field} has ${secrets.length} secrets; at most 10 are allowed`, {
        details: { field, value: 'an array' },
      });
    return secrets.map((secret: unknown, index) => parseSecret(`${field}[${index}]`, secret));
  }
  return [parseSecret(field, secrets)];
}

/**
 * Makes a new random Standard Webhooks secret: `'whsec_'` followed by 32 random bytes in base64.
 * Give the same string to the sender (`createWebhookNotifier({ secret })`) and the receiver
 * (`verifyWebhook({ secret })`).
 *
 * @example
 * ```ts
 * import { generateWebhookSecret } from '@hitl/notifier-webhook';
 * const secret = generateWebhookSecret(); // 'whsec_3q2+7w...'
 * ```
 */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}
