/** The Standard Webhooks message of a hitl event: `{ type, timestamp, data }`, where `data` is the request with its status and decision. */
import type { ApprovalRecord, InteractionResponse, NotificationEventType, NotificationMessage, RequestStatus } from '@hitl/core';
import { invalidInput } from '@hitl/core/internal';
import { toWebhookPayload, type WebhookPayload } from './payload.js';

/** Every event a webhook notifier can send. */
export const WEBHOOK_EVENT_TYPES: readonly NotificationEventType[] = [
  'request.created',
  'request.approval_added',
  'request.decided',
  'request.expired',
  'request.cancelled',
  'request.reminder',
  'request.escalated',
];

/**
 * The body of an event message (with a store that has an outbox): a Standard Webhooks payload whose
 * `data` is the request as {@link toWebhookPayload} sends it, plus its status and, once decided,
 * the response. Dedupe on the `webhook-id` header: it is the same for every retry of one event.
 * `request.approval_added` (four eyes: an approval left the request pending) also names the
 * approval in `data.approval`, next to `approvals`, `approvalsRequired` and `approvalsRemaining`.
 *
 * @example
 * ```json
 * {
 *   "type": "request.decided",
 *   "timestamp": "2026-01-01T00:01:00.000Z",
 *   "data": { "id": "hitl-6f0c...", "toolName": "delete_user", "status": "approved",
 *             "response": { "decision": "approve", "respondedBy": "alice" } }
 * }
 * ```
 */
export interface WebhookEvent {
  type: NotificationEventType;
  /** ISO 8601: when this attempt was sent. */
  timestamp: string;
  data: WebhookPayload & {
    status: RequestStatus;
    response?: InteractionResponse;
    closedAt?: string;
    closedReason?: string;
    /** `request.reminder`: which reminder this is, from 1. */
    reminder?: number;
    /**
     * `request.approval_added` (four eyes): the approval this event reports, by whom and when.
     * `approvals` and `approvalsRemaining` say how many the request has and still needs.
     */
    approval?: { by: string; at: string };
  };
}

/**
 * The default event body for a message.
 *
 * @example
 * ```ts
 * import { toWebhookEvent } from '@hitl/notifier-webhook';
 * // toWebhookEvent({ id, type: 'request.decided', record, attempt: 1 }, Date.now()).data.status === 'approved'
 * ```
 */
export function toWebhookEvent(message: NotificationMessage, nowMs: number): WebhookEvent {
  const record: ApprovalRecord = message.record;
  const data: WebhookEvent['data'] = { ...toWebhookPayload(record), status: record.status };
  if (record.response !== undefined) data.response = record.response;
  if (record.closedAt !== undefined) data.closedAt = record.closedAt;
  if (record.closedReason !== undefined) data.closedReason = record.closedReason;
  if (message.reminder !== undefined) data.reminder = message.reminder;
  if (message.approval !== undefined) data.approval = { by: message.approval.by, at: message.approval.at };
  return { type: message.type, timestamp: new Date(nowMs).toISOString(), data };
}

/** The `events` option checked: a non-empty list of known event types. */
export function parseEvents(value: unknown): readonly NotificationEventType[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((event) => !WEBHOOK_EVENT_TYPES.includes(event as NotificationEventType))) {
    throw invalidInput('events', value, `must be a non-empty array of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  }
  return Object.freeze([...new Set(value as NotificationEventType[])]);
}
