// withApproval and wrapTools for LangChain tools: in createAgent runs and invoked directly, every decision, timeout, abort and option.
import { HitlError } from '@hitl/core';
import type { Manager } from '@hitl/core';
import { nextEvent } from '@hitl/core/testing';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { DynamicStructuredTool, tool } from '@langchain/core/tools';
import { createAgent, FakeToolCallingModel, HumanMessage } from 'langchain';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { ToolRejectedError, withApproval, wrapTools } from './index.js';
import { useFixtureSetup, type ToolCallScript, toolMessages, weatherCall, deleteCall } from './test/fixtures.js';

const setup = useFixtureSetup();

function agentWith(tools: DynamicStructuredTool[], turns: ToolCallScript[][]) {
  const model = new FakeToolCallingModel({ toolCalls: [...turns, []] });
  return createAgent({ model, tools });
}
function lastAiText(messages: unknown[]): string {
  const last = [...messages].reverse().find((message): message is AIMessage => AIMessage.isInstance(message));
  return String(last?.content ?? '');
}
const toolCall = (call: ToolCallScript) => ({ ...call, type: 'tool_call' as const });

describe('withApproval in a createAgent run', () => {
  it('runs get_weather without a human and delete_user only once a reviewer approves', async () => {
    const { manager, notifier, weatherBody, deleteBody, getWeather, deleteUser } = setup();
    const agent = agentWith(
      [
        withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9 }),
        withApproval(deleteUser, { manager, riskLevel: 'irreversible', confidence: 0.9 }),
      ],
      [[weatherCall], [deleteCall]],
    );

    const run = agent.invoke({ messages: [new HumanMessage('weather, then delete user 42')] });
    const record = await notifier.next();

    expect(weatherBody).toHaveBeenCalledTimes(1);
    expect(deleteBody).not.toHaveBeenCalled();
    expect(record.request).toMatchObject({
      toolName: 'delete_user',
      input: { user_id: '42' },
      riskLevel: 'irreversible',
      confidence: 0.9,
      description: 'Delete a user account\nArguments: {"user_id":"42"}',
      metadata: { toolCallId: 'call-delete' },
    });
    expect(record.status).toBe('pending');

    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    const result = await run;

    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(deleteBody.mock.calls[0]?.[0]).toEqual({ user_id: '42' });
    const [weather, deleted] = toolMessages(result.messages);
    expect(weather).toMatchObject({ content: 'It is sunny in Paris.', status: 'success', tool_call_id: 'call-weather' });
    expect(deleted).toMatchObject({ content: 'Deleted user 42.', status: 'success', tool_call_id: 'call-delete' });
    // Only delete_user went through the store: the auto-approved call made no record.
    expect(notifier.records).toHaveLength(1);
    expect((await manager.list()).items.map((item) => item.request.toolName)).toEqual(['delete_user']);
  });

  it('on reject the model reads the feedback and the tool body never runs', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith([withApproval(deleteUser, { manager, riskLevel: 'irreversible' })], [[deleteCall]]);

    const run = agent.invoke({ messages: [new HumanMessage('delete user 42')] });
    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'reject', feedback: 'user 42 is a paying customer' });
    const result = await run;

    expect(deleteBody).not.toHaveBeenCalled();
    const [message] = toolMessages(result.messages);
    expect(message).toMatchObject({
      content: 'Rejected by reviewer: user 42 is a paying customer',
      status: 'error',
      tool_call_id: 'call-delete',
      name: 'delete_user',
    });
    // FakeToolCallingModel echoes the conversation it was given: the model saw the feedback.
    expect(lastAiText(result.messages)).toContain('Rejected by reviewer: user 42 is a paying customer');
  });

  it('a policy denial never asks anyone, is stored for audit and reads differently from a human rejection', async () => {
    const { manager, notifier, dropBody, dropTable } = setup();
    const agent = agentWith(
      [withApproval(dropTable, { manager, riskLevel: 'irreversible' })],
      [[{ name: 'drop_table', args: { table: 'users' }, id: 'call-drop' }]],
    );

    const result = await agent.invoke({ messages: [new HumanMessage('drop users')] });

    expect(dropBody).not.toHaveBeenCalled();
    expect(notifier.records).toHaveLength(0);
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe('error');
    expect(message?.content).toBe("Denied by policy: 'drop_table' is denied by policy 'forbidden'");
    const [stored] = (await manager.list()).items;
    expect(stored).toMatchObject({ status: 'rejected', response: { automatic: true } });
  });

  it('modify with valid arguments runs the tool with the edited arguments', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith([withApproval(deleteUser, { manager, riskLevel: 'irreversible' })], [[deleteCall]]);

    const run = agent.invoke({ messages: [new HumanMessage('delete user 42')] });
    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'modify', modified: { user_id: '7' } });
    const result = await run;

    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(deleteBody.mock.calls[0]?.[0]).toEqual({ user_id: '7' });
    expect(toolMessages(result.messages)[0]).toMatchObject({ content: 'Deleted user 7.', status: 'success' });
    expect((await manager.get(record.request.id))?.status).toBe('modified');
  });

  it('modify with arguments the schema refuses is refused at decision time (never recorded) and the tool does not run', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith([withApproval(deleteUser, { manager, riskLevel: 'irreversible' })], [[deleteCall]]);

    const run = agent.invoke({ messages: [new HumanMessage('delete user 42')] });
    const record = await notifier.next();
    expect(record.request.inputSchema).toMatchObject({ type: 'object', properties: { user_id: { type: 'string' } } });
    const refused = await manager
      .respond(record.request.id, { decision: 'modify', modified: { user_id: 'everyone' } })
      .catch((error: unknown) => error);
    expect(HitlError.is(refused, 'invalid_input')).toBe(true);
    expect((refused as Error).message).toContain('modified/user_id must match pattern');
    expect(refused).toMatchObject({ code: 'invalid_input', details: { field: 'modified', path: 'modified/user_id' } });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    await manager.respond(record.request.id, { decision: 'reject', feedback: 'wrong user' });
    const result = await run;

    expect(deleteBody).not.toHaveBeenCalled();
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe('error');
    expect(message?.content).toBe('Rejected by reviewer: wrong user');
  });

  it('aborting the run through its signal cancels the pending request and the tool never runs', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith([withApproval(deleteUser, { manager, riskLevel: 'irreversible' })], [[deleteCall]]);
    const controller = new AbortController();

    const run = agent.invoke({ messages: [new HumanMessage('delete user 42')] }, { signal: controller.signal });
    const record = await notifier.next();
    const cancelled = nextEvent(manager, 'request-cancelled');
    controller.abort();

    await expect(run).rejects.toThrow();
    expect((await cancelled).record.request.id).toBe(record.request.id);
    expect((await manager.get(record.request.id))?.status).toBe('cancelled');
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("the tool's own error reaches the agent exactly as it would without approval", async () => {
    const { manager } = setup();
    const failing = () =>
      tool(
        async () => {
          throw new Error('weather service is down');
        },
        { name: 'get_weather', description: 'Weather', schema: z.object({ city: z.string() }) },
      );
    const plain = await agentWith([failing()], [[weatherCall]]).invoke({ messages: [new HumanMessage('weather')] });
    const gated = await agentWith([withApproval(failing(), { manager, riskLevel: 'read_only', confidence: 1 })], [[weatherCall]]).invoke({
      messages: [new HumanMessage('weather')],
    });

    const expected = toolMessages(plain.messages)[0];
    expect(expected?.content).toContain('weather service is down');
    expect(toolMessages(gated.messages)[0]).toMatchObject({ content: expected?.content, status: 'error' });
  });
});

