import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Child processes (the test MCP server, the hitl-mcp binary) start slowly on a loaded machine.
    testTimeout: 30_000,
    typecheck: {
      include: ['src/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
