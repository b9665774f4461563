// instrumentManager: approval spans from creation to decision with their parents and outcomes, and the approval metrics.
import { createManager, createMemoryStore, HitlError } from '@hitl/core';
import type { ApprovalPolicy, ApprovalRecord, ApprovalStore, Notifier } from '@hitl/core';
import { createRecordingNotifier, createTestManager, nextEvent } from '@hitl/core/testing';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentManager } from './index.js';
import type { InstrumentManagerOptions } from './index.js';
import { createTelemetry, useAsyncContext } from './otel.test-helper.js';

useAsyncContext();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(
  options: Omit<InstrumentManagerOptions, 'tracerProvider' | 'meterProvider'> = {},
  notifiers: Notifier[] = [],
  shadowPolicies?: ApprovalPolicy[],
) {
  const telemetry = createTelemetry();
  // A failing notifier is logged by the manager; the test reads the metric instead.
  const quiet = { warn() {}, error() {} };
  const testManager = createTestManager({
    timeoutMs: 60_000,
    notifiers,
    ...(notifiers.length > 0 ? { logger: quiet } : {}),
    ...(shadowPolicies ? { shadowPolicies } : {}),
  });
  const { manager } = testManager;
  manager.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
  manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
  manager.addPolicy({ name: 'forbidden', toolPattern: 'drop_*', deny: true });
  const uninstrument = instrumentManager(manager, {
    ...options,
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  });
  cleanups.push(() => manager.close(), uninstrument);
  const outer = telemetry.tracerProvider.getTracer('test');
  /** Submits inside an outer span, as an adapter's tool call would. */
  const submitInSpan = (toolName: string, extra: Record<string, unknown> = {}) =>
    outer.startActiveSpan('execute_tool ' + toolName, async (span) => {
      try {
        const record = await manager.submit({
          toolName,
          input: { user_id: '42' },
          riskLevel: toolName.startsWith('get_') ? 'read_only' : 'irreversible',
          confidence: 0.9,
          threadId: 'thread-7',
          runId: 'run-3',
          metadata: { toolCallId: 'call-1' },
          ...extra,
        });
        return { record, parent: span };
      } finally {
        span.end();
      }
    });
  return { ...testManager, telemetry, submitInSpan };
}

const approvalSpans = (telemetry: ReturnType<typeof createTelemetry>) =>
  telemetry.spans().filter((span) => span.name.startsWith('hitl.approval'));

