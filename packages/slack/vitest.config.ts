// Vitest config for @hitl/slack: the workspace's shared package settings.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig();
