// The `@hitl/langchain/middleware` entry: agent middleware and LangChain's interrupt path.
export { approvalMiddleware } from './approval-middleware.js';
export type { ApprovalMiddlewareOptions, ConfidenceOption, RiskLevelOption } from './approval-middleware.js';
export { toInterruptOn } from './interrupt-on.js';
export type { InterruptPolicyOptions, InterruptTool } from './interrupt-on.js';
export { submitInterrupt, waitForInterruptDecisions } from './interrupt.js';
export type { HitlInterrupt, InterruptResume, SubmitInterruptOptions } from './interrupt.js';
export { createResumer } from './resumer.js';
export type { ResumableAgent, ResumeConfig, ResumedRun, ResumerOptions } from './resumer.js';
export type { Resumer } from '@hitl/core';
export type { DurablePause, DurableResume } from './durable-review.js';
