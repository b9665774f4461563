// The public entry of @hitl/mcp.
export { withApproval } from './with-approval.js';
export type { WithApprovalOptions } from './with-approval.js';
export { createApprovalProxy } from './approval-proxy.js';
export type { ApprovalProxy, ApprovalProxyOptions } from './approval-proxy.js';
export type { HttpHandlerOptions, StreamableHttpHandler } from './streamable-http.js';
export type { GateOptions, ToolInfo } from './gate.js';
export { riskFromAnnotations } from './risk.js';
export type { RiskAssessment } from './risk.js';
export { defaultRejectionMessage } from './rejection.js';
export type { RejectionReason, ToolRejection } from './rejection.js';
export type { McpLogger } from './tool-list.js';
export type { UpstreamEvent, UpstreamOptions } from './upstream.js';
export type { ElicitationOptions } from './elicitation.js';
