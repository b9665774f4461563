/** The approval span: opened when a request is created, closed with its outcome. */
import type { ApprovalRecord } from '@hitl/core';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Context, Span, Tracer } from '@opentelemetry/api';
import { closingAttributes, requestAttributes } from './attributes.js';

/**
 * The name of a request's span: `hitl.approval {tool}`, after the GenAI conventions'
 * `execute_tool {gen_ai.tool.name}`.
 *
 * @example
 * ```ts
 * approvalSpanName('delete_user'); // 'hitl.approval delete_user'
 * ```
 */
export function approvalSpanName(toolName: string): string {
  return `hitl.approval ${toolName}`;
}

/** Starts a request's span at its creation time, as a child of `parent`'s span. */
export function openSpan(tracer: Tracer, record: ApprovalRecord, parent: Context): Span {
  return tracer.startSpan(
    approvalSpanName(record.request.toolName),
    { kind: SpanKind.INTERNAL, startTime: new Date(record.createdAt), attributes: requestAttributes(record) },
    parent,
  );
}

/** Ends a request's span at its final transition; an expiry is an error (the agent waited in vain). */
export function closeSpan(span: Span, record: ApprovalRecord, recordReviewerId: boolean): void {
  span.setAttributes(closingAttributes(record, recordReviewerId));
  if (record.status === 'expired') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: record.closedReason ?? 'the request expired before anyone decided' });
    span.setAttribute('error.type', 'timeout');
  }
  span.end(new Date(record.closedAt ?? record.createdAt));
}
