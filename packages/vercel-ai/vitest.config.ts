import { defineConfig } from 'vitest/config';

// ai 6 (the devDependency). The *.v7.* files run against ai 7 through vitest.v7.config.ts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['src/**/*.v7.test.ts', '**/node_modules/**'],
    testTimeout: 20_000,
    typecheck: {
      include: ['src/**/*.test-d.ts'],
      exclude: ['src/**/*.v7.test-d.ts', '**/node_modules/**'],
      tsconfig: './tsconfig.json',
    },
  },
});
