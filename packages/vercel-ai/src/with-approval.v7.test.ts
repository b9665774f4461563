// Runs against ai 7 (vitest.v7.config.ts points `ai` and `ai/test` at ./ai-v7).
import { HitlError } from '@hitl/core';
import { generateText, isStepCount, streamText, tool } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isToolRejection, withApproval } from './index.js';
import { textResult, textStream, toolCallsResult, toolCallsStream, toolOutputsIn } from './test-support/model.js';
import { useTestManagers, createToolSpies, weatherCall, deleteCall, emailCall, withApprovalRiskLevel } from './test-support/fixtures.js';

const setup = useTestManagers();

function makeTools() {
  const spies = createToolSpies();
  const tools = {
    get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: spies.weather }),
    delete_user: tool({ inputSchema: z.object({ user_id: z.string() }), execute: spies.deleteUser }),
    send_email: tool({ inputSchema: z.object({ to: z.string(), body: z.string() }), execute: spies.sendEmail }),
  };
  return { spies, tools };
}

const riskLevel = withApprovalRiskLevel;

describe('withApproval on ai 7', () => {
  it('runs against ai 7', () => {
    // isStepCount and MockLanguageModelV4 exist only in ai 7.
    expect(isStepCount).toBeTypeOf('function');
    expect(new MockLanguageModelV4().specificationVersion).toBe('v4');
  });

  it('runs get_weather at once, pauses delete_user until approved, and tells the model why send_email was rejected', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV4({
      doGenerate: [toolCallsResult([weatherCall, deleteCall, emailCall]), textResult('Done.')],
    });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel, confidence: 0.9 }),
      stopWhen: isStepCount(3),
      prompt: 'Check the weather in Paris, delete user 12345 and email Ann',
    });

    const pending = new Map((await Promise.all([notifier.next(), notifier.next()])).map((record) => [record.request.toolName, record]));
    expect([...pending.keys()].sort()).toEqual(['delete_user', 'send_email']);
    expect(spies.weather).toHaveBeenCalledTimes(1);
    expect(spies.deleteUser).not.toHaveBeenCalled();
    expect(model.doGenerateCalls).toHaveLength(1);

    await manager.respond(pending.get('delete_user')!.request.id, { decision: 'approve', respondedBy: 'alice' });
    await manager.respond(pending.get('send_email')!.request.id, { decision: 'reject', feedback: 'Finance has not confirmed the refund' });
    const result = await running;

    expect(result.text).toBe('Done.');
    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
    expect(spies.deleteUser.mock.calls[0]![0]).toEqual({ user_id: '12345' });
    expect(spies.sendEmail).not.toHaveBeenCalled();
    const outputs = toolOutputsIn(model.doGenerateCalls[1]!.prompt);
    expect(outputs.get('delete_user')).toEqual({ type: 'json', value: { deleted: '12345' } });
    expect(outputs.get('send_email')).toEqual({
      type: 'json',
      value: {
        rejected: true,
        reason: 'reviewer',
        toolName: 'send_email',
        requestId: expect.any(String),
        feedback: 'Finance has not confirmed the refund',
        message: 'Rejected by reviewer: Finance has not confirmed the refund',
      },
    });
    expect(isToolRejection(result.steps[0]!.toolResults.find((part) => part.toolName === 'send_email')?.output)).toBe(true);
  });

  it('streams the tool result with streamText once the reviewer approves', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV4({
      doStream: [
        { stream: convertArrayToReadableStream(toolCallsStream([deleteCall])) },
        { stream: convertArrayToReadableStream(textStream('User 12345 is deleted.')) },
      ],
    });
    const result = streamText({
      model,
      tools: withApproval(tools, { manager, riskLevel }),
      stopWhen: isStepCount(2),
      prompt: 'Delete 12345',
    });
    const parts: Array<{ type: string; toolName?: string; output?: unknown }> = [];
    const consumed = (async () => {
      for await (const part of result.fullStream) parts.push(part as (typeof parts)[number]);
    })();

    const record = await notifier.next();
    expect(parts.some((part) => part.type === 'tool-result')).toBe(false);
    await manager.respond(record.request.id, { decision: 'approve' });
    await consumed;

    const resultPart = parts.find((part) => part.type === 'tool-result' && part.toolName === 'delete_user');
    expect(resultPart?.output).toEqual({ deleted: '12345' });
    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
    expect(await result.text).toBe('User 12345 is deleted.');
  });

  it('cancels the pending request when the call is aborted, and follows onTimeout on expiry', async () => {
    const aborted = setup();
    const { spies, tools } = makeTools();
    const controller = new AbortController();
    const running = generateText({
      model: new MockLanguageModelV4({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] }),
      tools: withApproval(tools, { manager: aborted.manager, riskLevel }),
      stopWhen: isStepCount(2),
      abortSignal: controller.signal,
      prompt: 'Delete 12345',
    });
    const record = await aborted.notifier.next();
    controller.abort();
    await expect(running).rejects.toThrow();
    expect((await aborted.manager.get(record.request.id))?.status).toBe('cancelled');

    const expiring = setup({ timeoutMs: 1_000, onTimeout: 'error' });
    const model = new MockLanguageModelV4({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] });
    const timed = generateText({
      model,
      tools: withApproval(tools, { manager: expiring.manager, riskLevel }),
      stopWhen: isStepCount(2),
      prompt: 'x',
    });
    await expiring.notifier.next();
    expiring.clock.advance(1_000);
    const result = await timed;
    const error = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    expect(HitlError.is(error?.error, 'timeout')).toBe(true);
    expect(spies.deleteUser).not.toHaveBeenCalled();
  });
});
