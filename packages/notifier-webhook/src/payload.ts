/** The webhook payload: what a notification sends about a pending request. */
import type { ApprovalRecord, InteractionType, RiskLevel } from '@hitl/core';

/**
 * The JSON body `createWebhookNotifier` sends by default: the pending request, camelCase. An
 * absent risk level is sent as `'irreversible'` and an absent confidence as 0, as the policies
 * read them. `description`, `expiresAt` and `metadata` are left out when the request has none.
 *
 * @example
 * ```json
 * {
 *   "id": "hitl-6f0c...", "type": "approval", "toolName": "delete_user",
 *   "description": "Delete user 12345", "input": { "user_id": "12345" },
 *   "riskLevel": "irreversible", "confidence": 0.85,
 *   "createdAt": "2026-01-01T00:00:00.000Z", "expiresAt": "2026-01-01T00:05:00.000Z"
 * }
 * ```
 */
export interface WebhookPayload {
  id: string;
  type: InteractionType;
  toolName: string;
  description?: string;
  input: Record<string, unknown>;
  riskLevel: RiskLevel;
  confidence: number;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601; absent when the request never expires. */
  expiresAt?: string;
  metadata?: Record<string, unknown>;
  /**
   * Four eyes, present only on requests that need several distinct approvers: how many, the
   * approvals given so far, and how many more are needed. A request is notified again after each
   * approval that leaves it pending (`approvals` non-empty, `approvalsRemaining` above 0): it still
   * needs another approver, and those in `approvals` cannot approve again.
   */
  approvalsRequired?: number;
  approvals?: { by: string; at: string }[];
  approvalsRemaining?: number;
}

/**
 * The default webhook body for a record. Use it in your own `body` function to add fields.
 *
 * @example
 * ```ts
 * import { createWebhookNotifier, toWebhookPayload } from '@hitl/notifier-webhook';
 *
 * const notifier = createWebhookNotifier({
 *   url: 'https://approvals.example.com/hooks/hitl',
 *   body: (record) => ({ ...toWebhookPayload(record), reviewUrl: `https://approvals.example.com/r/${record.request.id}` }),
 * });
 * ```
 */
export function toWebhookPayload(record: ApprovalRecord): WebhookPayload {
  const { request } = record;
  return {
    id: request.id,
    type: request.type,
    toolName: request.toolName,
    ...(request.description === undefined ? {} : { description: request.description }),
    input: request.input ?? {},
    riskLevel: request.riskLevel ?? 'irreversible',
    confidence: request.confidence ?? 0,
    createdAt: record.createdAt,
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
    ...(request.metadata === undefined ? {} : { metadata: request.metadata }),
    ...quorumFields(record),
  };
}

/** The four-eyes fields of the payload; none for a request that needs one approval. */
function quorumFields(record: ApprovalRecord): Pick<WebhookPayload, 'approvalsRequired' | 'approvals' | 'approvalsRemaining'> {
  const required = record.approvalsRequired;
  if (required === undefined || required < 2) return {};
  const approvals = (record.approvals ?? []).map(({ by, at }) => ({ by, at }));
  return { approvalsRequired: required, approvals, approvalsRemaining: Math.max(required - approvals.length, 0) };
}
