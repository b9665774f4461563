// Vitest config for @hitl/notifier-webhook: the workspace's shared package settings.
import { packageTestConfig } from '../../vitest.shared';

export default packageTestConfig();
