// The public entry of @hitl/vercel-ai.
export { withApproval, isToolRejection, type RejectionDetails, type WithApprovalOptions } from './with-approval.js';
export {
  needsApproval,
  toolApproval,
  type NeedsApprovalFunction,
  type NeedsApprovalOptions,
  type ToolApprovalDecision,
  type ToolApprovalFunction,
  type ToolApprovalOptions,
} from './native-approval.js';
export {
  approvalRequestId,
  submitApprovalRequests,
  toApprovalResponses,
  type ApprovalResponses,
  type SubmitApprovalRequestsOptions,
} from './approval-bridge.js';
export { createResumer, type ContinuedRun, type ResumedConversation, type ResumerOptions } from './resumer.js';
export type { Resumer } from '@hitl/core';
export type {
  ApprovalRequestSource,
  CallOptions,
  ConfidenceOption,
  RiskLevelOption,
  ToolApprovalMessage,
  ToolApprovalResponsePart,
  ToolCallInfo,
  ToolLike,
  RejectionReason,
  RequestOptions,
  ToolRejection,
  ToolRejectionOutput,
  ToolSetLike,
} from './types.js';
