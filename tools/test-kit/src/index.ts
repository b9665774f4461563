// @hitl/test-kit: shared test support for the hitl workspace (private, never published).
// The PostgreSQL and Chromium parts live on their own subpaths so a suite loads only what it uses.
export { createRecordingLogger, type LogEntry, type RecordingLogger } from './logger.js';
export { openEventStream, type EventStreamClient, type SseFrame } from './event-stream.js';
export { closedPort, listen, type RunningServer } from './http.js';
export { waitUntil, within } from './wait.js';