describe('withApproval invoked directly', () => {
  it('keeps the class, name, description and schema, and leaves the original ungated', async () => {
    const { manager, deleteBody, deleteUser } = setup();
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });

    expect(gated).toBeInstanceOf(DynamicStructuredTool);
    expect(gated).not.toBe(deleteUser);
    expect(gated.name).toBe('delete_user');
    expect(gated.description).toBe('Delete a user account');
    expect(gated.schema).toBe(deleteUser.schema);
    await expect(deleteUser.invoke({ user_id: '1' })).resolves.toBe('Deleted user 1.');
    expect(deleteBody).toHaveBeenCalledTimes(1);
  });

  it('returns the rejection text (not a ToolMessage) when called with plain arguments', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });

    const call = gated.invoke({ user_id: '42' });
    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'reject' });

    await expect(call).resolves.toBe('Rejected by reviewer.');
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("onReject: 'throw' throws ToolRejectedError, a HitlError carrying the decision", async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible', onReject: 'throw' });

    const call = gated.invoke(toolCall(deleteCall)).catch((error: unknown) => error);
    const record = await notifier.next();
    await manager.respond(record.request.id, { decision: 'reject', feedback: 'not today', respondedBy: 'bob' });
    const error = await call;

    expect(ToolRejectedError.is(error)).toBe(true);
    expect(HitlError.is(error, 'forbidden')).toBe(true);
    expect(error).toMatchObject({
      name: 'ToolRejectedError',
      reason: 'reviewer',
      toolName: 'delete_user',
      requestId: record.request.id,
      feedback: 'not today',
      message: 'Rejected by reviewer: not today',
      response: { decision: 'reject', respondedBy: 'bob' },
    });
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("a policy denial with onReject: 'throw' has reason 'policy'", async () => {
    const { manager, dropTable } = setup();
    const gated = withApproval(dropTable, { manager, riskLevel: 'irreversible', onReject: 'throw' });
    await expect(gated.invoke({ table: 'users' })).rejects.toMatchObject({ name: 'ToolRejectedError', reason: 'policy' });
  });

  it("timeout with onTimeout: 'error' throws HitlError('timeout') and the tool does not run", async () => {
    const { manager, notifier, clock, deleteBody, deleteUser } = setup({ onTimeout: 'error' });
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible', timeoutMs: 5_000 });

    const call = gated.invoke(toolCall(deleteCall)).catch((error: unknown) => error);
    const record = await notifier.next();
    const expired = nextEvent(manager, 'request-expired');
    clock.advance(5_000);
    await expired;
    const error = await call;

    expect(HitlError.is(error, 'timeout')).toBe(true);
    expect((await manager.get(record.request.id))?.status).toBe('expired');
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("timeout with onTimeout: 'reject' hands the model a rejection and the tool does not run", async () => {
    const { manager, notifier, clock, deleteBody, deleteUser } = setup({ onTimeout: 'reject' });
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });

    const call = gated.invoke(toolCall(deleteCall));
    await notifier.next();
    clock.advance(60_000);
    const message = await call;

    expect(message).toBeInstanceOf(ToolMessage);
    expect(message).toMatchObject({ status: 'error', tool_call_id: 'call-delete' });
    expect(String((message as ToolMessage).content)).toMatch(/^Rejected: nobody approved the call in time \(expired: no decision before /);
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("aborting the signal throws HitlError('cancelled') and cancels the request", async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });
    const controller = new AbortController();

    const call = gated.invoke({ user_id: '42' }, { signal: controller.signal }).catch((error: unknown) => error);
    const record = await notifier.next();
    controller.abort();
    const error = await call;

    expect(HitlError.is(error, 'cancelled')).toBe(true);
    expect((await manager.get(record.request.id))?.status).toBe('cancelled');
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it('an already aborted signal submits nothing', async () => {
    const { manager, deleteUser } = setup();
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });
    await expect(gated.invoke({ user_id: '42' }, { signal: AbortSignal.abort() })).rejects.toSatisfy((error) =>
      HitlError.is(error, 'cancelled'),
    );
    expect((await manager.list()).items).toHaveLength(0);
  });

  it("the tool's own error passes through unchanged, on the auto-approved and the reviewed path", async () => {
    const { manager, notifier } = setup();
    const failure = new Error('database unreachable');
    const failing = (name: string) =>
      tool(
        async () => {
          throw failure;
        },
        { name, description: 'fails', schema: z.object({ id: z.string() }) },
      );

    await expect(withApproval(failing('get_user'), { manager, riskLevel: 'read_only', confidence: 1 }).invoke({ id: '1' })).rejects.toBe(
      failure,
    );

    const reviewed = withApproval(failing('delete_row'), { manager, riskLevel: 'irreversible' }).invoke({ id: '1' });
    await manager.respond((await notifier.next()).request.id, { decision: 'approve' });
    await expect(reviewed).rejects.toBe(failure);
  });

  it('confidence as a number, a function and an async function drives the policies', async () => {
    const { manager, notifier, weatherBody, getWeather } = setup();
    const seen: unknown[] = [];
    const sure = withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9 });
    const unsure = withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.2 });
    const computed = withApproval(getWeather, {
      manager,
      riskLevel: 'read_only',
      confidence: (input, call) => {
        seen.push([input, call?.id]);
        return input.city === 'Paris' ? 0.95 : 0.1;
      },
    });
    const asynchronous = withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: async () => 0.7 });

    await expect(sure.invoke({ city: 'Oslo' })).resolves.toBe('It is sunny in Oslo.');
    await expect(computed.invoke({ ...toolCall(weatherCall), args: { city: 'Paris' } })).resolves.toMatchObject({
      content: 'It is sunny in Paris.',
    });
    await expect(asynchronous.invoke({ city: 'Rome' })).resolves.toBe('It is sunny in Rome.');
    expect(seen).toEqual([[{ city: 'Paris' }, 'call-weather']]);
    expect(notifier.records).toHaveLength(0);

    const waiting = unsure.invoke({ city: 'Lima' });
    const record = await notifier.next();
    expect(record.request.confidence).toBe(0.2);
    expect(record.evaluation.reason).toBe("confidence 0.20 is below 0.50 required by 'read-only-auto'");
    await manager.respond(record.request.id, { decision: 'approve' });
    await expect(waiting).resolves.toBe('It is sunny in Lima.');
    expect(weatherBody).toHaveBeenCalledTimes(4);
  });

  it('riskLevel as a function of the input', async () => {
    const { manager, notifier } = setup();
    const body = vi.fn(async ({ field }: { field: string }) => `updated ${field}`);
    const updateProfile = tool(body, {
      name: 'update_profile',
      description: 'Update a profile field',
      schema: z.object({ field: z.string() }),
    });
    const gated = withApproval(updateProfile, {
      manager,
      confidence: 0.9,
      riskLevel: ({ field }) => (field === 'email' ? 'irreversible' : 'data_modification'),
    });

    await expect(gated.invoke({ field: 'nickname' })).resolves.toBe('updated nickname');
    const pending = gated.invoke({ field: 'email' });
    const record = await notifier.next();
    expect(record.request.riskLevel).toBe('irreversible');
    await manager.respond(record.request.id, { decision: 'reject' });
    await expect(pending).resolves.toBe('Rejected by reviewer.');
    expect(body).toHaveBeenCalledTimes(1);
  });

  it('a failing or invalid riskLevel/confidence callback refuses the call (callback_failed), logs it and never runs the tool', async () => {
    const { manager, weatherBody, getWeather } = setup();
    const logger = { warn: vi.fn() };
    const throwing = withApproval(getWeather, {
      manager,
      riskLevel: 'read_only',
      logger,
      confidence: () => {
        throw new Error('scorer offline');
      },
    });
    const rejecting = withApproval(getWeather, {
      manager,
      riskLevel: 'read_only',
      logger,
      onReject: 'throw',
      confidence: async () => Promise.reject(new Error('scorer offline')),
    });
    const outOfRange = withApproval(getWeather, { manager, riskLevel: 'read_only', logger, confidence: () => 1.5 });
    const unknownRisk = withApproval(getWeather, { manager, riskLevel: () => 'harmless' as never, logger, confidence: 1 });

    await expect(throwing.invoke({ city: 'Paris' })).resolves.toBe("Refused: confidence for 'get_weather' threw: scorer offline");
    const thrown: unknown = await rejecting.invoke({ city: 'Paris' }).catch((error: unknown) => error);
    expect(ToolRejectedError.is(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      reason: 'callback_failed',
      toolName: 'get_weather',
      requestId: '',
      feedback: "confidence for 'get_weather' threw: scorer offline",
    });
    await expect(outOfRange.invoke({ city: 'Paris' })).resolves.toBe(
      "Refused: confidence for 'get_weather' is 1.5; it must be a number between 0 and 1",
    );
    await expect(unknownRisk.invoke({ city: 'Paris' })).resolves.toContain("riskLevel for 'get_weather' is 'harmless'");
    expect(weatherBody).not.toHaveBeenCalled();
    expect(logger.warn).toHaveBeenCalledTimes(4);
    expect(logger.warn).toHaveBeenCalledWith("hitl: refused a call to 'get_weather': confidence for 'get_weather' threw: scorer offline");
    // Nothing was stored: nobody could judge the call, so nobody is asked about it.
    expect((await manager.list()).items).toHaveLength(0);
  });

  it('describe and requestedBy reach the request, and the requester may not approve it', async () => {
    const { manager, notifier, deleteUser } = setup();
    const gated = withApproval(deleteUser, {
      manager,
      riskLevel: 'irreversible',
      describe: ({ user_id }) => `Delete user ${user_id} for good`,
      requestedBy: (_input, config) => String(config.configurable?.userId),
    });

    const pending = gated.invoke({ user_id: '42' }, { configurable: { userId: 'alice' } });
    const record = await notifier.next();
    expect(record.request).toMatchObject({ description: 'Delete user 42 for good', requestedBy: 'alice' });
    await expect(manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' })).rejects.toSatisfy((error) =>
      HitlError.is(error, 'forbidden'),
    );
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    await expect(pending).resolves.toBe('Deleted user 42.');
  });

  it('audit: true stores auto-approved calls as decided records', async () => {
    const { manager, notifier, getWeather } = setup();
    const gated = withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9, audit: true });

    await expect(gated.invoke({ city: 'Oslo' })).resolves.toBe('It is sunny in Oslo.');
    const { items } = await manager.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      status: 'approved',
      request: { toolName: 'get_weather', input: { city: 'Oslo' } },
      response: { automatic: true },
    });
    expect(notifier.records).toHaveLength(0);
  });

  it('a string-input tool is reviewed with its input under `input`', async () => {
    const { manager, notifier } = setup();
    const body = vi.fn(async (query: string) => `results for ${query}`);
    const search = tool(body, { name: 'delete_search_index', description: 'Delete an index' });
    const gated = withApproval(search, { manager, riskLevel: 'irreversible' });

    const pending = gated.invoke('products');
    const record = await notifier.next();
    expect(record.request.input).toEqual({ input: 'products' });
    await manager.respond(record.request.id, { decision: 'modify', modified: { input: 'archive' } });
    await expect(pending).resolves.toBe('results for archive');
    expect(body.mock.calls[0]?.[0]).toBe('archive');
  });

  it('validates edited arguments against JSON-schema and Zod v3 tools too', async () => {
    const { manager, notifier } = setup();
    const jsonBody = vi.fn(async (input: unknown) => `archived ${JSON.stringify(input)}`);
    const archiveJson = tool(jsonBody, {
      name: 'delete_archive',
      description: 'Delete an archive',
      schema: { type: 'object', properties: { year: { type: 'integer', minimum: 2000 } }, required: ['year'] },
    });
    const v3Body = vi.fn(async ({ path }: { path: string }) => `removed ${path}`);
    const removeV3 = tool(v3Body, {
      name: 'delete_file',
      description: 'Delete a file',
      schema: z3.object({ path: z3.string().startsWith('/tmp/') }),
    });

    // An edit the tool's schema refuses is refused when the reviewer makes it: the request stays pending.
    const refusedEdit = async (id: string, modified: Record<string, unknown>, message: string) => {
      const error = await manager.respond(id, { decision: 'modify', modified }).catch((caught: unknown) => caught);
      expect(HitlError.is(error, 'invalid_input')).toBe(true);
      expect((error as Error).message).toContain(message);
      expect(error).toMatchObject({ code: 'invalid_input', details: { field: 'modified' } });
      expect((await manager.get(id))?.status).toBe('pending');
      await manager.respond(id, { decision: 'reject', feedback: 'no' });
    };
    const json = withApproval(archiveJson, { manager, riskLevel: 'irreversible' }).invoke({ year: 2020 });
    await refusedEdit((await notifier.next()).request.id, { year: 1999 }, 'modified/year must be >= 2000');
    await expect(json).resolves.toBe('Rejected by reviewer: no');
    expect(jsonBody).not.toHaveBeenCalled();

    const jsonValid = withApproval(archiveJson, { manager, riskLevel: 'irreversible' }).invoke({ year: 2020 });
    await manager.respond((await notifier.next()).request.id, { decision: 'modify', modified: { year: 2021 } });
    await expect(jsonValid).resolves.toBe('archived {"year":2021}');

    const v3 = withApproval(removeV3, { manager, riskLevel: 'irreversible' }).invoke({ path: '/tmp/a' });
    await refusedEdit((await notifier.next()).request.id, { path: '/etc/passwd' }, 'modified/path must match pattern');
    await expect(v3).resolves.toBe('Rejected by reviewer: no');
    expect(v3Body).not.toHaveBeenCalled();
  });

  it('refuses bad arguments with invalid_input naming the field', () => {
    const { manager, getWeather } = setup();
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(HitlError.is(error, 'invalid_input')).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a HitlError');
    };
    expect(attempt(() => withApproval({} as never, { manager, riskLevel: 'read_only' }))).toMatch(
      /^tool .* must be a LangChain StructuredTool/,
    );
    const spaced = tool(async () => 'ran', { name: 'get weather', description: 'x', schema: z.object({}) });
    expect(attempt(() => withApproval(spaced, { manager, riskLevel: 'read_only' }))).toBe(
      'tool.name \'get weather\' is not a valid tool name: it contains " " at position 3 (a tool name is letters, digits and _ - . : only)',
    );
    expect(attempt(() => withApproval(getWeather, { manager: {} as Manager, riskLevel: 'read_only' }))).toBe(
      'options.manager must be a Manager from createManager() (it has no evaluate() method)',
    );
    expect(attempt(() => withApproval(getWeather, { manager, riskLevel: 'low' as never }))).toBe(
      "options.riskLevel 'low' must be a risk level or a function",
    );
    expect(attempt(() => withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 2 }))).toBe(
      'options.confidence 2 must be a number between 0 and 1 or a function',
    );
    expect(attempt(() => withApproval(getWeather, { manager, riskLevel: 'read_only', onReject: 'ignore' as never }))).toBe(
      "options.onReject 'ignore' must be 'message' or 'throw'",
    );
    expect(attempt(() => withApproval(getWeather, { manager, riskLevel: 'read_only', timeoutMs: 0 }))).toMatch(
      /^options.timeoutMs 0 must be a positive number/,
    );
    expect(attempt(() => withApproval(getWeather, { manager, riskLevel: 'read_only', requestedBy: '' }))).toBe(
      "options.requestedBy '' must be a non-empty string or a function",
    );
  });
});

