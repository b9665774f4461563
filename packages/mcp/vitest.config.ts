// Vitest config for @hitl/mcp: the workspace's shared package settings.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig();
