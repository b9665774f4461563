// Vitest config for @hitl/vercel-ai: the workspace's shared package settings, leaving the ai 7 files out.
import { packageTestConfig } from '../../vitest.shared';

// ai 6 (the devDependency). The *.v7.* files run against ai 7 through vitest.v7.config.ts.
export default packageTestConfig({
  test: {
    exclude: ['src/**/*.v7.test.ts', '**/node_modules/**'],
    typecheck: { exclude: ['src/**/*.v7.test-d.ts', '**/node_modules/**'] },
  },
});
