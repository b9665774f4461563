// withApproval for AI SDK tools (ai 6): generateText and streamText runs, every decision, abort and timeouts, option and name checks.
import { HitlError } from '@hitl/core';
import { generateText, jsonSchema, stepCountIs, streamText, tool, type TextStreamPart, type ToolSet } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { isToolRejection, withApproval } from './index.js';
import {
  fiveTierPolicies,
  policiesWithDeny,
  textResult,
  textStream,
  toolCallsResult,
  toolCallsStream,
  toolOutputsIn,
} from './test-support/model.js';
import { useTestManagers, createToolSpies, weatherCall, deleteCall, emailCall, withApprovalRiskLevel } from './test-support/fixtures.js';

const setup = useTestManagers();

function makeTools() {
  const spies = createToolSpies();
  const tools = {
    get_weather: tool({
      description: 'Current weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: spies.weather,
    }),
    delete_user: tool({
      description: 'Delete a user account and all its data',
      inputSchema: z.object({ user_id: z.string().regex(/^\d+$/) }),
      execute: spies.deleteUser,
    }),
    send_email: tool({
      description: 'Email a customer',
      inputSchema: z.object({ to: z.string(), body: z.string() }),
      execute: spies.sendEmail,
    }),
  };
  return { spies, tools };
}

const riskLevel = withApprovalRiskLevel;

