import type { InteractionResponse } from '@hitl/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * Why a tool call did not run: a policy denied it, a reviewer rejected it, nobody decided in time
 * (`onTimeout: 'reject'` or `'error'`), the gate refused it (an invalid tool name), or the request
 * could not be recorded.
 *
 * @example
 * ```ts
 * const formatRejection = (rejection: ToolRejection) => `${rejection.reason}: ${rejection.feedback ?? ''}`;
 * ```
 */
export type RejectionReason = 'policy' | 'reviewer' | 'timeout' | 'invalid_tool' | 'unavailable';

/**
 * What is known about a refused MCP tool call; `formatRejection` turns it into the text the model reads.
 *
 * @example
 * ```ts
 * const rejection: ToolRejection = { reason: 'reviewer', toolName: 'delete_user', feedback: 'wrong user' };
 * ```
 */
export interface ToolRejection {
  reason: RejectionReason;
  toolName: string;
  /** The manager's request id, when a request was recorded. */
  requestId?: string;
  /** The reviewer's feedback, the policy's reason, the expiry note, or what was wrong. */
  feedback?: string;
  response?: InteractionResponse;
}

/**
 * The text a refused call returns (the same wording as hitl's LangChain and AI SDK adapters):
 * `"Rejected by reviewer: <feedback>"`, `"Denied by policy: <reason>"`,
 * `"Rejected: nobody approved the call in time (<note>)"`, `"Refused: <problem>"`.
 *
 * @example
 * ```ts
 * defaultRejectionMessage({ reason: 'reviewer', toolName: 'delete_user', feedback: 'wrong user' });
 * // 'Rejected by reviewer: wrong user'
 * ```
 */
export function defaultRejectionMessage(rejection: ToolRejection): string {
  const { feedback } = rejection;
  switch (rejection.reason) {
    case 'reviewer':
      return feedback ? `Rejected by reviewer: ${feedback}` : 'Rejected by reviewer.';
    case 'policy':
      return feedback ? `Denied by policy: ${feedback}` : 'Denied by policy.';
    case 'timeout':
      return feedback ? `Rejected: nobody approved the call in time (${feedback})` : 'Rejected: nobody approved the call in time.';
    case 'invalid_tool':
    case 'unavailable':
      return `Refused: ${feedback ?? 'the call could not be sent for approval'}`;
  }
}

/** An MCP tool result that tells the model the call did not run. */
export function rejectionResult(rejection: ToolRejection, text: string): CallToolResult {
  const result: CallToolResult = { content: [{ type: 'text', text }], isError: true };
  result._meta = { 'dev.hitl/rejection': { reason: rejection.reason, ...(rejection.requestId ? { requestId: rejection.requestId } : {}) } };
  return result;
}
