export { approvalMiddleware } from './approval-middleware.js';
export type { ApprovalMiddlewareOptions, ConfidenceOption, RiskLevelOption } from './approval-middleware.js';
export { submitInterrupt, toInterruptOn, waitForInterruptDecisions } from './interrupt.js';
export type { HitlInterrupt, InterruptPolicyOptions, InterruptResume, InterruptTool, SubmitInterruptOptions } from './interrupt.js';
