// The second test run: the *.v7.* files against ai 7, installed apart in ./ai-v7 (its engines field
// says Node >= 22 and the workspace keeps engine-strict on). `ai` and `ai/test` point there.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const aiVersion7 = (path: string) => fileURLToPath(new URL(`./ai-v7/node_modules/ai/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^ai$/, replacement: aiVersion7('dist/index.js') },
      { find: /^ai\/test$/, replacement: aiVersion7('dist/test/index.js') },
    ],
  },
  test: {
    include: ['src/**/*.v7.test.ts'],
    testTimeout: 20_000,
    typecheck: {
      include: ['src/**/*.v7.test-d.ts'],
      tsconfig: './tsconfig.v7.json',
    },
  },
});
