/** Idempotency keys of the review API, scoped to the reviewer who sent them. */
import { createHash } from 'node:crypto';

/**
 * The core's idempotency key for a reviewer's `Idempotency-Key` header: one reviewer's keys never
 * collide with another's. A hash of the JSON pair, so `('a', 'b:c')` and `('a:b', 'c')` differ and
 * any reviewer id length fits the core's 200-character limit.
 */
export function idempotencyKeyOf(reviewerId: string, key: string): string {
  return `reviewer-key-${createHash('sha256')
    .update(JSON.stringify([reviewerId, key]))
    .digest('base64url')}`;
}
