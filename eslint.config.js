import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@hitl/*/src/*', '@hitl/*/dist/*', '../../*/src/*', '../../../packages/*'],
              message:
                "Import another package only through its public entry ('@hitl/core', '@hitl/core/testing'). hitl's own packages may also import '@hitl/core/internal' (shared helpers, no semver promise); applications may not.",
            },
          ],
        },
      ],
    },
  },
  {
    // Type-aware promise rules for library sources (typescript-eslint's projectService reads each
    // package's tsconfig.json, so lint needs the workspace dependencies built: turbo's lint task
    // depends on ^build). Fire-and-forget is written as an explicit `void`, with the reason.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-d.ts', '**/test-support/**', '**/*.test-helper.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The dashboard's browser code has its own tsconfig (DOM lib, bundler resolution).
    files: ['packages/express/src/dashboard/**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: false, project: ['packages/express/tsconfig.dashboard.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['**/*.test.ts', '**/*.test-d.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