describe('withApproval with generateText (ai 6)', () => {
  it('runs get_weather at once, pauses delete_user until approved, and tells the model why send_email was rejected', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({
      doGenerate: [toolCallsResult([weatherCall, deleteCall, emailCall]), textResult('Done: weather read, user deleted, email not sent.')],
    });

    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel, confidence: 0.9 }),
      stopWhen: stepCountIs(3),
      prompt: 'Check the weather in Paris, delete user 12345 and email Ann',
    });

    const pending = new Map((await Promise.all([notifier.next(), notifier.next()])).map((record) => [record.request.toolName, record]));
    expect([...pending.keys()].sort()).toEqual(['delete_user', 'send_email']);
    expect(spies.weather).toHaveBeenCalledTimes(1);
    expect(spies.deleteUser).not.toHaveBeenCalled();
    expect(model.doGenerateCalls).toHaveLength(1);
    const deleteRecord = pending.get('delete_user')!;
    expect(deleteRecord).toMatchObject({
      status: 'pending',
      request: { input: { user_id: '12345' }, riskLevel: 'irreversible', confidence: 0.9, metadata: { toolCallId: 'call-2' } },
      evaluation: { outcome: 'review', policy: 'destructive' },
    });

    await manager.respond(deleteRecord.request.id, { decision: 'approve', respondedBy: 'alice' });
    await manager.respond(pending.get('send_email')!.request.id, {
      decision: 'reject',
      feedback: 'Do not email customers about refunds before finance confirms',
      respondedBy: 'bob',
    });
    const result = await running;

    expect(result.text).toBe('Done: weather read, user deleted, email not sent.');
    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
    expect(spies.deleteUser).toHaveBeenCalledWith({ user_id: '12345' }, expect.objectContaining({ toolCallId: 'call-2' }));
    expect(spies.sendEmail).not.toHaveBeenCalled();
    const outputs = toolOutputsIn(model.doGenerateCalls[1]!.prompt);
    expect(outputs.get('get_weather')).toEqual({ type: 'json', value: { city: 'Paris', celsius: 21 } });
    expect(outputs.get('delete_user')).toEqual({ type: 'json', value: { deleted: '12345' } });
    expect(outputs.get('send_email')).toEqual({
      type: 'json',
      value: {
        rejected: true,
        reason: 'reviewer',
        toolName: 'send_email',
        requestId: pending.get('send_email')!.request.id,
        feedback: 'Do not email customers about refunds before finance confirms',
        message: 'Rejected by reviewer: Do not email customers about refunds before finance confirms',
      },
    });
    const emailResult = result.steps[0]!.toolResults.find((part) => part.toolName === 'send_email');
    expect(isToolRejection(emailResult?.output)).toBe(true);
    // Auto-approved calls leave no record; the two reviewed ones do.
    expect((await manager.list()).items.map((record) => record.request.toolName).sort()).toEqual(['delete_user', 'send_email']);
  });

  it('rejects at once, without asking anyone, when a deny policy matches', async () => {
    const { manager, notifier } = setup({ policies: policiesWithDeny });
    const dropTable = vi.fn(async () => ({ dropped: true }));
    const tools = { drop_table: tool({ inputSchema: z.object({ table: z.string() }), execute: dropTable }) };
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCallsResult([{ id: 'call-1', name: 'drop_table', input: { table: 'users' } }]),
        textResult('I may not drop tables.'),
      ],
    });

    await generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel: 'irreversible' }),
      stopWhen: stepCountIs(2),
      prompt: 'Drop users',
    });

    expect(dropTable).not.toHaveBeenCalled();
    expect(notifier.records).toHaveLength(0);
    const { items } = await manager.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'rejected', response: { decision: 'reject', automatic: true } });
    const output = toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('drop_table');
    expect(output).toMatchObject({ type: 'json', value: { rejected: true } });
    expect(output?.value).toMatchObject({ reason: 'policy', toolName: 'drop_table' });
    expect((output?.value as { feedback: string }).feedback).toContain("'never-drop'");
  });

  it('runs a modified call with the edited arguments, re-validated against the zod inputSchema', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel }),
      stopWhen: stepCountIs(2),
      prompt: 'Delete 12345',
    });

    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'modify', modified: { user_id: '999' }, respondedBy: 'alice' });
    await running;

    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
    expect(spies.deleteUser.mock.calls[0]![0]).toEqual({ user_id: '999' });
    expect(toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('delete_user')).toEqual({ type: 'json', value: { deleted: '999' } });
  });

  it('refuses edited arguments that fail the inputSchema when the reviewer makes the edit; the tool does not run', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel }),
      stopWhen: stepCountIs(2),
      prompt: 'Delete 12345',
    });

    const record = await notifier.next();
    expect(record.request.inputSchema).toMatchObject({ type: 'object', properties: { user_id: { type: 'string' } } });
    const refused = await manager
      .respond(record.request.id, { decision: 'modify', modified: { user_id: 'everyone' } })
      .catch((error: unknown) => error);
    expect(HitlError.is(refused, 'invalid_input')).toBe(true);
    expect((refused as Error).message).toMatch(/^modified\/user_id must /);
    expect(refused).toMatchObject({ code: 'invalid_input', details: { field: 'modified', path: 'modified/user_id' } });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    await manager.respond(record.request.id, { decision: 'reject', feedback: 'not everyone' });
    await running;

    expect(spies.deleteUser).not.toHaveBeenCalled();
    const output = toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('delete_user');
    expect(JSON.stringify(output)).toContain('not everyone');
  });

  it("re-validates edited arguments with an SDK jsonSchema()'s validate function", async () => {
    const { manager, notifier } = setup();
    const archive = vi.fn(async (input: { user_id: string }) => ({ archived: input.user_id }));
    // The JSON side says only "an object", so the manager accepts the edit; the SDK validate function is stricter.
    const schema = jsonSchema<{ user_id: string }>(
      { type: 'object' },
      {
        validate: (value) =>
          typeof value === 'object' && value !== null && typeof (value as { user_id?: unknown }).user_id === 'string'
            ? { success: true, value: value as { user_id: string } }
            : { success: false, error: new Error('user_id must be a string') },
      },
    );
    const tools = { delete_archive: tool({ inputSchema: schema, execute: archive }) };
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCallsResult([{ id: 'call-1', name: 'delete_archive', input: { user_id: '1' } }]),
        toolCallsResult([{ id: 'call-2', name: 'delete_archive', input: { user_id: '2' } }]),
        textResult('ok'),
      ],
    });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel: 'irreversible' }),
      stopWhen: stepCountIs(3),
      prompt: 'x',
    });

    await manager.respond((await notifier.next()).request.id, { decision: 'modify', modified: { user_id: 7 } });
    await manager.respond((await notifier.next()).request.id, { decision: 'modify', modified: { user_id: '8' } });
    const result = await running;

    expect(archive).toHaveBeenCalledTimes(1);
    expect(archive.mock.calls[0]![0]).toEqual({ user_id: '8' });
    const error = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    expect(String((error?.error as Error).message)).toContain('user_id must be a string');
  });

  it('fails closed: a throwing riskLevel function refuses the call (callback_failed, logged); a tool the record does not name needs a human', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const logger = { warn: vi.fn() };
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([weatherCall]), textResult('ok')] });
    await generateText({
      model,
      tools: withApproval(tools, {
        manager,
        logger,
        riskLevel: () => {
          throw new Error('risk service down');
        },
        confidence: 0.99,
      }),
      stopWhen: stepCountIs(2),
      prompt: 'Weather?',
    });
    expect(spies.weather).not.toHaveBeenCalled();
    expect(notifier.records).toHaveLength(0);
    expect((await manager.list()).items).toHaveLength(0);
    expect(toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('get_weather')).toEqual({
      type: 'json',
      value: {
        rejected: true,
        reason: 'callback_failed',
        toolName: 'get_weather',
        feedback: "riskLevel for 'get_weather' threw: risk service down",
        message: "Refused: riskLevel for 'get_weather' threw: risk service down",
      },
    });
    expect(logger.warn).toHaveBeenCalledWith("hitl: refused a call to 'get_weather': riskLevel for 'get_weather' threw: risk service down");

    const partial = withApproval(tools, { manager, riskLevel: { delete_user: 'irreversible' }, confidence: 0.99 });
    const waiting = (partial.get_weather.execute as (input: unknown, options: unknown) => Promise<unknown>)(
      { city: 'Oslo' },
      { toolCallId: 'call-9', messages: [] },
    );
    const second = await notifier.next();
    expect(second.evaluation.reason).toContain('irreversible');
    await manager.respond(second.request.id, { decision: 'reject', feedback: 'no' });
    expect(await waiting).toEqual({
      rejected: true,
      reason: 'reviewer',
      toolName: 'get_weather',
      requestId: second.request.id,
      feedback: 'no',
      message: 'Rejected by reviewer: no',
    });
  });

  it('passes requestedBy and a custom description to the request, and refuses self-approval', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const wrapped = withApproval(tools, {
      manager,
      riskLevel,
      requestedBy: 'user:42',
      describe: (call) => `Delete account ${(call.input as { user_id: string }).user_id}`,
    });
    const waiting = (wrapped.delete_user.execute as (input: unknown, options: unknown) => Promise<unknown>)(
      { user_id: '12345' },
      { toolCallId: 'call-1', messages: [] },
    );
    const record = await notifier.next();
    expect(record.request).toMatchObject({ description: 'Delete account 12345', requestedBy: 'user:42' });
    await expect(manager.respond(record.request.id, { decision: 'approve', respondedBy: 'user:42' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'admin' });
    expect(await waiting).toEqual({ deleted: '12345' });
    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
  });

  it('fills threadId and runId from options (a value or a function of the call), and conditions see them with the input', async () => {
    const { manager, notifier } = setup({
      policies: [
        {
          name: 'test-accounts',
          toolPattern: 'delete_user',
          maxRiskLevel: 'irreversible',
          when: 'input.user_id.startsWith("9") && threadId == "chat-1"',
        },
        ...fiveTierPolicies,
      ],
    });
    const { spies, tools } = makeTools();
    const wrapped = withApproval(tools, { manager, riskLevel, threadId: 'chat-1', runId: (call) => `turn-${call.toolCallId}` });
    const run = (input: unknown, toolCallId: string) =>
      (wrapped.delete_user.execute as (input: unknown, options: unknown) => Promise<unknown>)(input, { toolCallId, messages: [] });
    expect(await run({ user_id: '91' }, 'c1')).toEqual({ deleted: '91' });
    const waiting = run({ user_id: '12' }, 'c2');
    const record = await notifier.next();
    expect(record.request).toMatchObject({ threadId: 'chat-1', runId: 'turn-c2', inputSchema: expect.any(Object) });
    expect(record.evaluation.policy).toBe('destructive');
    await manager.respond(record.request.id, { decision: 'reject' });
    await waiting;
    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
    expect((await manager.list({ threadId: 'chat-1' })).items).toHaveLength(1);
    expect(() => withApproval(tools, { manager, riskLevel, threadId: 7 as never })).toThrow(/options.threadId/);
    expect(() => withApproval(tools, { manager, riskLevel, threadId: 7 as never })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.threadId' }) }),
    );
  });

  it("keeps a tool's own toModelOutput away from rejections", async () => {
    const { manager, notifier } = setup();
    const seen: unknown[] = [];
    const tools = {
      send_email: tool({
        inputSchema: z.object({ to: z.string() }),
        execute: async ({ to }) => ({ sent: to }),
        toModelOutput: ({ output }) => {
          seen.push(output);
          return { type: 'text', value: `sent to ${output.sent}` };
        },
      }),
    };
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCallsResult([{ id: 'call-1', name: 'send_email', input: { to: 'a@example.com' } }]),
        toolCallsResult([{ id: 'call-2', name: 'send_email', input: { to: 'b@example.com' } }]),
        textResult('ok'),
      ],
    });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel: 'data_modification' }),
      stopWhen: stepCountIs(3),
      prompt: 'x',
    });
    await manager.respond((await notifier.next()).request.id, { decision: 'reject', feedback: 'not a@' });
    await manager.respond((await notifier.next()).request.id, { decision: 'approve' });
    await running;

    expect(toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('send_email')).toEqual({
      type: 'json',
      value: {
        rejected: true,
        reason: 'reviewer',
        toolName: 'send_email',
        requestId: expect.any(String),
        feedback: 'not a@',
        message: 'Rejected by reviewer: not a@',
      },
    });
    expect(toolOutputsIn(model.doGenerateCalls[2]!.prompt).get('send_email')).toEqual({ type: 'text', value: 'sent to b@example.com' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.some((output) => isToolRejection(output))).toBe(false);
  });

  it('streams a generator tool after approval, and returns the formatted rejection when rejected', async () => {
    const { manager, notifier } = setup();
    const body = vi.fn();
    const tools = {
      update_index: tool({
        inputSchema: z.object({ name: z.string() }),
        execute: async function* ({ name }) {
          body(name);
          yield { name, progress: 50 };
          yield { name, progress: 100 };
        },
      }),
    };
    const wrapped = withApproval(tools, {
      manager,
      riskLevel: 'data_modification',
      formatRejection: ({ toolName, feedback }) => `${toolName} was not run: ${feedback}`,
    });
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolCallsResult([{ id: 'call-1', name: 'update_index', input: { name: 'users' } }]),
        toolCallsResult([{ id: 'call-2', name: 'update_index', input: { name: 'orders' } }]),
        textResult('ok'),
      ],
    });
    const running = generateText({ model, tools: wrapped, stopWhen: stepCountIs(3), prompt: 'x' });
    await manager.respond((await notifier.next()).request.id, { decision: 'approve' });
    await manager.respond((await notifier.next()).request.id, { decision: 'reject', feedback: 'orders is frozen' });
    await running;

    expect(body.mock.calls).toEqual([['users']]);
    expect(toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('update_index')).toEqual({
      type: 'json',
      value: { name: 'users', progress: 100 },
    });
    expect(toolOutputsIn(model.doGenerateCalls[2]!.prompt).get('update_index')).toEqual({
      type: 'text',
      value: 'update_index was not run: orders is frozen',
    });
  });
});

