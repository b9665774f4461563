// Grants with createAgent: thread and run grants let covered calls run at once, audited; a deny grant refuses without asking.
import { createAgent, FakeToolCallingModel, HumanMessage } from 'langchain';
import { describe, expect, it } from 'vitest';
import { approvalMiddleware } from './middleware.js';
import { withApproval } from './index.js';
import { useFixtureSetup, toolMessages } from './test/fixtures.js';

const setup = useFixtureSetup();
const ask = (text: string) => ({ messages: [new HumanMessage(text)] });
const riskLevel = { delete_user: 'irreversible' } as const;
const deleteCall = (id: string, user: string) => ({ name: 'delete_user', args: { user_id: user }, id });

describe('grants with createAgent', () => {
  it('a call a thread grant covers runs at once; the same call in another thread waits for a reviewer', async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'delete_user', scope: { threadId: 'thread-7' }, grantedBy: 'alice' });
    const model = new FakeToolCallingModel({ toolCalls: [[deleteCall('call-1', '1')], []] });
    const agent = createAgent({ model, tools: [deleteUser], middleware: [approvalMiddleware({ manager, riskLevel })] });
    const result = await agent.invoke(ask('delete user 1'), { configurable: { thread_id: 'thread-7' } });
    expect(deleteBody).toHaveBeenCalledTimes(1);
    expect(toolMessages(result.messages).map((message) => message.content)).toEqual(['Deleted user 1.']);
    // Decided in process by the grant index: nothing was stored, nobody was asked.
    expect(notifier.records).toHaveLength(0);
    expect((await manager.listGrants()).items[0]?.uses).toBe(1);

    const elsewhere = createAgent({
      model: new FakeToolCallingModel({ toolCalls: [[deleteCall('call-2', '2')], []] }),
      tools: [deleteUser],
      middleware: [approvalMiddleware({ manager, riskLevel })],
    });
    const run = elsewhere.invoke(ask('delete user 2'), { configurable: { thread_id: 'thread-8' } });
    const record = await notifier.next();
    expect(record.request.threadId).toBe('thread-8');
    await manager.respond(record.request.id, { decision: 'reject', respondedBy: 'alice' });
    await run;
    expect(deleteBody).toHaveBeenCalledTimes(1);
  });

  it('with audit, the call a grant decided is stored and its record names the grant', async () => {
    const { manager, deleteBody, deleteUser } = setup();
    const grant = await manager.grant({
      effect: 'approve',
      toolPattern: 'delete_user',
      scope: { threadId: 'thread-7' },
      grantedBy: 'alice',
    });
    const model = new FakeToolCallingModel({ toolCalls: [[deleteCall('call-1', '1')], []] });
    const agent = createAgent({ model, tools: [deleteUser], middleware: [approvalMiddleware({ manager, riskLevel, audit: true })] });
    await agent.invoke(ask('delete user 1'), { configurable: { thread_id: 'thread-7' } });
    expect(deleteBody).toHaveBeenCalledTimes(1);
    const [record] = (await manager.list()).items;
    expect(record).toMatchObject({
      status: 'approved',
      evaluation: { grant: grant.id },
      response: { automatic: true, metadata: { cause: 'grant', grant: grant.id } },
    });
  });

  it("approving the first call with remember: run lets the turn's other calls run, decided by the grant", async () => {
    const { manager, notifier, deleteBody, deleteUser } = setup();
    const model = new FakeToolCallingModel({
      toolCalls: [[deleteCall('call-1', '1'), deleteCall('call-2', '2'), deleteCall('call-3', '3')], []],
    });
    const agent = createAgent({ model, tools: [deleteUser], middleware: [approvalMiddleware({ manager, riskLevel })] });
    const run = agent.invoke(ask('delete users 1, 2 and 3'), { configurable: { thread_id: 'thread-7' } });
    const first = await notifier.next();
    await notifier.next();
    await notifier.next();
    const decided = await manager.respond(first.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'run' } });
    await run;
    expect(deleteBody).toHaveBeenCalledTimes(3);
    const records = (await manager.list()).items;
    expect(records.filter((record) => record.response?.metadata?.grant === decided.response?.grantId)).toHaveLength(2);
  });

  it('a deny grant refuses a wrapped tool without asking anyone', async () => {
    const { manager, deleteBody, deleteUser } = setup();
    const grant = await manager.grant({ effect: 'deny', toolPattern: 'delete_*', grantedBy: 'alice' });
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });
    // The model reads why: the denial names the grant.
    expect(await gated.invoke({ user_id: '5' })).toBe(`Denied by policy: grant '${grant.id}' (by alice) denies 'delete_user'`);
    expect(deleteBody).not.toHaveBeenCalled();
  });
});
