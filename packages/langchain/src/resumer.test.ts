// Durable approvalMiddleware and createResumer: a paused run resumed exactly once on any instance, catch-up scans, leases, retries.
import { createManager, createMemoryStore, HitlError } from '@hitl/core';
import type { ApprovalStore, Manager } from '@hitl/core';
import { MemorySaver } from '@langchain/langgraph';
import { createAgent, FakeToolCallingModel, HumanMessage } from 'langchain';
import { afterEach, describe, expect, it } from 'vitest';
import { approvalMiddleware, createResumer } from './middleware.js';
import type { DurablePause, Resumer } from './middleware.js';
import { createTools, deleteCall, toolMessages, weatherCall } from './test/fixtures.js';
import type { ToolCallScript } from './test/fixtures.js';

const policies = [
  { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' as const },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
  { name: 'forbidden', toolPattern: 'drop_*', deny: true },
];
const riskLevel = { get_weather: 'read_only', delete_user: 'irreversible', drop_table: 'irreversible' } as const;

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** Two instances on one store and one checkpointer: the agent's, and a reviewer's. */
function setup(turns: ToolCallScript[][] = [[weatherCall, deleteCall], []]) {
  const store: ApprovalStore = createMemoryStore();
  const checkpointer = new MemorySaver();
  const manager = createManager({ store, policies, timeoutMs: Infinity });
  const reviewers = createManager({ store, policies, timeoutMs: Infinity });
  open.push(manager, reviewers);
  const tools = createTools();
  const agentOn = (instance: Manager) =>
    createAgent({
      model: new FakeToolCallingModel({ toolCalls: turns }),
      tools: [tools.getWeather, tools.deleteUser, tools.dropTable],
      checkpointer,
      middleware: [approvalMiddleware({ manager: instance, riskLevel, confidence: 0.9, durable: true })],
    });
  const agent = agentOn(manager);
  const resumerOn = (instance: Manager, options: { owner?: string } = {}): Resumer => {
    const resumer = createResumer({ manager: instance, store, agent: agentOn(instance), ...options });
    open.push(resumer);
    return resumer;
  };
  return { store, manager, reviewers, agent, tools, resumerOn };
}

const config = (thread: string) => ({ configurable: { thread_id: thread } });

describe('durable approvalMiddleware', () => {
  it('pauses the run with an interrupt that names the stored request; auto-approved calls run at once', async () => {
    const { agent, manager, tools } = setup();
    const paused = await agent.invoke({ messages: [new HumanMessage('weather, then delete user 42')] }, config('t1'));
    expect(tools.weatherBody).toHaveBeenCalledTimes(1);
    expect(tools.deleteBody).not.toHaveBeenCalled();
    const pause = paused.__interrupt__?.[0]?.value as DurablePause;
    expect(pause).toMatchObject({ toolName: 'delete_user', toolCallId: 'call-delete', args: { user_id: '42' } });
    const record = await manager.get(pause.hitlRequestId);
    expect(record).toMatchObject({
      status: 'pending',
      request: { threadId: 't1', metadata: { toolCallId: 'call-delete', resumeWith: 'langgraph' } },
    });
  });

  it('a resumer on another instance resumes the run once decided: the tool runs once and the answer reaches the thread', async () => {
    const { agent, reviewers, tools, resumerOn } = setup();
    const paused = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t2'));
    const { hitlRequestId } = paused.__interrupt__?.[0]?.value as DurablePause;
    const resumer = resumerOn(reviewers);
    await resumer.start();
    await reviewers.respond(hitlRequestId, { decision: 'approve', respondedBy: 'alice' });
    await resumer.idle();
    expect(tools.deleteBody).toHaveBeenCalledTimes(1);
    const state = await agent.graph.getState(config('t2'));
    expect(toolMessages(state.values.messages).map((message) => message.content)).toEqual(['It is sunny in Paris.', 'Deleted user 42.']);
    expect(state.next).toEqual([]);
    // Asked again, nothing is left to resume.
    expect(await resumer.resume(hitlRequestId)).toBe('done');
    expect(tools.deleteBody).toHaveBeenCalledTimes(1);
  });

  it('a rejection resumes with a refusal the model reads; the tool never runs', async () => {
    const { agent, reviewers, tools, resumerOn } = setup();
    const paused = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t3'));
    const { hitlRequestId } = paused.__interrupt__?.[0]?.value as DurablePause;
    const resumer = resumerOn(reviewers);
    await resumer.start();
    await reviewers.respond(hitlRequestId, { decision: 'reject', feedback: 'not this one', respondedBy: 'alice' });
    await resumer.idle();
    expect(tools.deleteBody).not.toHaveBeenCalled();
    const state = await agent.graph.getState(config('t3'));
    const refusal = toolMessages(state.values.messages).find((message) => message.tool_call_id === 'call-delete');
    expect(refusal).toMatchObject({ status: 'error', content: 'Rejected by reviewer: not this one' });
  });

  it('decisions made while no resumer listened are found by the catch-up scan at start', async () => {
    const { agent, reviewers, tools, resumerOn } = setup();
    const paused = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t4'));
    const { hitlRequestId } = paused.__interrupt__?.[0]?.value as DurablePause;
    await reviewers.respond(hitlRequestId, { decision: 'modify', modified: { user_id: '7' }, respondedBy: 'alice' });
    const resumer = resumerOn(reviewers);
    await resumer.start();
    await resumer.idle();
    expect(tools.deleteBody).toHaveBeenCalledTimes(1);
    expect(tools.deleteBody.mock.calls[0]?.[0]).toEqual({ user_id: '7' });
  });

  it('parallel calls of one turn resume together once the last is decided; two racing resumers resume it once', async () => {
    const second: ToolCallScript = { name: 'delete_user', args: { user_id: '43' }, id: 'call-delete-2' };
    const { agent, reviewers, manager, tools, resumerOn } = setup([[deleteCall, second], []]);
    const paused = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t5'));
    const ids = (paused.__interrupt__ ?? []).map((item) => (item.value as DurablePause).hitlRequestId);
    expect(ids).toHaveLength(2);
    const resumers = [resumerOn(reviewers, { owner: 'a' }), resumerOn(manager, { owner: 'b' })];
    await Promise.all(resumers.map((resumer) => resumer.start()));
    await reviewers.respond(ids[0] as string, { decision: 'approve', respondedBy: 'alice' });
    await Promise.all(resumers.map((resumer) => resumer.idle()));
    expect(tools.deleteBody).not.toHaveBeenCalled();
    await reviewers.respond(ids[1] as string, { decision: 'approve', respondedBy: 'alice' });
    await Promise.all(resumers.map((resumer) => resumer.idle()));
    expect(tools.deleteBody).toHaveBeenCalledTimes(2);
    const state = await agent.graph.getState(config('t5'));
    expect(
      toolMessages(state.values.messages)
        .map((message) => message.content)
        .sort(),
    ).toEqual(['Deleted user 42.', 'Deleted user 43.']);
  });

  it('a claim whose holder died is taken over once its lease runs out (the periodic catch-up scan)', async () => {
    const { agent, store, reviewers, tools } = setup();
    const paused = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t7'));
    const { hitlRequestId } = paused.__interrupt__?.[0]?.value as DurablePause;
    await reviewers.respond(hitlRequestId, { decision: 'approve', respondedBy: 'alice' });
    // A resumer claimed it and died before resuming.
    expect(await store.claimResume?.(hitlRequestId, 'died', 50)).toMatchObject({ attempt: 1 });
    let tookOver!: (attempt: number) => void;
    const takeover = new Promise<number>((resolve) => (tookOver = resolve));
    const resumer = createResumer({ manager: reviewers, store, agent, leaseMs: 100, onResumed: ({ claim }) => tookOver(claim.attempt) });
    open.push(resumer);
    await resumer.start();
    // Bounded: the scan runs every leaseMs (100 ms); ten seconds is a hang, not a slow machine.
    let bound: ReturnType<typeof setTimeout> | undefined;
    const attempt = await Promise.race([
      takeover,
      new Promise<never>((_, reject) => (bound = setTimeout(() => reject(new Error('no takeover within 10 s')), 10_000))),
    ]);
    clearTimeout(bound);
    expect(attempt).toBe(2);
    expect(tools.deleteBody).toHaveBeenCalledTimes(1);
    expect(await store.completeResume?.(hitlRequestId, 'died')).toBe(false);
  });

  it('a resumed run that keeps failing is tried three times, a lease apart, then given up', async () => {
    const { agent, store, reviewers, tools } = setup();
    tools.deleteBody.mockRejectedValue(new Error('the user service is down'));
    const paused = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t8'));
    const { hitlRequestId } = paused.__interrupt__?.[0]?.value as DurablePause;
    let gaveUp!: (message: string) => void;
    const givenUp = new Promise<string>((resolve) => (gaveUp = resolve));
    const logger = { warn: () => undefined, error: (message: string) => (message.includes('given up') ? gaveUp(message) : undefined) };
    const resumer = createResumer({ manager: reviewers, store, agent, leaseMs: 50, logger });
    open.push(resumer);
    await resumer.start();
    await reviewers.respond(hitlRequestId, { decision: 'approve', respondedBy: 'alice' });
    let bound: ReturnType<typeof setTimeout> | undefined;
    const message = await Promise.race([
      givenUp,
      new Promise<never>((_, reject) => (bound = setTimeout(() => reject(new Error('not given up within 10 s')), 10_000))),
    ]);
    clearTimeout(bound);
    expect(message).toContain('failed 3 times');
    expect(tools.deleteBody).toHaveBeenCalledTimes(3);
    expect((await store.listUnresumed?.({ resumeWith: 'langgraph' }))?.items).toEqual([]);
  });

  it('a denied tool is refused at once, without a pause', async () => {
    const { agent, tools } = setup([[{ name: 'drop_table', args: { table: 'users' }, id: 'call-drop' }], []]);
    const result = await agent.invoke({ messages: [new HumanMessage('go')] }, config('t6'));
    expect(result.__interrupt__).toBeUndefined();
    expect(tools.dropBody).not.toHaveBeenCalled();
    expect(toolMessages(result.messages)[0]).toMatchObject({ status: 'error' });
  });

  it('needs a thread id, and refuses a store without resume claims', async () => {
    const { tools } = setup();
    const manager = createManager({ policies });
    open.push(manager);
    const agent = createAgent({
      model: new FakeToolCallingModel({ toolCalls: [[deleteCall], []] }),
      tools: [tools.deleteUser],
      checkpointer: new MemorySaver(),
      middleware: [approvalMiddleware({ manager, riskLevel, durable: true })],
    });
    await expect(agent.invoke({ messages: [new HumanMessage('go')] })).rejects.toSatisfy((error: unknown) =>
      /thread_id/.test(String((error as Error).cause ?? error)),
    );
    const bare = { ...createMemoryStore(), claimResume: undefined };
    expect(() => createResumer({ manager, store: bare, agent })).toThrow(/cannot hold resume claims/);
    expect(() => approvalMiddleware({ manager, riskLevel, durable: 'yes' as never })).toThrow(HitlError);
  });
});
