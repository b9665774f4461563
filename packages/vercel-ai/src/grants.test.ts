// Grants with generateText (ai 6): covered calls run at once, remember: thread, and needsApproval following a grant and its revocation.
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createManager, createMemoryStore, type Manager } from '@hitl/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { needsApproval, withApproval } from './index.js';
import { fiveTierPolicies, textResult, toolCallsResult, toolOutputsIn } from './test-support/model.js';
import { useTestManagers, createToolSpies, deleteCall, emailCall, withApprovalRiskLevel as riskLevel } from './test-support/fixtures.js';

const setup = useTestManagers();

const shared: Manager[] = [];
afterEach(async () => {
  await Promise.all(shared.splice(0).map((manager) => manager.close()));
});

/** A manager on a store shared across processes: it cannot count a grant's use in process (no useGrantNow), as with PostgreSQL. */
function sharedStoreManager(): Manager {
  const { useGrantNow: _inProcessOnly, ...store } = createMemoryStore();
  const manager = createManager({ store, policies: fiveTierPolicies, timeoutMs: 60_000 });
  shared.push(manager);
  return manager;
}

function makeTools() {
  const spies = createToolSpies();
  const tools = {
    delete_user: tool({ description: 'Delete a user account', inputSchema: z.object({ user_id: z.string() }), execute: spies.deleteUser }),
    send_email: tool({
      description: 'Email a customer',
      inputSchema: z.object({ to: z.string(), body: z.string() }),
      execute: spies.sendEmail,
    }),
  };
  return { spies, tools };
}

describe('grants with generateText (ai 6)', () => {
  it('a call a thread grant covers runs at once; the uncovered one waits for a reviewer', async () => {
    const { manager, notifier } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', scope: { threadId: 'chat-1' }, grantedBy: 'alice' });
    const { spies, tools } = makeTools();
    const model = new MockLanguageModelV3({ doGenerate: [toolCallsResult([emailCall, deleteCall]), textResult('Done.')] });
    const running = generateText({
      model,
      tools: withApproval(tools, { manager, riskLevel, confidence: 0.9, threadId: 'chat-1' }),
      stopWhen: stepCountIs(3),
      prompt: 'email Ann and delete user 12345',
    });
    const pending = await notifier.next();
    expect(pending.request.toolName).toBe('delete_user');
    expect(spies.sendEmail).toHaveBeenCalledTimes(1);
    await manager.respond(pending.request.id, { decision: 'reject', respondedBy: 'alice' });
    await running;
    expect(spies.deleteUser).not.toHaveBeenCalled();
    expect(toolOutputsIn(model.doGenerateCalls[1]!.prompt).get('send_email')).toEqual({ type: 'json', value: { sent: 'ann@example.com' } });
    expect((await manager.listGrants()).items[0]?.uses).toBe(1);
  });

  it('approving with remember: thread lets the next email in that thread run without review', async () => {
    const { manager, notifier } = setup();
    const { spies, tools } = makeTools();
    const gated = withApproval(tools, { manager, riskLevel, confidence: 0.9, threadId: 'chat-2' });
    const first = generateText({
      model: new MockLanguageModelV3({ doGenerate: [toolCallsResult([emailCall]), textResult('Sent.')] }),
      tools: gated,
      stopWhen: stepCountIs(2),
      prompt: 'email Ann',
    });
    const record = await notifier.next();
    const decided = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'thread' } });
    await first;
    await generateText({
      model: new MockLanguageModelV3({ doGenerate: [toolCallsResult([{ ...emailCall, id: 'call-9' }]), textResult('Sent again.')] }),
      tools: gated,
      stopWhen: stepCountIs(2),
      prompt: 'email Ann again',
    });
    expect(spies.sendEmail).toHaveBeenCalledTimes(2);
    expect(notifier.records).toHaveLength(1);
    const grant = await manager.getGrant(decided.response!.grantId!);
    expect(grant).toMatchObject({ scope: { threadId: 'chat-2' }, uses: 1, grantedBy: 'alice' });
  });

  it('with a shared store the covered call goes to submit, runs at once, and its record names the grant', async () => {
    const manager = sharedStoreManager();
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', scope: { threadId: 'chat-3' }, grantedBy: 'alice' });
    const { spies, tools } = makeTools();
    await generateText({
      model: new MockLanguageModelV3({ doGenerate: [toolCallsResult([emailCall]), textResult('Sent.')] }),
      tools: withApproval(tools, { manager, riskLevel, confidence: 0.9, threadId: 'chat-3' }),
      stopWhen: stepCountIs(2),
      prompt: 'email Ann',
    });
    expect(spies.sendEmail).toHaveBeenCalledTimes(1);
    const { items } = await manager.list({ threadId: 'chat-3' });
    expect(items).toHaveLength(1);
    const [record] = items;
    expect(record).toMatchObject({ status: 'approved', evaluation: { outcome: 'approve', grant: grant.id } });
    expect(record?.request.metadata?.toolCallId).toBe(emailCall.id);
    expect(record?.response).toMatchObject({ automatic: true, metadata: { cause: 'grant', grant: grant.id } });
    expect((await manager.getGrant(grant.id))?.uses).toBe(1);
  });

  it('needsApproval answers false for a call a grant covers, and true once it is revoked', async () => {
    const { manager } = setup();
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'delete_user', grantedBy: 'alice' });
    const check = needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible', confidence: 0.9 });
    const options = { toolCallId: 'call-1', messages: [] };
    expect(await check({ user_id: '1' }, options)).toBe(false);
    await manager.revokeGrant(grant.id, { revokedBy: 'alice' });
    expect(await check({ user_id: '1' }, options)).toBe(true);
  });
});