describe('wrapTools', () => {
  it('wraps every tool, with options per tool from a function', async () => {
    const { manager, notifier, getWeather, deleteUser, weatherBody, deleteBody } = setup();
    const [weather, remove] = wrapTools([getWeather, deleteUser], (candidate) => ({
      manager,
      confidence: 0.9,
      riskLevel: candidate.name.startsWith('get_') ? 'read_only' : 'irreversible',
    }));

    await expect(weather.invoke({ city: 'Oslo' })).resolves.toBe('It is sunny in Oslo.');
    const pending = remove.invoke({ user_id: '3' });
    await manager.respond((await notifier.next()).request.id, { decision: 'approve' });
    await expect(pending).resolves.toBe('Deleted user 3.');
    expect(weatherBody).toHaveBeenCalledTimes(1);
    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(notifier.records.map((record) => record.request.toolName)).toEqual(['delete_user']);
  });

  it('names the tool whose options are invalid', () => {
    const { manager, getWeather, deleteUser } = setup();
    expect(() =>
      wrapTools([getWeather, deleteUser], (candidate) => ({
        manager,
        riskLevel: (candidate.name === 'delete_user' ? 'bad' : 'read_only') as never,
      })),
    ).toThrow("tools[1]: options.riskLevel 'bad' must be a risk level or a function");
    expect(() =>
      wrapTools([getWeather, deleteUser], (candidate) => ({
        manager,
        riskLevel: (candidate.name === 'delete_user' ? 'bad' : 'read_only') as never,
      })),
    ).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'tools[1].options.riskLevel' }) }),
    );
  });
});
