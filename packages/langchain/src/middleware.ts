export { approvalMiddleware } from './approval-middleware.js';
export type { ApprovalMiddlewareOptions, ConfidenceOption, RiskLevelOption } from './approval-middleware.js';
export { submitInterrupt, toInterruptOn, waitForInterruptDecisions } from './interrupt.js';
export { createResumer } from './resumer.js';
export type { ResumableAgent, ResumeConfig, ResumedRun, ResumerOptions } from './resumer.js';
export type { Resumer } from '@hitl/core';
export type { DurablePause, DurableResume } from './durable-review.js';
export type { HitlInterrupt, InterruptPolicyOptions, InterruptResume, InterruptTool, SubmitInterruptOptions } from './interrupt.js';
