/** Asking the MCP client to decide a pending request through elicitation, alongside the other channels. */
import { HitlError } from '@hitl/core';
import type { ApprovalRecord, Manager } from '@hitl/core';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { McpLogger } from './tool-list.js';

/**
 * Asking the MCP client's user too (MCP elicitation), opt in. `true` uses the defaults.
 *
 * @example
 * ```ts
 * createApprovalProxy({ upstream, manager, elicitation: { respondedBy: 'desktop-user' } });
 * ```
 */
export interface ElicitationOptions {
  /** Recorded as `respondedBy` for decisions made in the client. Default `'mcp-user'`. */
  respondedBy?: string;
  /** The question shown to the user. Default: the request's description and a prompt to approve or reject. */
  message?: (record: ApprovalRecord) => string;
}

const decisionSchema = () => ({
  type: 'object' as const,
  properties: {
    decision: { type: 'string' as const, title: 'Decision', enum: ['approve', 'reject'], enumNames: ['Approve', 'Reject'] },
    feedback: { type: 'string' as const, title: 'Reason (optional)' },
  },
  required: ['decision'],
});

function defaultMessage(record: ApprovalRecord): string {
  const description = record.request.description ?? `Call '${record.request.toolName}'`;
  return `Approve this tool call?\n\n${description}\n\n(${record.evaluation.reason})`;
}

/**
 * Asks the downstream client's user to approve or reject a pending request, beside the other
 * channels (dashboard, Slack…). The first decision wins: when another channel decides first, the
 * question is withdrawn (the client receives `notifications/cancelled`); when the user answers after
 * another channel decided, they are told through a log message. `decline` rejects; `cancel` (the user
 * dismissed the question) leaves the decision to the other channels.
 */
export function askThroughElicitation(
  server: Server,
  manager: Manager,
  record: ApprovalRecord,
  options: ElicitationOptions,
  logger: McpLogger,
): () => void {
  const controller = new AbortController();
  const respondedBy = options.respondedBy ?? 'mcp-user';
  const id = record.request.id;
  const tell = (text: string) => {
    if (!server.getClientCapabilities()) return;
    server.sendLoggingMessage({ level: 'notice', logger: 'hitl', data: text }).catch(() => undefined);
  };
  void server
    .elicitInput(
      { mode: 'form', message: (options.message ?? defaultMessage)(record), requestedSchema: decisionSchema() },
      { signal: controller.signal, timeout: 2_147_483_647 },
    )
    .then(async (result) => {
      if (result.action === 'cancel') return;
      const content = result.content ?? {};
      const decision = result.action === 'accept' && content.decision === 'approve' ? 'approve' : 'reject';
      const feedback =
        typeof content.feedback === 'string' && content.feedback !== ''
          ? content.feedback
          : result.action === 'decline'
            ? 'declined in the MCP client'
            : undefined;
      try {
        await manager.respond(id, { decision, respondedBy, ...(feedback === undefined ? {} : { feedback }) });
      } catch (error) {
        if (HitlError.is(error, 'conflict')) {
          const current = await manager.get(id).catch(() => undefined);
          tell(
            `Your answer to '${record.request.toolName}' came too late: it was already ${current?.status ?? 'decided'}${current?.response?.respondedBy ? ` by ${current.response.respondedBy}` : ''}.`,
          );
          return;
        }
        throw error;
      }
    })
    .catch((error: unknown) => {
      if (!controller.signal.aborted)
        logger.warn(`hitl: asking the MCP client to decide '${id}' failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  return () => controller.abort('decided in another channel');
}
