// The public entry of @hitl/core.
export {
  Decision,
  InteractionType,
  RequestStatus,
  RiskLevel,
  isDecision,
  isInteractionType,
  isRequestStatus,
  isRiskLevel,
} from './constants.js';
export { HitlError, type HitlErrorCode, type HitlErrorDetails } from './hitl-error.js';
export { createManager } from './approval-manager.js';
export { createMemoryStore } from './memory-store.js';
export {
  explainEvaluation,
  type ExplainCall,
  type ExplainOptions,
  type PolicyCheck,
  type PolicyExplanation,
  type PolicyStep,
} from './policy-explain.js';
export { createLogNotifier } from './log-notifier.js';
export { canonicalJson, hashInput } from './canonical-json.js';
export { MAX_TOOL_NAME_LENGTH, toolNameProblem } from './tool-name.js';
export { identityKey } from './identity.js';
export { MAX_INPUT_SCHEMA_BYTES } from './input-schema.js';
export { MAX_RESUME_LEASE_MS, RESUME_WITH_KEY } from './resume-claim.js';
export type { ResumeClaim, Resumer, UnresumedPage, UnresumedQuery } from './resume-claim.js';
export type {
  AddApprovalWriteOptions,
  NotificationEventType,
  NotificationMessage,
  OutboxClaimOptions,
  OutboxJobFilter,
  OutboxJob,
  OutboxJobInput,
  OutboxJobState,
  OutboxListQuery,
  OutboxListResult,
  OutboxOptions,
  OutboxStore,
  StoreWriteOptions,
} from './outbox/types.js';
export { defaultRejectionMessage, type RejectionReason, type ToolRejection } from './tool-rejection.js';
export type {
  AddApprovalInput,
  Approval,
  ApprovalPolicy,
  ApprovalRecord,
  ApprovalStore,
  CreateResult,
  DecidePatch,
  InteractionRequest,
  InteractionResponse,
  ListQuery,
  ListResult,
  Logger,
  Manager,
  ManagerEvent,
  ManagerEventType,
  ManagerHooks,
  ManagerOptions,
  Notifier,
  PolicyCall,
  PolicyCondition,
  PolicyEvaluation,
  PolicyOutcome,
  RespondInput,
  Scheduler,
  StoreChange,
  StoredRequest,
  WaitOptions,
} from './types.js';
export type {
  ApprovalStoreGrants,
  DecideManyItem,
  Grant,
  GrantChange,
  GrantEffect,
  GrantInput,
  GrantList,
  GrantQuery,
  GrantScope,
  RememberInput,
  RememberScope,
  RespondManyTarget,
} from './grants/grant-types.js';
export { MAX_RESPOND_MANY } from './grants/respond-many.js';
