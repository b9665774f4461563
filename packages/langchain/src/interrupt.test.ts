// toInterruptOn from the policies, and humanInTheLoopMiddleware interrupts carried through the manager and resumed with its decisions.
import { HitlError } from '@hitl/core';
import { ToolMessage } from '@langchain/core/messages';
import { Command, MemorySaver } from '@langchain/langgraph';
import { createAgent, FakeToolCallingModel, HumanMessage, humanInTheLoopMiddleware } from 'langchain';
import type { HITLRequest, InterruptOnConfig } from 'langchain';
import { describe, expect, it } from 'vitest';
import { submitInterrupt, toInterruptOn, waitForInterruptDecisions } from './middleware.js';
import type { HitlInterrupt } from './middleware.js';
import { createTools, useFixtureSetup } from './test/fixtures.js';

const setup = useFixtureSetup();

const riskLevel = {
  get_weather: 'read_only',
  search_docs: 'read_only',
  update_profile: 'data_modification',
  delete_user: 'irreversible',
} as const;
const requestFor = (name: string, args: Record<string, unknown>) =>
  ({ toolCall: { name, args, id: 'call-1' }, tool: undefined, state: { messages: [] }, runtime: {} }) as Parameters<
    NonNullable<InterruptOnConfig['when']>
  >[0];

describe('toInterruptOn', () => {
  it('maps each policy tier to a humanInTheLoopMiddleware setting', () => {
    const { manager, getWeather, deleteUser, dropTable } = setup();
    const interruptOn = toInterruptOn(manager, [getWeather, deleteUser, dropTable, 'update_profile', 'transfer_funds', 'send_email'], {
      riskLevel,
      confidence: 0.9,
    });

    expect(interruptOn.get_weather).toBe(false);
    expect(interruptOn.update_profile).toBe(false);
    expect(interruptOn.drop_table).toEqual({
      allowedDecisions: ['reject'],
      description: "Denied by policy: 'drop_table' is denied by policy 'forbidden'",
    });
    expect(interruptOn.delete_user).toMatchObject({ allowedDecisions: ['approve', 'edit', 'reject'] });
    expect((interruptOn.delete_user as InterruptOnConfig).argsSchema).toMatchObject({
      type: 'object',
      properties: { user_id: { type: 'string' } },
    });
    expect(interruptOn.transfer_funds).toEqual({ allowedDecisions: ['approve', 'edit', 'reject'] });
    // No policy matches send_email: the manager's defaultOutcome ('review') applies.
    expect(interruptOn.send_email).toEqual({ allowedDecisions: ['approve', 'edit', 'reject'] });
  });

  it('a fixed confidence below the threshold, or a risk above the ceiling, interrupts', () => {
    const { manager } = setup();
    const interruptOn = toInterruptOn(manager, ['get_weather', 'update_profile'], {
      riskLevel: { get_weather: 'read_only', update_profile: 'irreversible' },
      confidence: 0.6,
    });
    expect(interruptOn.get_weather).toBe(false);
    expect(interruptOn.update_profile).toEqual({ allowedDecisions: ['approve', 'edit', 'reject'] });
    // Without a confidence the policies see 0.
    expect(toInterruptOn(manager, ['get_weather'], { riskLevel }).get_weather).toEqual({ allowedDecisions: ['approve', 'edit', 'reject'] });
  });

  it('a per-call confidence or risk becomes a when predicate that runs the policies, failing closed', async () => {
    const { manager } = setup();
    const interruptOn = toInterruptOn(manager, ['get_weather', 'update_profile', 'delete_user'], {
      riskLevel: (call) => (call.name === 'update_profile' && call.args.field === 'email' ? 'irreversible' : 'data_modification'),
      confidence: async (call) => {
        if (call.args.city === 'Atlantis') throw new Error('scorer offline');
        return call.args.city === 'Lima' ? 0.1 : 0.9;
      },
    });
    const weather = interruptOn.get_weather as InterruptOnConfig;
    const profile = interruptOn.update_profile as InterruptOnConfig;

    expect(weather.allowedDecisions).toEqual(['approve', 'edit', 'reject']);
    // read-only-auto allows at most read_only, and this risk function says data_modification.
    await expect(weather.when?.(requestFor('get_weather', { city: 'Paris' }))).resolves.toBe(true);
    await expect(profile.when?.(requestFor('update_profile', { field: 'nickname' }))).resolves.toBe(false);
    await expect(profile.when?.(requestFor('update_profile', { field: 'email' }))).resolves.toBe(true);
    // requireExplicit needs no predicate: it always interrupts.
    expect((interruptOn.delete_user as InterruptOnConfig).when).toBeUndefined();

    const lenient = toInterruptOn(manager, ['get_weather'], {
      riskLevel: 'read_only',
      confidence: async (call) => (call.args.city === 'Lima' ? 0.1 : 0.9),
    });
    const predicate = (lenient.get_weather as InterruptOnConfig).when!;
    await expect(predicate(requestFor('get_weather', { city: 'Paris' }))).resolves.toBe(false);
    await expect(predicate(requestFor('get_weather', { city: 'Lima' }))).resolves.toBe(true);

    const failing = toInterruptOn(manager, ['get_weather'], {
      riskLevel: 'read_only',
      confidence: () => {
        throw new Error('scorer offline');
      },
    });
    await expect((failing.get_weather as InterruptOnConfig).when!(requestFor('get_weather', { city: 'Paris' }))).resolves.toBe(true);
  });

  it('refuses bad arguments with invalid_input', () => {
    const { manager } = setup();
    expect(() => toInterruptOn(manager, [{ name: '' }], { riskLevel })).toThrow(/^tools\[0\] .* must be a tool with a non-empty name/);
    expect(() => toInterruptOn(manager, 'get_weather' as never, { riskLevel })).toThrow(
      "tools 'get_weather' must be an array of tools or tool names",
    );
    expect(() => toInterruptOn({} as never, [], { riskLevel })).toThrow(
      'manager must be a Manager from createManager() (it has no evaluate() method)',
    );
    expect(() => toInterruptOn(manager, [{ name: '' }], { riskLevel })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'tools[0]' }) }),
    );
    expect(() => toInterruptOn(manager, 'get_weather' as never, { riskLevel })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'tools' }) }),
    );
    expect(() => toInterruptOn({} as never, [], { riskLevel })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'manager' }) }),
    );
  });
});

