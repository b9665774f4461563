/** The MCP tool result of a refused call; the rejection shape and its default text are core's. */
import { defaultRejectionMessage, type RejectionReason, type ToolRejection } from '@hitl/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

// One shape for every hitl adapter: re-exported so `import { ToolRejection } from '@hitl/mcp'` keeps working.
export { defaultRejectionMessage };
export type { RejectionReason, ToolRejection };

/** An MCP tool result that tells the model the call did not run. */
export function rejectionResult(rejection: ToolRejection, text: string): CallToolResult {
  const result: CallToolResult = { content: [{ type: 'text', text }], isError: true };
  result._meta = { 'dev.hitl/rejection': { reason: rejection.reason, ...(rejection.requestId ? { requestId: rejection.requestId } : {}) } };
  return result;
}
