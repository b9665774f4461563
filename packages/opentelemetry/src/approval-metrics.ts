/** The approval metrics: counters and histograms of requests and decisions. */
import type { ApprovalRecord } from '@hitl/core';
import type { Meter } from '@opentelemetry/api';
import { HitlAttributes, metricAttributes } from './attributes.js';

/** The instruments of one instrumented manager. */
export interface ApprovalMetrics {
  created(record: ApprovalRecord): void;
  closed(record: ApprovalRecord, wasPending: boolean): void;
  notificationFailed(record: ApprovalRecord, notifier: string): void;
  /** A request still pending when instrumentation stops leaves the pending count. */
  abandoned(record: ApprovalRecord): void;
}

/** Creates the `hitl.*` instruments on `meter`. */
export function createApprovalMetrics(meter: Meter): ApprovalMetrics {
  const requests = meter.createCounter('hitl.requests', {
    description: 'Approval requests that reached a final status, by outcome, decision and who decided.',
    unit: '{request}',
  });
  const duration = meter.createHistogram('hitl.decision.duration', {
    description: 'Time from a request’s creation to its final status.',
    unit: 'ms',
  });
  const pending = meter.createUpDownCounter('hitl.requests.pending', {
    description: 'Requests waiting for a human.',
    unit: '{request}',
  });
  const expired = meter.createCounter('hitl.requests.expired', {
    description: 'Requests nobody decided before their timeout.',
    unit: '{request}',
  });
  const failedNotifications = meter.createCounter('hitl.notifications.failed', {
    description: 'Notifier deliveries that failed.',
    unit: '{notification}',
  });
  const toolOf = (record: ApprovalRecord) => ({ [HitlAttributes.ToolName]: record.request.toolName });

  return {
    created(record) {
      if (record.status === 'pending') pending.add(1, toolOf(record));
    },
    closed(record, wasPending) {
      if (wasPending) pending.add(-1, toolOf(record));
      const attributes = metricAttributes(record);
      requests.add(1, attributes);
      const elapsed = Date.parse(record.closedAt ?? record.createdAt) - Date.parse(record.createdAt);
      if (Number.isFinite(elapsed)) duration.record(Math.max(0, elapsed), attributes);
      if (record.status === 'expired') expired.add(1, toolOf(record));
    },
    notificationFailed(record, notifier) {
      failedNotifications.add(1, { ...toolOf(record), [HitlAttributes.Notifier]: notifier });
    },
    abandoned(record) {
      pending.add(-1, toolOf(record));
    },
  };
}
