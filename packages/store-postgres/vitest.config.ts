// Vitest config for @hitl/store-postgres: the workspace's shared package settings.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig();
