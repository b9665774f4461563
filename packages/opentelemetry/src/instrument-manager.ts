/** `instrumentManager`: traces and measures a manager's requests from its events. */
import type { ApprovalRecord, InteractionRequest, Manager, ManagerEvent } from '@hitl/core';
import { context, createContextKey, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, MeterProvider, Span, TracerProvider } from '@opentelemetry/api';
import { closeSpan, openSpan } from './approval-span.js';
import { createApprovalMetrics } from './approval-metrics.js';

/**
 * Options of {@link instrumentManager}.
 *
 * @example
 * ```ts
 * const options: InstrumentManagerOptions = { tracerProvider, meterProvider, recordReviewerId: true };
 * ```
 */
export interface InstrumentManagerOptions {
  /** Default: the global provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** Default: the global provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /**
   * Writes the reviewer's `respondedBy` as `hitl.reviewer.id` on spans of human decisions. Default
   * `false`: a reviewer's identity is personal data, and traces often leave the company.
   */
  recordReviewerId?: boolean;
}

const INSTRUMENTATION_NAME = '@hitl/opentelemetry';
/** How many decisions of not-yet-seen requests are remembered (a store may report a decision first). */
const EARLY_DECISIONS_LIMIT = 1_000;
/** How many traced request ids are remembered, so an idempotent retry of `submit` makes no second span. */
const TRACED_LIMIT = 10_000;

/** One `submit` or `requestInteraction` of this manager, with the context it was called in. */
interface Call {
  request: InteractionRequest;
  parent: Context;
  claimed: boolean;
}

interface OpenRequest {
  span: Span;
  record: ApprovalRecord;
}

const CALL_KEY = createContextKey('@hitl/opentelemetry call');

/**
 * Traces and measures a manager's approvals with OpenTelemetry: one span per request, from its
 * creation to its final status, as a child of the span that was active when the agent called
 * `submit` or `requestInteraction` (an adapter's tool call); and the `hitl.*` metrics. Returns the
 * function that stops it.
 *
 * Only requests this manager submitted are traced and counted: with a store shared between
 * processes every manager hears of every request, and each should be counted once.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { instrumentManager } from '@hitl/opentelemetry';
 *
 * const manager = createManager();
 * const uninstrument = instrumentManager(manager, { recordReviewerId: true });
 * // … later
 * uninstrument();
 * ```
 */
export function instrumentManager(manager: Manager, options: InstrumentManagerOptions = {}): () => void {
  const { recordReviewerId = false } = options;
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const approvalMetrics = createApprovalMetrics((options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME));

  const calls = new Set<Call>();
  const open = new Map<string, OpenRequest>();
  const earlyDecisions = new Map<string, ApprovalRecord>();
  const traced = new Set<string>();

  const close = (request: OpenRequest, record: ApprovalRecord) => {
    open.delete(record.request.id);
    closeSpan(request.span, record, recordReviewerId);
    approvalMetrics.closed(record, true);
  };

  /** Starts the span of a request this manager submitted (once), and ends it at once when it is decided already. */
  const start = (record: ApprovalRecord, parent: Context) => {
    const id = record.request.id;
    if (traced.has(id)) return;
    traced.add(id);
    if (traced.size > TRACED_LIMIT) traced.delete(traced.values().next().value as string);
    const span = openSpan(tracer, record, parent);
    if (record.status !== 'pending') {
      closeSpan(span, record, recordReviewerId);
      approvalMetrics.closed(record, false);
      return;
    }
    const entry = { span, record };
    open.set(id, entry);
    approvalMetrics.created(record);
    const early = earlyDecisions.get(id);
    if (early) {
      earlyDecisions.delete(id);
      close(entry, early);
    }
  };

  /** The call a created record belongs to: the one whose async context it was stored in, or one that matches it. */
  const callOf = (record: ApprovalRecord): Call | undefined => {
    const inContext = context.active().getValue(CALL_KEY) as Call | undefined;
    if (inContext && !inContext.claimed && calls.has(inContext)) return inContext;
    const { request } = record;
    for (const call of calls) {
      if (call.claimed || call.request.toolName !== request.toolName) continue;
      if (
        call.request.id !== undefined
          ? call.request.id === request.id
          : call.request.threadId === request.threadId && call.request.runId === request.runId
      ) {
        return call;
      }
    }
    return undefined;
  };

  const onEvent = (event: ManagerEvent) => {
    const { record } = event;
    switch (event.type) {
      case 'request-created': {
        const call = callOf(record);
        if (!call) return;
        call.claimed = true;
        start(record, call.parent);
        return;
      }
      case 'notify-failed':
        // Only the manager that stored a request notifies for it: this one's own.
        approvalMetrics.notificationFailed(record, event.notifier);
        return;
      case 'policy-shadowed':
        // A report about the request, not a step of it: its span stays open.
        return;
      default: {
        const entry = open.get(record.request.id);
        if (entry) close(entry, record);
        else if (calls.size > 0) {
          earlyDecisions.set(record.request.id, record);
          if (earlyDecisions.size > EARLY_DECISIONS_LIMIT) earlyDecisions.delete(earlyDecisions.keys().next().value as string);
        }
      }
    }
  };

  /** Runs a manager call in a context that names it, so the `request-created` it causes finds its parent. */
  const track = <T>(request: InteractionRequest, run: () => Promise<T>, after?: (result: T, call: Call) => void): Promise<T> => {
    const parent = context.active();
    const call: Call = { request, parent, claimed: false };
    calls.add(call);
    return context
      .with(parent.setValue(CALL_KEY, call), run)
      .then((result) => {
        after?.(result, call);
        return result;
      })
      .finally(() => calls.delete(call));
  };

  const { submit, requestInteraction } = manager;
  manager.submit = (request) =>
    track(
      request,
      () => submit(request),
      (record, call) => {
        // A store that reports its changes out of band (another connection) may not have told us yet.
        if (call.claimed) return;
        call.claimed = true;
        start(record, call.parent);
      },
    );
  manager.requestInteraction = (request, callOptions) => track(request, () => requestInteraction(request, callOptions));
  const unsubscribe = manager.subscribe(onEvent);

  return () => {
    unsubscribe();
    manager.submit = submit;
    manager.requestInteraction = requestInteraction;
    for (const { span, record } of open.values()) {
      span.setStatus({ code: SpanStatusCode.UNSET });
      span.end();
      approvalMetrics.abandoned(record);
    }
    open.clear();
    earlyDecisions.clear();
    traced.clear();
  };
}
