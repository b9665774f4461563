// The public entry of @hitl/opentelemetry.
export { instrumentManager, type InstrumentManagerOptions } from './instrument-manager.js';
export { approvalSpanName } from './approval-span.js';
export { HitlAttributes, decidedBy, type DecidedBy } from './attributes.js';
