// The public entry of @hitl/langchain.
export { withApproval, wrapTools } from './with-approval.js';
export type { ToolInput, WithApprovalOptions } from './with-approval.js';
export { ToolRejectedError, defaultRejectionMessage } from './rejection.js';
export type { RejectionReason, ToolRejection } from './rejection.js';
export type { OnReject } from './review.js';
