// approvalMiddleware in createAgent runs: reviewed and denied calls, parallel calls, modify, timeout, abort, onReject, risk callbacks.
import { HitlError } from '@hitl/core';
import { nextEvent } from '@hitl/core/testing';
import { tool } from '@langchain/core/tools';
import type { DynamicStructuredTool } from '@langchain/core/tools';
import { AIMessage, createAgent, FakeToolCallingModel, HumanMessage } from 'langchain';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ToolRejectedError } from './index.js';
import { approvalMiddleware } from './middleware.js';
import type { ApprovalMiddlewareOptions } from './middleware.js';
import { useFixtureSetup, type ToolCallScript, toolMessages, weatherCall, deleteCall } from './test/fixtures.js';

const setup = useFixtureSetup();

const riskLevel = { get_weather: 'read_only', delete_user: 'irreversible', drop_table: 'irreversible' } as const;

function agentWith(
  tools: DynamicStructuredTool[],
  turns: ToolCallScript[][],
  options: Omit<ApprovalMiddlewareOptions, 'riskLevel'> & Partial<Pick<ApprovalMiddlewareOptions, 'riskLevel'>>,
) {
  const model = new FakeToolCallingModel({ toolCalls: [...turns, []] });
  return createAgent({ model, tools, middleware: [approvalMiddleware({ riskLevel, confidence: 0.9, ...options })] });
}
const ask = (text: string) => ({ messages: [new HumanMessage(text)] });