describe('instrumentManager spans', () => {
  it('traces a human approval from creation to decision, as a child of the caller’s span', async () => {
    const { manager, clock, telemetry, submitInSpan } = setup({ recordReviewerId: true });
    const { record, parent } = await submitInSpan('delete_user');
    expect(approvalSpans(telemetry)).toEqual([]); // still open while pending

    clock.advance(1_500);
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'ann' });

    const [span] = approvalSpans(telemetry);
    expect(span?.name).toBe('hitl.approval delete_user');
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span?.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(span?.attributes).toEqual({
      'gen_ai.tool.name': 'delete_user',
      'gen_ai.tool.call.id': 'call-1',
      'gen_ai.conversation.id': 'thread-7',
      'hitl.request.id': record.request.id,
      'hitl.risk_level': 'irreversible',
      'hitl.confidence': 0.9,
      'hitl.outcome': 'review',
      'hitl.policy': 'destructive',
      'hitl.thread.id': 'thread-7',
      'hitl.run.id': 'run-3',
      'hitl.status': 'approved',
      'hitl.decision': 'approve',
      'hitl.decided_by': 'human',
      'hitl.reviewer.id': 'ann',
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    const durationMs = span ? span.duration[0] * 1_000 + span.duration[1] / 1e6 : 0;
    expect(durationMs).toBe(1_500);
  });

  it('keeps the span open through a policy-shadowed event, until the request is decided', async () => {
    const { manager, telemetry, submitInSpan } = setup({}, [], [{ name: 'no-deletes', toolPattern: 'delete_*', deny: true }]);
    const shadowed = nextEvent(manager, 'policy-shadowed');
    const { record } = await submitInSpan('delete_user');
    expect((await shadowed).shadow.outcome).toBe('deny');
    expect(approvalSpans(telemetry)).toEqual([]);
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'ann' });
    expect(approvalSpans(telemetry).map((span) => span.attributes['hitl.status'])).toEqual(['approved']);
  });

  it('leaves the reviewer out unless recordReviewerId, and records reject and modify', async () => {
    const { manager, telemetry, submitInSpan } = setup();
    const rejected = await submitInSpan('delete_user', { id: 'req-reject' });
    const modified = await submitInSpan('delete_user', { id: 'req-modify' });
    await manager.respond(rejected.record.request.id, { decision: 'reject', respondedBy: 'ann', feedback: 'no' });
    await manager.respond(modified.record.request.id, { decision: 'modify', respondedBy: 'bob', modified: { user_id: '43' } });

    const spans = approvalSpans(telemetry);
    expect(
      spans.map((span) => [
        span.attributes['hitl.request.id'],
        span.attributes['hitl.status'],
        span.attributes['hitl.decision'],
        span.attributes['hitl.decided_by'],
      ]),
    ).toEqual([
      ['req-reject', 'rejected', 'reject', 'human'],
      ['req-modify', 'modified', 'modify', 'human'],
    ]);
    for (const span of spans) expect(span.attributes).not.toHaveProperty('hitl.reviewer.id');
  });

  it('marks an expiry as an error decided by expiry, ending at the expiry time', async () => {
    const { clock, telemetry, submitInSpan } = setup();
    await submitInSpan('delete_user');
    clock.advance(60_000);

    const [span] = approvalSpans(telemetry);
    expect(span?.attributes).toMatchObject({ 'hitl.status': 'expired', 'hitl.decided_by': 'expiry', 'error.type': 'timeout' });
    expect(span?.attributes).not.toHaveProperty('hitl.decision');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.duration[0]).toBe(60);
  });

  it('records a cancellation as decided by cancel', async () => {
    const { manager, telemetry, submitInSpan } = setup();
    const { record } = await submitInSpan('delete_user');
    await manager.cancel(record.request.id, 'the user left');

    const [span] = approvalSpans(telemetry);
    expect(span?.attributes).toMatchObject({ 'hitl.status': 'cancelled', 'hitl.decided_by': 'cancel' });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('gives a policy-decided call a zero-length span decided by policy', async () => {
    const { telemetry, submitInSpan } = setup();
    const approved = await submitInSpan('get_user');
    const denied = await submitInSpan('drop_table');

    const spans = approvalSpans(telemetry);
    expect(
      spans.map((span) => [
        span.name,
        span.attributes['hitl.outcome'],
        span.attributes['hitl.status'],
        span.attributes['hitl.decision'],
        span.attributes['hitl.decided_by'],
      ]),
    ).toEqual([
      ['hitl.approval get_user', 'approve', 'approved', 'approve', 'policy'],
      ['hitl.approval drop_table', 'deny', 'rejected', 'reject', 'policy'],
    ]);
    expect(spans.map((span) => span.parentSpanContext?.spanId)).toEqual([
      approved.parent.spanContext().spanId,
      denied.parent.spanContext().spanId,
    ]);
    expect(spans.map((span) => span.duration)).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('makes no second span for an idempotent retry of submit', async () => {
    const { manager, telemetry } = setup();
    const request = { id: 'retried', toolName: 'delete_user', input: { user_id: '42' } };
    await manager.submit(request);
    await manager.respond('retried', { decision: 'approve' });
    await expect(manager.submit(request)).resolves.toMatchObject({ status: 'approved' });

    expect(approvalSpans(telemetry).map((span) => span.attributes['hitl.request.id'])).toEqual(['retried']);
    expect((await telemetry.points('hitl.requests')).map((point) => point.value)).toEqual([1]);
  });

  it('runs the request-created listener in the caller’s context (memory store, AsyncLocalStorage)', async () => {
    const { manager, telemetry } = setup();
    const seen: Array<string | undefined> = [];
    manager.subscribe((event) => {
      if (event.type === 'request-created') seen.push(trace.getActiveSpan()?.spanContext().spanId);
    });
    const outer = telemetry.tracerProvider.getTracer('test').startSpan('agent tool call');
    await context.with(trace.setSpan(context.active(), outer), () => manager.submit({ toolName: 'delete_user' }));
    outer.end();
    expect(seen).toEqual([outer.spanContext().spanId]);
  });

  it('parents requestInteraction’s span too, and ignores requests another manager on the same store submitted', async () => {
    const telemetry = createTelemetry();
    const store = createMemoryStore();
    const notifier = createRecordingNotifier();
    const agent = createManager({ store, notifiers: [notifier] });
    const other = createManager({ store });
    const uninstrument = instrumentManager(agent, { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider });
    cleanups.push(
      () => store.close?.(),
      () => other.close(),
      () => agent.close(),
      uninstrument,
    );

    const otherRecord = await other.submit({ toolName: 'delete_user', id: 'elsewhere' });
    const outer = telemetry.tracerProvider.getTracer('test').startSpan('tool call');
    const waiting = context.with(trace.setSpan(context.active(), outer), () =>
      agent.requestInteraction({ toolName: 'delete_user', id: 'mine' }),
    );
    await notifier.next();
    await other.respond(otherRecord.request.id, { decision: 'reject' });
    await other.respond('mine', { decision: 'approve' });
    await waiting;
    outer.end();

    const spans = approvalSpans(telemetry);
    expect(spans.map((span) => span.attributes['hitl.request.id'])).toEqual(['mine']);
    expect(spans[0]?.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect((await telemetry.points('hitl.requests')).map((point) => point.value)).toEqual([1]);
  });

  it('finds the parent when the store reports changes later, outside the caller’s context (a change feed)', async () => {
    const telemetry = createTelemetry();
    const memory = createMemoryStore();
    const store: ApprovalStore = {
      ...memory,
      subscribe: (listener) => memory.subscribe((change) => setImmediate(() => context.with(ROOT_CONTEXT, () => listener(change)))),
    };
    const notifier = createRecordingNotifier();
    const manager = createManager({ store, notifiers: [notifier] });
    const uninstrument = instrumentManager(manager, { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider });
    cleanups.push(
      () => memory.close?.(),
      () => manager.close(),
      uninstrument,
    );
    const tracer = telemetry.tracerProvider.getTracer('test');

    const submitted = tracer.startSpan('submit call');
    const record = await context.with(trace.setSpan(context.active(), submitted), () =>
      manager.submit({ toolName: 'delete_user', threadId: 't-1' }),
    );
    submitted.end();
    const asked = tracer.startSpan('requestInteraction call');
    const waiting = context.with(trace.setSpan(context.active(), asked), () =>
      manager.requestInteraction({ toolName: 'delete_user', threadId: 't-2' }),
    );
    await notifier.next();
    const second = await notifier.next();
    await manager.respond(record.request.id, { decision: 'approve' });
    await manager.respond(second.request.id, { decision: 'reject' });
    await waiting;
    asked.end();

    const parents = new Map(approvalSpans(telemetry).map((span) => [span.attributes['hitl.thread.id'], span.parentSpanContext?.spanId]));
    expect(Object.fromEntries(parents)).toEqual({ 't-1': submitted.spanContext().spanId, 't-2': asked.spanContext().spanId });
  });

  it('stops: restores the manager’s methods and records nothing more', async () => {
    const telemetry = createTelemetry();
    const { manager } = createTestManager();
    const { submit } = manager;
    const uninstrument = instrumentManager(manager, { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider });
    cleanups.push(() => manager.close());
    expect(manager.submit).not.toBe(submit);
    await manager.submit({ toolName: 'delete_user', id: 'open-at-stop' });
    uninstrument();
    expect(manager.submit).toBe(submit);
    await manager.respond('open-at-stop', { decision: 'approve' });
    await manager.submit({ toolName: 'delete_user', id: 'after-stop' });

    expect(approvalSpans(telemetry).map((span) => [span.attributes['hitl.request.id'], span.attributes['hitl.status']])).toEqual([
      ['open-at-stop', undefined],
    ]);
    expect((await telemetry.points('hitl.requests.pending')).map((point) => point.value)).toEqual([0]);
  });
});

describe('instrumentManager metrics', () => {
  it('counts requests by outcome, decision and who decided, with time to decision, pending and expired', async () => {
    const { manager, clock, telemetry, submitInSpan } = setup();
    const approved = await submitInSpan('delete_user');
    await submitInSpan('delete_user', { id: 'expires' });
    await submitInSpan('get_user');
    expect(await telemetry.points('hitl.requests.pending')).toEqual([{ attributes: { 'gen_ai.tool.name': 'delete_user' }, value: 2 }]);

    clock.advance(2_000);
    await manager.respond(approved.record.request.id, { decision: 'approve', respondedBy: 'ann' });
    clock.advance(58_000);

    const requests = await telemetry.points('hitl.requests');
    expect(requests).toEqual(
      expect.arrayContaining([
        {
          attributes: {
            'gen_ai.tool.name': 'get_user',
            'hitl.outcome': 'approve',
            'hitl.decided_by': 'policy',
            'hitl.status': 'approved',
            'hitl.decision': 'approve',
          },
          value: 1,
        },
        {
          attributes: {
            'gen_ai.tool.name': 'delete_user',
            'hitl.outcome': 'review',
            'hitl.decided_by': 'human',
            'hitl.status': 'approved',
            'hitl.decision': 'approve',
          },
          value: 1,
        },
        {
          attributes: {
            'gen_ai.tool.name': 'delete_user',
            'hitl.outcome': 'review',
            'hitl.decided_by': 'expiry',
            'hitl.status': 'expired',
          },
          value: 1,
        },
      ]),
    );
    expect(requests).toHaveLength(3);
    const durations = await telemetry.points('hitl.decision.duration');
    expect(durations.map((point) => [point.attributes['hitl.decided_by'], point.count, point.value])).toEqual(
      expect.arrayContaining([
        ['policy', 1, 0],
        ['human', 1, 2_000],
        ['expiry', 1, 60_000],
      ]),
    );
    expect(await telemetry.points('hitl.requests.pending')).toEqual([{ attributes: { 'gen_ai.tool.name': 'delete_user' }, value: 0 }]);
    expect(await telemetry.points('hitl.requests.expired')).toEqual([{ attributes: { 'gen_ai.tool.name': 'delete_user' }, value: 1 }]);
  });

  it('counts failed notifications by notifier', async () => {
    const failing = createRecordingNotifier({ name: 'pager', fail: new Error('pager is down') });
    const { manager, telemetry, submitInSpan } = setup({}, [failing]);
    const failed = nextEvent(manager, 'notify-failed');
    await submitInSpan('delete_user');
    expect((await failed).error).toBeInstanceOf(HitlError);

    expect(await telemetry.points('hitl.notifications.failed')).toEqual([
      { attributes: { 'gen_ai.tool.name': 'delete_user', 'hitl.notifier': 'pager' }, value: 1 },
    ]);
  });

  it('uses the global providers when none are given (no SDK: no-op, no error)', async () => {
    const { manager } = createTestManager();
    const uninstrument = instrumentManager(manager);
    cleanups.push(() => manager.close(), uninstrument);
    const record: ApprovalRecord = await manager.submit({ toolName: 'delete_user' });
    await expect(manager.respond(record.request.id, { decision: 'approve' })).resolves.toMatchObject({ status: 'approved' });
  });
});
