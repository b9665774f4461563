// Vitest config for the reliability tests: races, faults and hostile input, with long timeouts for PostgreSQL and child processes.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
