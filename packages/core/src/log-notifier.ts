/** `createLogNotifier`: a notifier that writes each pending request to a logger. */
import { quorumSummary, requiredApprovals } from './four-eyes.js';
import type { Logger, Notifier } from './types.js';

/**
 * A notifier that logs "human interaction required" at warn level with the request's id, type, tool,
 * description, confidence and risk. Handy in development and as a fallback next to a webhook.
 * A request that needs several approvers (four eyes) says where it stands, as the other notifiers
 * do: "human interaction required: 1 of 2 approvals (alice); needs 1 more", with `approvals`,
 * `approvalsRequired` and `approvalsRemaining` in the details.
 *
 * @example
 * ```ts
 * import { createLogNotifier, createManager } from '@hitl/core';
 * const manager = createManager({ notifiers: [createLogNotifier(console)] });
 * ```
 */
export function createLogNotifier(logger: Pick<Logger, 'warn'> = console): Notifier {
  return {
    name: 'log',
    async notify(record) {
      const { request } = record;
      const details: Record<string, unknown> = {
        id: request.id,
        type: request.type,
        toolName: request.toolName,
        description: request.description,
        confidence: request.confidence ?? 0,
        riskLevel: request.riskLevel ?? 'irreversible',
        expiresAt: record.expiresAt,
      };
      const quorum = quorumSummary(record);
      if (quorum === undefined) {
        logger.warn('human interaction required', details);
        return;
      }
      const required = requiredApprovals(record);
      const approvals = (record.approvals ?? []).map((approval) => approval.by);
      logger.warn(`human interaction required: ${quorum}`, {
        ...details,
        approvals,
        approvalsRequired: required,
        approvalsRemaining: Math.max(required - approvals.length, 0),
      });
    },
  };
}
