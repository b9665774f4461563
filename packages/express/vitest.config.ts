// Vitest config for @hitl/express: the workspace's shared package settings.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig();