describe('carrying a humanInTheLoopMiddleware interrupt through the manager', () => {
  function interruptingAgent(tools: ReturnType<typeof createTools>, interruptOn: ReturnType<typeof toInterruptOn>) {
    const model = new FakeToolCallingModel({
      toolCalls: [
        [
          { name: 'get_weather', args: { city: 'Paris' }, id: 'call-weather' },
          { name: 'delete_user', args: { user_id: '42' }, id: 'call-delete' },
        ],
        [],
      ],
    });
    return createAgent({
      model,
      tools: [tools.getWeather, tools.deleteUser],
      checkpointer: new MemorySaver(),
      middleware: [humanInTheLoopMiddleware({ interruptOn })],
    });
  }

  it('reviewers decide in the manager and the agent resumes with their decision', async () => {
    const setupResult = setup();
    const { manager, notifier, weatherBody, deleteBody } = setupResult;
    const interruptOn = toInterruptOn(manager, [setupResult.getWeather, setupResult.deleteUser], { riskLevel, confidence: 0.9 });
    const agent = interruptingAgent(setupResult, interruptOn);
    const config = { configurable: { thread_id: 'thread-1' } };

    const paused = await agent.invoke({ messages: [new HumanMessage('weather, then delete user 42')] }, config);
    const pending = paused.__interrupt__?.[0] as HitlInterrupt;
    expect((pending.value as HITLRequest).actionRequests.map((action) => action.name)).toEqual(['delete_user']);
    expect(weatherBody).not.toHaveBeenCalled();

    const records = await submitInterrupt(manager, pending, {
      riskLevel,
      confidence: 0.9,
      threadId: 'thread-1',
      runId: 'turn-1',
      requestedBy: 'alice',
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      status: 'pending',
      request: {
        toolName: 'delete_user',
        input: { user_id: '42' },
        requestedBy: 'alice',
        threadId: 'thread-1',
        runId: 'turn-1',
        metadata: { actionIndex: 0 },
      },
    });
    // Submitting the same interrupt again (a retry, a restart) finds the same records.
    const again = await submitInterrupt(manager, pending, { riskLevel, confidence: 0.9 });
    expect(again.map((record) => record.request.id)).toEqual(records.map((record) => record.request.id));
    expect(notifier.records).toHaveLength(1);

    const decisions = waitForInterruptDecisions(manager, pending);
    await manager.respond(records[0]!.request.id, { decision: 'approve', respondedBy: 'bob' });
    const resume = await decisions;
    expect(resume).toEqual({ [pending.id!]: { decisions: [{ type: 'approve' }] } });

    const finished = await agent.invoke(new Command({ resume }), config);
    expect(weatherBody).toHaveBeenCalledTimes(1);
    expect(deleteBody).toHaveBeenCalledTimes(1);
    const answers = finished.messages
      .filter((message): message is ToolMessage => ToolMessage.isInstance(message))
      .map((message) => message.content);
    expect(answers).toEqual(['It is sunny in Paris.', 'Deleted user 42.']);
  });

  it('a rejection resumes as reject with the feedback, a modification as edit', async () => {
    const setupResult = setup();
    const { manager, deleteBody } = setupResult;
    const agent = interruptingAgent(
      setupResult,
      toInterruptOn(manager, [setupResult.getWeather, setupResult.deleteUser], { riskLevel, confidence: 0.9 }),
    );

    const first = await agent.invoke({ messages: [new HumanMessage('go')] }, { configurable: { thread_id: 'reject' } });
    const rejected = first.__interrupt__?.[0] as HitlInterrupt;
    const [record] = await submitInterrupt(manager, rejected, { riskLevel });
    await manager.respond(record!.request.id, { decision: 'reject', feedback: 'not this user' });
    const resume = await waitForInterruptDecisions(manager, rejected);
    expect(resume).toEqual({ [rejected.id!]: { decisions: [{ type: 'reject', message: 'Rejected by reviewer: not this user' }] } });
    const afterReject = await agent.invoke(new Command({ resume }), { configurable: { thread_id: 'reject' } });
    expect(deleteBody).not.toHaveBeenCalled();
    const rejection = afterReject.messages.find(
      (message): message is ToolMessage => ToolMessage.isInstance(message) && message.tool_call_id === 'call-delete',
    );
    expect(rejection).toMatchObject({ status: 'error', content: 'Rejected by reviewer: not this user' });

    const second = await agent.invoke({ messages: [new HumanMessage('go')] }, { configurable: { thread_id: 'edit' } });
    const edited = second.__interrupt__?.[0] as HitlInterrupt;
    const [editRecord] = await submitInterrupt(manager, edited, { riskLevel });
    await manager.respond(editRecord!.request.id, { decision: 'modify', modified: { user_id: '7' } });
    const editResume = await waitForInterruptDecisions(manager, edited);
    expect(editResume).toEqual({
      [edited.id!]: { decisions: [{ type: 'edit', editedAction: { name: 'delete_user', args: { user_id: '7' } } }] },
    });
    await agent.invoke(new Command({ resume: editResume }), { configurable: { thread_id: 'edit' } });
    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(deleteBody.mock.calls[0]?.[0]).toEqual({ user_id: '7' });
  });

  it('refuses to resume an interrupt whose arguments differ from what was reviewed', async () => {
    const { manager } = setup();
    const pending: HitlInterrupt = {
      id: 'abc123',
      value: {
        actionRequests: [{ name: 'delete_user', args: { user_id: '42' } }],
        reviewConfigs: [{ actionName: 'delete_user', allowedDecisions: ['approve', 'reject'] }],
      },
    };
    const [record] = await submitInterrupt(manager, pending, { riskLevel });
    await manager.respond(record!.request.id, { decision: 'approve' });

    const tampered: HitlInterrupt = {
      ...pending,
      value: { ...(pending.value as HITLRequest), actionRequests: [{ name: 'delete_user', args: { user_id: '1' } }] },
    };
    await expect(waitForInterruptDecisions(manager, tampered)).rejects.toSatisfy((error) => HitlError.is(error, 'conflict'));
    await expect(waitForInterruptDecisions(manager, { ...pending, id: 'never-submitted' })).rejects.toSatisfy((error) =>
      HitlError.is(error, 'not_found'),
    );
    await expect(waitForInterruptDecisions(manager, pending)).resolves.toEqual({ [pending.id!]: { decisions: [{ type: 'approve' }] } });
  });

  it('denied tools are rejected at once; decisions the interrupt does not allow become rejections', async () => {
    const { manager, notifier } = setup();
    const pending: HitlInterrupt = {
      id: 'deny-1',
      value: {
        actionRequests: [
          { name: 'drop_table', args: { table: 'users' } },
          { name: 'delete_user', args: { user_id: '42' } },
        ],
        reviewConfigs: [
          { actionName: 'drop_table', allowedDecisions: ['reject'] },
          { actionName: 'delete_user', allowedDecisions: ['approve', 'reject'] },
        ],
      },
    };
    const [dropRecord, deleteRecord] = await submitInterrupt(manager, pending, { riskLevel: 'irreversible' });
    expect(dropRecord).toMatchObject({ status: 'rejected', response: { automatic: true } });
    expect(notifier.records.map((record) => record.request.toolName)).toEqual(['delete_user']);
    await manager.respond(deleteRecord!.request.id, { decision: 'modify', modified: { user_id: '7' } });

    await expect(waitForInterruptDecisions(manager, pending)).resolves.toEqual({
      [pending.id as string]: {
        decisions: [
          { type: 'reject', message: "Denied by policy: 'drop_table' is denied by policy 'forbidden'" },
          { type: 'reject', message: "Rejected: 'delete_user' may not be edited here" },
        ],
      },
    });
  });

  it('expiry follows onTimeout; abort stops waiting and leaves the records pending', async () => {
    const pending: HitlInterrupt = {
      id: 'wait-1',
      value: {
        actionRequests: [{ name: 'delete_user', args: { user_id: '42' } }],
        reviewConfigs: [{ actionName: 'delete_user', allowedDecisions: ['approve', 'reject'] }],
      },
    };
    const strict = setup({ onTimeout: 'error' });
    const [record] = await submitInterrupt(strict.manager, pending, { riskLevel });
    const controller = new AbortController();
    const stopped = waitForInterruptDecisions(strict.manager, pending, { signal: controller.signal });
    controller.abort();
    await expect(stopped).rejects.toSatisfy((error) => HitlError.is(error, 'cancelled'));
    expect((await strict.manager.get(record!.request.id))?.status).toBe('pending');

    const expiring = waitForInterruptDecisions(strict.manager, pending);
    strict.clock.advance(60_000);
    await expect(expiring).rejects.toSatisfy((error) => HitlError.is(error, 'timeout'));
    await strict.manager.close();

    const lenient = setup({ onTimeout: 'reject' });
    await submitInterrupt(lenient.manager, pending, { riskLevel });
    const rejected = waitForInterruptDecisions(lenient.manager, pending);
    lenient.clock.advance(60_000);
    const resume = await rejected;
    const decisions = resume[pending.id!]?.decisions ?? [];
    expect(decisions[0]?.type).toBe('reject');
    expect((decisions[0] as { message?: string }).message).toMatch(/^Rejected: nobody approved the call in time/);
  });

  it('refuses a malformed interrupt', async () => {
    const { manager } = setup();
    await expect(submitInterrupt(manager, { id: 'x', value: { nope: true } }, { riskLevel })).rejects.toThrow(
      /^interrupt.value .* must be a humanInTheLoopMiddleware request/,
    );
    await expect(submitInterrupt(manager, { value: { actionRequests: [], reviewConfigs: [] } }, { riskLevel })).rejects.toThrow(
      /^interrupt.id undefined must be/,
    );
    await expect(submitInterrupt(manager, { id: 'x', value: { nope: true } }, { riskLevel })).rejects.toMatchObject({
      code: 'invalid_input',
      details: { field: 'interrupt.value' },
    });
    await expect(submitInterrupt(manager, { value: { actionRequests: [], reviewConfigs: [] } }, { riskLevel })).rejects.toMatchObject({
      code: 'invalid_input',
      details: { field: 'interrupt.id' },
    });
  });
});
