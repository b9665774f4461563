/** The OpenTelemetry attributes hitl sets on spans and metrics. */
import type { ApprovalRecord } from '@hitl/core';
import type { Attributes } from '@opentelemetry/api';

/**
 * Who closed a request: a reviewer, a policy, a standing grant, the timeout, or a cancellation.
 *
 * @example
 * ```ts
 * const by: DecidedBy = decidedBy(record) ?? 'human';
 * ```
 */
export type DecidedBy = 'human' | 'policy' | 'grant' | 'expiry' | 'cancel';

/**
 * The attribute names this package writes. GenAI semantic-convention names where the conventions
 * have one (`gen_ai.tool.name`, `gen_ai.tool.call.id`, `gen_ai.conversation.id`), `hitl.*` otherwise.
 *
 * @example
 * ```ts
 * const spans = exporter.getFinishedSpans();
 * spans[0]?.attributes[HitlAttributes.DecidedBy]; // 'human'
 * ```
 */
export const HitlAttributes = {
  ToolName: 'gen_ai.tool.name',
  ToolCallId: 'gen_ai.tool.call.id',
  ConversationId: 'gen_ai.conversation.id',
  RequestId: 'hitl.request.id',
  RiskLevel: 'hitl.risk_level',
  Confidence: 'hitl.confidence',
  Outcome: 'hitl.outcome',
  Policy: 'hitl.policy',
  Status: 'hitl.status',
  Decision: 'hitl.decision',
  DecidedBy: 'hitl.decided_by',
  ReviewerId: 'hitl.reviewer.id',
  ThreadId: 'hitl.thread.id',
  RunId: 'hitl.run.id',
  Notifier: 'hitl.notifier',
} as const;

/**
 * Who closed `record` (the `hitl.decided_by` attribute); `undefined` while it is pending.
 *
 * @example
 * ```ts
 * manager.subscribe((event) => {
 *   if (event.type === 'request-expired') decidedBy(event.record); // 'expiry'
 * });
 * ```
 */
export function decidedBy(record: ApprovalRecord): DecidedBy | undefined {
  if (record.status === 'pending') return undefined;
  if (record.status === 'cancelled') return 'cancel';
  const cause = record.response?.metadata?.cause;
  if (record.status === 'expired' || cause === 'expiry') return 'expiry';
  if (cause === 'grant') return 'grant';
  if (record.response?.automatic === true) return 'policy';
  return 'human';
}

/** The call id the adapters store in `request.metadata.toolCallId`. */
function toolCallId(record: ApprovalRecord): string | undefined {
  const id = record.request.metadata?.toolCallId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** What is known when a request is created: the span's starting attributes. */
export function requestAttributes(record: ApprovalRecord): Attributes {
  const { request, evaluation } = record;
  const attributes: Attributes = {
    [HitlAttributes.ToolName]: request.toolName,
    [HitlAttributes.RequestId]: request.id,
    [HitlAttributes.Outcome]: evaluation.outcome,
  };
  const callId = toolCallId(record);
  if (callId !== undefined) attributes[HitlAttributes.ToolCallId] = callId;
  if (request.riskLevel !== undefined) attributes[HitlAttributes.RiskLevel] = request.riskLevel;
  if (request.confidence !== undefined) attributes[HitlAttributes.Confidence] = request.confidence;
  if (evaluation.policy !== undefined) attributes[HitlAttributes.Policy] = evaluation.policy;
  if (request.threadId !== undefined) {
    attributes[HitlAttributes.ThreadId] = request.threadId;
    attributes[HitlAttributes.ConversationId] = request.threadId;
  }
  if (request.runId !== undefined) attributes[HitlAttributes.RunId] = request.runId;
  return attributes;
}

/** What the final transition adds: status, decision, who decided and, when allowed, the reviewer. */
export function closingAttributes(record: ApprovalRecord, recordReviewerId: boolean): Attributes {
  const by = decidedBy(record);
  const attributes: Attributes = { [HitlAttributes.Status]: record.status };
  if (by !== undefined) attributes[HitlAttributes.DecidedBy] = by;
  if (record.response !== undefined && record.status !== 'expired') attributes[HitlAttributes.Decision] = record.response.decision;
  if (recordReviewerId && by === 'human' && record.response?.respondedBy !== undefined) {
    attributes[HitlAttributes.ReviewerId] = record.response.respondedBy;
  }
  return attributes;
}

/** Low-cardinality attributes for the metrics: no ids. */
export function metricAttributes(record: ApprovalRecord): Attributes {
  const attributes: Attributes = {
    [HitlAttributes.ToolName]: record.request.toolName,
    [HitlAttributes.Outcome]: record.evaluation.outcome,
  };
  const by = decidedBy(record);
  if (by !== undefined) {
    attributes[HitlAttributes.DecidedBy] = by;
    attributes[HitlAttributes.Status] = record.status;
  }
  if (record.response !== undefined && record.status !== 'expired') attributes[HitlAttributes.Decision] = record.response.decision;
  return attributes;
}
