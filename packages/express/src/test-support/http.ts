// The loopback server and the event-stream client come from @hitl/test-kit; re-exported here while
// dashboard-page.test.ts (being rewritten) still imports from this file.
export { listen, type RunningServer } from '@hitl/test-kit';
