// Vitest config for @hitl/notifier-email: the workspace's shared package settings.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig();
