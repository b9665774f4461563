import root from '../../eslint.config.js';

// The package must work with ai 6 and ai 7 from one build: its sources import only types from `ai`.
export default [
  ...root,
  {
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/*.test-d.ts', 'src/test-support/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'ai', message: "Import only types from 'ai' (import type): one build serves ai 6 and 7.", allowTypeImports: true },
            { name: 'ai/test', message: "'ai/test' is for tests only." },
          ],
          patterns: [{ group: ['@ai-sdk/*'], message: 'Do not depend on AI SDK internals.', allowTypeImports: true }],
        },
      ],
    },
  },
];
