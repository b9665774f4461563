import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Real PostgreSQL on a shared 2-core machine: generous, bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: {
      include: ['src/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
