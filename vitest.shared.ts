/** The Vitest settings every package of the workspace shares: where tests live, their bound, type tests. */
import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';

/**
 * A package's Vitest config: `src/**\/*.test.ts`, type tests in `src/**\/*.test-d.ts` against the
 * package's tsconfig, and 30 s per test and hook, a bound against hangs rather than a speed check
 * (property tests, real servers, PostgreSQL and child processes take seconds on a loaded two-core
 * machine). `overrides` is merged in (arrays are concatenated).
 */
export function packageTestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  const shared = defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      typecheck: {
        include: ['src/**/*.test-d.ts'],
        tsconfig: './tsconfig.json',
      },
    },
  });
  return mergeConfig(shared, overrides);
}
