/** Standard Webhooks signatures: the HMAC of id, timestamp and body, and the header that carries it. */
import { createHmac, type KeyObject } from 'node:crypto';

/** The base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, as the Standard Webhooks spec signs it. */
export function computeSignature(key: KeyObject, id: string, timestamp: string, body: string | Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** The `webhook-signature` header: one `v1,<signature>` per key, space separated. */
export function signatureHeader(keys: readonly KeyObject[], id: string, timestamp: string, body: string | Uint8Array): string {
  return keys.map((key) => `v1,${computeSignature(key, id, timestamp, body)}`).join(' ');
}