describe('withApproval with streamText (ai 6)', () => {
  it('streams the tool result once the reviewer approves', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({
      doStream: [
        { stream: convertArrayToReadableStream(toolCallsStream([weatherCall, deleteCall])) },
        { stream: convertArrayToReadableStream(textStream('User 12345 is deleted.')) },
      ],
    });
    const result = streamText({
      model,
      tools: withApproval(tools, { manager, riskLevel, confidence: 0.9 }),
      stopWhen: stepCountIs(2),
      prompt: 'Weather in Paris, then delete user 12345',
    });
    const parts: Array<TextStreamPart<ToolSet>> = [];
    const consumed = (async () => {
      for await (const part of result.fullStream) parts.push(part);
    })();

    const record = await notifier.next();
    const beforeApproval = parts.filter((part) => part.type === 'tool-result').map((part) => part.type === 'tool-result' && part.toolName);
    expect(beforeApproval).not.toContain('delete_user');
    expect(spies.deleteUser).not.toHaveBeenCalled();
    await manager.respond(record.request.id, { decision: 'approve' });
    await consumed;

    const deleteResultIndex = parts.findIndex((part) => part.type === 'tool-result' && part.toolName === 'delete_user');
    const deleteCallIndex = parts.findIndex((part) => part.type === 'tool-call' && part.toolName === 'delete_user');
    expect(deleteResultIndex).toBeGreaterThan(deleteCallIndex);
    expect(parts[deleteResultIndex]).toMatchObject({ type: 'tool-result', output: { deleted: '12345' } });
    expect(spies.deleteUser).toHaveBeenCalledTimes(1);
    expect(await result.text).toBe('User 12345 is deleted.');
  });
});

