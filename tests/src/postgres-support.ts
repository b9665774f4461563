// Reliability-suite helpers that only these suites need. The shared PostgreSQL and wait helpers
// (pools, admin connection, schema names, recording logger, within/waitUntil) come from @hitl/test-kit.

/** The p-th percentile (0..100) of a list of numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Collects `unhandledRejection`s while installed; `stop()` removes the listener and returns them. */
export function watchUnhandledRejections(): { readonly reasons: unknown[]; stop(): unknown[] } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    reasons,
    stop() {
      process.removeListener('unhandledRejection', listener);
      return reasons;
    },
  };
}
