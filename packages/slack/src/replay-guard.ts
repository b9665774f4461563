// A bounded memory of Slack request signatures seen recently, so a replayed request is refused.
/**
 * Remembers the signatures seen within the signature tolerance window, so a captured request played
 * again inside that window is refused. Per process and bounded: past `maxEntries` the oldest are
 * forgotten (the decision is exactly-once in the store anyway, so a replay can never decide twice).
 */
export function createReplayGuard({ windowMs, maxEntries = 10_000 }: { windowMs: number; maxEntries?: number }) {
  const seen = new Map<string, number>();
  return {
    /** `true` the first time `key` is seen within the window; `false` for a replay. */
    firstUse(key: string, nowMs: number): boolean {
      for (const [oldKey, expiresAt] of seen) {
        if (expiresAt > nowMs && seen.size < maxEntries) break;
        seen.delete(oldKey);
      }
      if (seen.has(key)) return false;
      seen.set(key, nowMs + windowMs);
      return true;
    },
  };
}
