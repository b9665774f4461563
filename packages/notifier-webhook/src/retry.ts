// Retry timing of webhook deliveries: `Retry-After` and exponential backoff with jitter.
const DIGITS = /^\s*[0-9]+\s*$/;

/**
 * The wait a `Retry-After` header asks for, in ms: either a number of seconds or an HTTP date.
 * Undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (DIGITS.test(value)) return Math.min(Number(value.trim()) * 1000, Number.MAX_SAFE_INTEGER);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * Exponential backoff with full jitter: a random wait in [0, min(maxDelayMs, baseDelayMs * 2^(n-1)))
 * after the n-th failed attempt.
 */
export function backoffDelay(failedAttempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (failedAttempt - 1));
  const draw = random();
  const unit = typeof draw === 'number' && draw >= 0 && draw <= 1 ? draw : 1;
  return Math.floor(unit * ceiling);
}
