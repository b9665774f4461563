// The approval span's parent in real framework runs: the AI SDK's own `ai.toolCall` span, and a
// tool-call span a LangChain middleware opens (LangChain makes no OpenTelemetry spans of its own).
import { approvalMiddleware } from '@hitl/langchain/middleware';
import { withApproval } from '@hitl/vercel-ai';
import { createTestManager } from '@hitl/core/testing';
import { tool as langchainTool } from '@langchain/core/tools';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createAgent, createMiddleware, FakeToolCallingModel, HumanMessage } from 'langchain';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { instrumentManager } from './index.js';
import { createTelemetry, useAsyncContext } from './otel.test-helper.js';

useAsyncContext();

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup() {
  const telemetry = createTelemetry();
  const testManager = createTestManager({ timeoutMs: 60_000 });
  testManager.manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
  const uninstrument = instrumentManager(testManager.manager, {
    tracerProvider: telemetry.tracerProvider,
    meterProvider: telemetry.meterProvider,
  });
  cleanups.push(() => testManager.manager.close(), uninstrument);
  return { ...testManager, telemetry };
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

describe('the approval span in framework runs', () => {
  it('is a child of the AI SDK’s ai.toolCall span in generateText', async () => {
    const { manager, notifier, telemetry } = setup();
    const deleteUser = vi.fn(async ({ user_id }: { user_id: string }) => ({ deleted: user_id }));
    const model = new MockLanguageModelV3({
      doGenerate: [
        {
          content: [{ type: 'tool-call', toolCallId: 'call-2', toolName: 'delete_user', input: JSON.stringify({ user_id: '12345' }) }],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        },
        { content: [{ type: 'text', text: 'Deleted.' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] },
      ],
    });
    const tools = withApproval(
      { delete_user: tool({ description: 'Delete a user', inputSchema: z.object({ user_id: z.string() }), execute: deleteUser }) },
      { manager, riskLevel: { delete_user: 'irreversible' }, confidence: 0.9 },
    );

    const running = generateText({
      model,
      tools,
      stopWhen: stepCountIs(3),
      prompt: 'delete user 12345',
      experimental_telemetry: { isEnabled: true, tracer: telemetry.tracerProvider.getTracer('ai') },
    });
    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'ann' });
    expect((await running).text).toBe('Deleted.');

    const spans = telemetry.spans();
    const toolCall = spans.find((span) => span.name === 'ai.toolCall');
    const approval = spans.find((span) => span.name === 'hitl.approval delete_user');
    expect(toolCall).toBeDefined();
    expect(approval?.parentSpanContext?.spanId).toBe(toolCall?.spanContext().spanId);
    expect(approval?.attributes).toMatchObject({ 'gen_ai.tool.call.id': 'call-2', 'hitl.decided_by': 'human', 'hitl.status': 'approved' });
  });

  it('is a child of the tool-call span around a LangChain createAgent tool call', async () => {
    const { manager, notifier, telemetry } = setup();
    const tracer = telemetry.tracerProvider.getTracer('agent');
    const tracing = createMiddleware({
      name: 'tool-tracing',
      wrapToolCall: (request, handler) =>
        tracer.startActiveSpan(`execute_tool ${request.toolCall.name}`, async (span) => {
          try {
            return await handler(request);
          } finally {
            span.end();
          }
        }),
    });
    const deleteBody = vi.fn(async ({ user_id }: { user_id: string }) => `Deleted user ${user_id}.`);
    const deleteUser = langchainTool(deleteBody, {
      name: 'delete_user',
      description: 'Delete a user',
      schema: z.object({ user_id: z.string() }),
    });
    const agent = createAgent({
      model: new FakeToolCallingModel({ toolCalls: [[{ name: 'delete_user', args: { user_id: '42' }, id: 'call-delete' }], []] }),
      tools: [deleteUser],
      middleware: [tracing, approvalMiddleware({ manager, riskLevel: { delete_user: 'irreversible' }, confidence: 0.9 })],
    });

    const run = agent.invoke({ messages: [new HumanMessage('delete user 42')] }, { configurable: { thread_id: 'thread-7' } });
    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'reject', feedback: 'not today' });
    await run;

    const spans = telemetry.spans();
    const toolCall = spans.find((span) => span.name === 'execute_tool delete_user');
    const approval = spans.find((span) => span.name === 'hitl.approval delete_user');
    expect(toolCall).toBeDefined();
    expect(approval?.parentSpanContext?.spanId).toBe(toolCall?.spanContext().spanId);
    expect(approval?.attributes).toMatchObject({
      'gen_ai.tool.call.id': 'call-delete',
      'hitl.thread.id': 'thread-7',
      'hitl.decided_by': 'human',
      'hitl.status': 'rejected',
    });
    expect(deleteBody).not.toHaveBeenCalled();
  });
});