describe('approvalMiddleware', () => {
  it('lets get_weather through and holds delete_user until a reviewer approves', async () => {
    const { manager, notifier, weatherBody, deleteBody, getWeather, deleteUser } = setup();
    const agent = agentWith([getWeather, deleteUser], [[weatherCall], [deleteCall]], { manager });

    const run = agent.invoke(ask('weather, then delete user 42'), { configurable: { thread_id: 'thread-7' } });
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
      threadId: 'thread-7',
    });
    expect(record.request.metadata).not.toHaveProperty('threadId');

    await manager.respond(record.request.id, { decision: 'approve' });
    const result = await run;

    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(toolMessages(result.messages).map((message) => [message.tool_call_id, message.status, message.content])).toEqual([
      ['call-weather', 'success', 'It is sunny in Paris.'],
      ['call-delete', 'success', 'Deleted user 42.'],
    ]);
    expect((await manager.list()).items.map((item) => item.request.toolName)).toEqual(['delete_user']);
  });

  it('lets a policy condition see the arguments and the context: thread from configurable, run from the model turn', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    manager.removePolicy('destructive');
    manager.addPolicy({
      name: 'test-accounts',
      toolPattern: 'delete_user',
      maxRiskLevel: 'irreversible',
      when: 'input.user_id.startsWith("9") && threadId == "thread-7"',
    });
    manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
    const agent = agentWith(
      [deleteUser],
      [
        [
          { name: 'delete_user', args: { user_id: '91' }, id: 'call-test' },
          { name: 'delete_user', args: { user_id: '1' }, id: 'call-real' },
          { name: 'delete_user', args: { user_id: '2' }, id: 'call-real-2' },
        ],
      ],
      { manager },
    );

    const run = agent.invoke(ask('delete users 91, 1 and 2'), { configurable: { thread_id: 'thread-7' } });
    const first = await notifier.next();
    const second = await notifier.next();
    // The test account ran at once; the real ones wait, both in the same model turn.
    expect(deleteBody.mock.calls.map((call) => call[0])).toEqual([{ user_id: '91' }]);
    expect(first.request.threadId).toBe('thread-7');
    expect(first.request.runId).toEqual(expect.any(String));
    expect(second.request.runId).toBe(first.request.runId);
    expect(first.evaluation.policy).toBe('destructive');
    expect((await manager.list({ runId: first.request.runId as string })).items).toHaveLength(2);
    await manager.respond(first.request.id, { decision: 'reject' });
    await manager.respond(second.request.id, { decision: 'reject' });
    await run;
    expect(deleteBody).toHaveBeenCalledTimes(1);
  });

  it('turns a rejection into an error ToolMessage the model reads; the tool never runs', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith([deleteUser], [[deleteCall]], { manager });

    const run = agent.invoke(ask('delete user 42'));
    await manager.respond((await notifier.next()).request.id, { decision: 'reject', feedback: 'ask the account owner first' });
    const result = await run;

    expect(deleteBody).not.toHaveBeenCalled();
    expect(toolMessages(result.messages)[0]).toMatchObject({
      content: 'Rejected by reviewer: ask the account owner first',
      status: 'error',
      tool_call_id: 'call-delete',
      name: 'delete_user',
    });
    const last = result.messages.at(-1);
    expect(AIMessage.isInstance(last) && String(last.content)).toContain('Rejected by reviewer: ask the account owner first');
  });

  it('decides parallel tool calls independently: one rejected, one approved, both answered', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith(
      [deleteUser],
      [
        [
          { name: 'delete_user', args: { user_id: '1' }, id: 'call-1' },
          { name: 'delete_user', args: { user_id: '2' }, id: 'call-2' },
        ],
      ],
      { manager },
    );

    const run = agent.invoke(ask('delete users 1 and 2'));
    const first = await notifier.next();
    const second = await notifier.next();
    const byUser = new Map([first, second].map((record) => [record.request.input?.user_id, record.request.id]));
    await manager.respond(byUser.get('1')!, { decision: 'reject', feedback: 'keep user 1' });
    await manager.respond(byUser.get('2')!, { decision: 'approve' });
    const result = await run;

    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(deleteBody.mock.calls[0]?.[0]).toEqual({ user_id: '2' });
    const answers = new Map(toolMessages(result.messages).map((message) => [message.tool_call_id, [message.status, message.content]]));
    expect(answers.get('call-1')).toEqual(['error', 'Rejected by reviewer: keep user 1']);
    expect(answers.get('call-2')).toEqual(['success', 'Deleted user 2.']);
  });

  it('refuses a call to a name no tool can have, without asking anyone or running anything', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const huge = `delete_${'x'.repeat(400_000)}`;
    const agent = agentWith(
      [deleteUser],
      [
        [
          { name: 'delete user', args: { user_id: '1' }, id: 'call-space' },
          { name: huge, args: { user_id: '2' }, id: 'call-huge' },
        ],
      ],
      { manager },
    );

    const result = await agent.invoke(ask('delete users'));

    expect(deleteBody).not.toHaveBeenCalled();
    expect(notifier.records).toHaveLength(0);
    const answers = new Map(toolMessages(result.messages).map((message) => [message.tool_call_id, [message.status, message.content]]));
    expect(answers.get('call-space')?.[0]).toBe('error');
    expect(answers.get('call-space')?.[1]).toContain(
      'Denied by policy: toolName \'delete user\' is not a valid tool name: it contains " " at position 6',
    );
    expect(answers.get('call-huge')?.[1]).toContain('is 400007 characters long (at most 128)');
  });

  it('a policy denial never reaches a reviewer', async () => {
    const { manager, notifier, dropBody, dropTable } = setup();
    const agent = agentWith([dropTable], [[{ name: 'drop_table', args: { table: 'users' }, id: 'call-drop' }]], { manager });

    const result = await agent.invoke(ask('drop users'));

    expect(dropBody).not.toHaveBeenCalled();
    expect(notifier.records).toHaveLength(0);
    expect(toolMessages(result.messages)[0]).toMatchObject({
      status: 'error',
      content: "Denied by policy: 'drop_table' is denied by policy 'forbidden'",
    });
  });

  it('modify with valid arguments runs the tool with them; invalid arguments do not run it', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith(
      [deleteUser],
      [
        [
          { name: 'delete_user', args: { user_id: '1' }, id: 'call-1' },
          { name: 'delete_user', args: { user_id: '2' }, id: 'call-2' },
        ],
      ],
      { manager },
    );

    const run = agent.invoke(ask('delete users 1 and 2'));
    const records = [await notifier.next(), await notifier.next()];
    const byUser = new Map(records.map((record) => [record.request.input?.user_id, record.request.id]));
    await manager.respond(byUser.get('1')!, { decision: 'modify', modified: { user_id: '10' } });
    // An edit the tool's schema refuses is refused when made, never recorded; the reviewer then rejects.
    const refused = await manager
      .respond(byUser.get('2')!, { decision: 'modify', modified: { user_id: 'all' } })
      .catch((error: unknown) => error);
    expect(HitlError.is(refused, 'invalid_input')).toBe(true);
    expect((refused as Error).message).toContain('modified/user_id must match pattern');
    expect(refused).toMatchObject({ code: 'invalid_input', details: { field: 'modified', path: 'modified/user_id' } });
    await manager.respond(byUser.get('2')!, { decision: 'reject', feedback: 'not all of them' });
    const result = await run;

    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(deleteBody.mock.calls[0]?.[0]).toEqual({ user_id: '10' });
    const answers = new Map(toolMessages(result.messages).map((message) => [message.tool_call_id, [message.status, message.content]]));
    expect(answers.get('call-1')).toEqual(['success', 'Deleted user 10.']);
    expect(answers.get('call-2')).toEqual(['error', 'Rejected by reviewer: not all of them']);
  });

  it("timeout with onTimeout: 'error' fails the run with HitlError('timeout') as the cause", async () => {
    const { manager, notifier, clock, deleteBody, deleteUser } = setup({ onTimeout: 'error' });
    const agent = agentWith([deleteUser], [[deleteCall]], { manager, timeoutMs: 1_000 });

    const run = agent.invoke(ask('delete user 42')).catch((error: unknown) => error);
    const record = await notifier.next();
    clock.advance(1_000);
    const error = (await run) as Error;

    expect(error.name).toBe('HitlError');
    expect(HitlError.is(error.cause, 'timeout')).toBe(true);
    expect((await manager.get(record.request.id))?.status).toBe('expired');
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("timeout with onTimeout: 'reject' answers the model with a rejection", async () => {
    const { manager, notifier, clock, deleteBody, deleteUser } = setup({ onTimeout: 'reject' });
    const agent = agentWith([deleteUser], [[deleteCall]], { manager });

    const run = agent.invoke(ask('delete user 42'));
    await notifier.next();
    clock.advance(60_000);
    const result = await run;

    expect(deleteBody).not.toHaveBeenCalled();
    const [message] = toolMessages(result.messages);
    expect(message?.status).toBe('error');
    expect(String(message?.content)).toMatch(/^Rejected: nobody approved the call in time/);
  });

  it('aborting the run cancels the pending request', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const agent = agentWith([deleteUser], [[deleteCall]], { manager });
    const controller = new AbortController();

    const run = agent.invoke(ask('delete user 42'), { signal: controller.signal });
    const record = await notifier.next();
    const cancelled = nextEvent(manager, 'request-cancelled');
    controller.abort();

    await expect(run).rejects.toThrow();
    expect((await cancelled).record.request.id).toBe(record.request.id);
    expect(deleteBody).not.toHaveBeenCalled();
  });

  it("onReject: 'throw' stops the run with ToolRejectedError as the cause", async () => {
    const { manager, notifier, deleteUser } = setup();
    const agent = agentWith([deleteUser], [[deleteCall]], { manager, onReject: 'throw' });

    const run = agent.invoke(ask('delete user 42')).catch((error: unknown) => error);
    await manager.respond((await notifier.next()).request.id, { decision: 'reject', feedback: 'no' });
    const error = (await run) as Error;

    expect(ToolRejectedError.is(error.cause)).toBe(true);
    expect(error.cause).toMatchObject({ reason: 'reviewer', feedback: 'no', toolName: 'delete_user' });
  });

  it("the tool's own error passes through the middleware unchanged", async () => {
    const { manager, notifier } = setup();
    const failure = new Error('database unreachable');
    const failingDelete = tool(
      async () => {
        throw failure;
      },
      { name: 'delete_user', description: 'Delete a user', schema: z.object({ user_id: z.string() }) },
    );
    const agent = agentWith([failingDelete], [[deleteCall]], { manager });

    const run = agent.invoke(ask('delete user 42')).catch((error: unknown) => error);
    await manager.respond((await notifier.next()).request.id, { decision: 'approve' });

    expect(await run).toBe(failure);
  });

  it('risk and confidence from functions of the call; tools missing from the record count as irreversible', async () => {
    const { manager, notifier, weatherBody, getWeather } = setup();
    const confidence = vi.fn((call: { args: Record<string, unknown> }) => (call.args.city === 'Lima' ? 0.1 : 0.9));
    const searchBody = vi.fn(async () => 'found');
    const searchDocs = tool(searchBody, { name: 'search_docs', description: 'Search', schema: z.object({ query: z.string() }) });
    const agent = agentWith(
      [getWeather, searchDocs],
      [
        [
          weatherCall,
          { name: 'get_weather', args: { city: 'Lima' }, id: 'call-lima' },
          { name: 'search_docs', args: { query: 'x' }, id: 'call-search' },
        ],
      ],
      { manager, riskLevel: { get_weather: 'read_only' }, confidence },
    );

    const run = agent.invoke(ask('weather in Paris and Lima, search x'));
    const records = [await notifier.next(), await notifier.next()];
    expect(records.map((record) => [record.request.toolName, record.request.confidence, record.request.riskLevel]).sort()).toEqual([
      ['get_weather', 0.1, 'read_only'],
      ['search_docs', 0.9, 'irreversible'],
    ]);
    for (const record of records) await manager.respond(record.request.id, { decision: 'approve' });
    await run;

    expect(weatherBody).toHaveBeenCalledTimes(2);
    expect(searchBody).toHaveBeenCalledTimes(1);
    expect(confidence).toHaveBeenCalledTimes(3);
  });

  it('refuses bad options with invalid_input naming the field', () => {
    const { manager } = setup();
    expect(() => approvalMiddleware({ manager, riskLevel: { delete_user: 'dangerous' as never } })).toThrow(
      "options.riskLevel.delete_user 'dangerous' is not a risk level ('read_only', 'data_modification' or 'irreversible')",
    );
    expect(() => approvalMiddleware({ manager, riskLevel: 42 as never })).toThrow(
      'options.riskLevel 42 must be a risk level, a record of tool name to risk level, or a function',
    );
    expect(() => approvalMiddleware({ manager: undefined as never, riskLevel: 'read_only' })).toThrow(
      'options.manager must be a Manager from createManager() (it has no evaluate() method)',
    );
    expect(() => approvalMiddleware({ manager, riskLevel: 'read_only', name: '' })).toThrow("options.name '' must be a non-empty string");
    // The same refusals, read as data.
    expect(() => approvalMiddleware({ manager, riskLevel: { delete_user: 'dangerous' as never } })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.riskLevel.delete_user' }) }),
    );
    expect(() => approvalMiddleware({ manager, riskLevel: 42 as never })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.riskLevel' }) }),
    );
    expect(() => approvalMiddleware({ manager: undefined as never, riskLevel: 'read_only' })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.manager' }) }),
    );
    expect(() => approvalMiddleware({ manager, riskLevel: 'read_only', name: '' })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.name' }) }),
    );
  });
});