describe('withApproval waiting: abort and timeouts', () => {
  it('cancels the pending request when the SDK call is aborted, and never runs the tool', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] });
    const controller = new AbortController();
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel }),
      stopWhen: stepCountIs(2),
      abortSignal: controller.signal,
      prompt: 'Delete 12345',
    });
    const record = await notifier.next();

    controller.abort();
    await expect(running).rejects.toThrow();

    expect((await manager.get(record.request.id))?.status).toBe('cancelled');
    expect(spies.deleteUser).not.toHaveBeenCalled();
    await expect(manager.respond(record.request.id, { decision: 'approve' })).rejects.toMatchObject({ code: 'conflict' });
  });

  it("with onTimeout: 'reject', an expired request becomes a rejection the model reads", async () => {
    const { manager, notifier, clock } = setup({ timeoutMs: 1_000, onTimeout: 'reject' });
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel }),
      stopWhen: stepCountIs(2),
      prompt: 'Delete 12345',
    });
    const record = await notifier.next();

    clock.advance(1_000);
    await running;

    expect(spies.deleteUser).not.toHaveBeenCalled();
    expect((await manager.get(record.request.id))?.status).toBe('expired');
    const output = toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('delete_user');
    expect(output).toMatchObject({ type: 'json', value: { rejected: true } });
    expect(output?.value).toMatchObject({ reason: 'timeout', toolName: 'delete_user', requestId: record.request.id });
    expect((output?.value as { feedback: string }).feedback).toContain('expired');
  });

  it("with onTimeout: 'error', an expired request is a tool error (HitlError 'timeout') and the tool never runs", async () => {
    const { manager, notifier, clock } = setup({ timeoutMs: 1_000, onTimeout: 'error' });
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([deleteCall]), textResult('ok')] });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel, timeoutMs: 500 }),
      stopWhen: stepCountIs(2),
      prompt: 'Delete 12345',
    });
    const record = await notifier.next();
    expect(Date.parse(record.expiresAt!) - Date.parse(record.createdAt)).toBe(500);

    clock.advance(500);
    const result = await running;

    expect(spies.deleteUser).not.toHaveBeenCalled();
    expect((await manager.get(record.request.id))?.status).toBe('expired');
    const error = result.steps[0]!.content.find((part) => part.type === 'tool-error');
    expect(HitlError.is(error?.error, 'timeout')).toBe(true);
    expect(toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('delete_user')?.type).toBe('error-text');
  });
});

describe('withApproval input checks', () => {
  it('names the field and the value of a bad option', () => {
    const { manager } = setup();
    const { tools } = makeTools();
    const attempt = (options: unknown) => {
      try {
        withApproval(tools, options as never);
      } catch (error) {
        return HitlError.is(error, 'invalid_input') ? error.message : `unexpected: ${String(error)}`;
      }
      return 'no error';
    };
    expect(attempt({ manager, riskLevel: { get_weather: 'harmless' } })).toBe(
      "options.riskLevel.get_weather 'harmless' is not a risk level ('read_only', 'data_modification' or 'irreversible')",
    );
    expect(attempt({ riskLevel })).toContain('options.manager undefined');
    expect(attempt({ manager, riskLevel: 'harmless' })).toContain("options.riskLevel 'harmless'");
    expect(attempt({ manager, riskLevel, confidence: 1.5 })).toBe('options.confidence 1.5 must be a number between 0 and 1');
    expect(attempt({ manager, riskLevel, timeoutMs: 0 })).toContain('options.timeoutMs 0');
    expect(attempt({ manager, riskLevel, describe: 'text' })).toContain("options.describe 'text' must be a function");
    expect(() => withApproval('tools' as never, { manager, riskLevel })).toThrow(/tools 'tools' must be an object/);
    expect(() => withApproval('tools' as never, { manager, riskLevel })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'tools' }) }),
    );
  });

  it('leaves tools without execute as they are, and keeps names and schemas', () => {
    const { manager } = setup();
    const { tools } = makeTools();
    const clientSide = tool({ inputSchema: z.object({ question: z.string() }) });
    const wrapped = withApproval({ ...tools, ask_user: clientSide }, { manager, riskLevel });
    expect(wrapped.ask_user).toBe(clientSide);
    expect(Object.keys(wrapped)).toEqual(['get_weather', 'delete_user', 'send_email', 'ask_user']);
    expect(wrapped.delete_user.inputSchema).toBe(tools.delete_user.inputSchema);
    expect(wrapped.delete_user.description).toBe(tools.delete_user.description);
    expect(wrapped.delete_user.execute).not.toBe(tools.delete_user.execute);
    expect(tools.delete_user.execute).toBeTypeOf('function');
  });
});

describe('withApproval tool names', () => {
  it('refuses a tools key no tool name can have, naming it', () => {
    const { manager } = setup();
    const execute = async () => 'ran';
    let caught: unknown;
    try {
      withApproval(
        { 'delete user': tool({ inputSchema: jsonSchema({ type: 'object' }), execute }) },
        { manager, riskLevel: 'irreversible' },
      );
    } catch (error) {
      caught = error;
    }
    expect(HitlError.is(caught, 'invalid_input')).toBe(true);
    expect((caught as Error).message).toContain("tools 'delete user' has a key that is not a valid tool name");
    expect(caught).toMatchObject({ code: 'invalid_input', details: { field: 'tools', value: "'delete user'" } });
  });
});
