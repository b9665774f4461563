// Tampered-argument regressions, each a defect this suite found and that is fixed: an id re-submitted
// for another tool inheriting its decision (core); `{ value: x }` and a bare `x` sharing a hash
// (vercel-ai); a bare resume value applied to a newer interrupt after the thread moved on (langchain).
import { createManager, HitlError, type Manager } from '@hitl/core';
import { submitInterrupt, toInterruptOn, waitForInterruptDecisions, type HitlInterrupt } from '@hitl/langchain/middleware';
import { approvalRequestId, needsApproval, submitApprovalRequests, toApprovalResponses } from '@hitl/vercel-ai';
import { tool as langchainTool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import type { ModelMessage } from 'ai';
import fc from 'fast-check';
import { createAgent, FakeToolCallingModel, HumanMessage, humanInTheLoopMiddleware } from 'langchain';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { argsPairArbitrary, sameArgs } from './hostile-support-args.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newManager(): Manager {
  const manager = createManager({
    timeoutMs: 3_600_000,
    policies: [
      { name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' },
      { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
    ],
  });
  cleanups.push(() => manager.close());
  return manager;
}

describe('open defects: an approval for one call used for another', () => {
  // Defect 3 (core, fixed): submit compares only the input hash of an existing id, not the tool name. A
  // re-submit of an auto-approved read's id for a destructive tool with the same input returns the
  // approved record, so an agent loop that uses the model's tool-call ids as request ids runs the
  // destructive call without a human.
  it('re-submitting an id for another tool (same input) is a conflict, not the other tool\'s decision', async () => {
    const manager = newManager();
    const read = await manager.submit({ id: 'call_1', toolName: 'get_user', input: { user_id: '42' }, riskLevel: 'read_only', confidence: 1 });
    expect(read.status).toBe('approved');
    await expect(manager.submit({ id: 'call_1', toolName: 'delete_user', input: { user_id: '42' }, riskLevel: 'irreversible' })).rejects.toSatisfy((error) =>
      HitlError.is(error, 'conflict'),
    );
    await expect(manager.requestInteraction({ id: 'call_1', toolName: 'delete_user', input: { user_id: '42' }, riskLevel: 'irreversible' })).rejects.toSatisfy(
      (error) => HitlError.is(error, 'conflict'),
    );
  });

  // Defect 4 (vercel-ai, fixed): a tool input that is not an object is hashed as { value: input }, so an
  // approval of the object { value: x } also approves the bare input x (and the reverse).
  it('an approval of { value: x } is refused for the input x, on the bridge and in needsApproval (500 runs)', async () => {
    const manager = newManager();
    const check = needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), async (inner) => {
        const index = run++;
        const conversation = (input: unknown): ModelMessage[] => [
          { role: 'user', content: 'delete the user' },
          {
            role: 'assistant',
            content: [
              { type: 'tool-call', toolCallId: `c-${index}`, toolName: 'delete_user', input },
              { type: 'tool-approval-request', approvalId: `a-${index}`, toolCallId: `c-${index}` },
            ],
          },
        ];
        const [record] = await submitApprovalRequests(manager, conversation({ value: inner }), { riskLevel: 'irreversible' });
        await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
        const answers = await toApprovalResponses(manager, conversation(inner));
        expect(answers.refused).toEqual([`a-${index}`]);
        expect(answers.responses[0]?.approved).toBe(false);
        const resumed = [...conversation(inner), { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: `a-${index}`, approved: true }] } as ModelMessage];
        // ai 6 denies a resumed call when needsApproval answers false.
        expect(await check(inner, { toolCallId: `c-${index}`, messages: resumed })).toBe(false);
        expect(approvalRequestId(`a-${index}`)).toBe(record!.request.id);
      }),
      { numRuns: 500 },
    );
  });

  // Defect 5 (langchain, fixed): a bare resume value applied to whatever interrupt the thread held
  // when it resumed, so after the thread moved on the approval of the reviewed call ran the newer
  // call's arguments. waitForInterruptDecisions now keys the resume value by the interrupt's id.
  it('resuming as documented after the thread moved on never runs the newer call', async () => {
    const manager = newManager();
    const ran: string[] = [];
    const deleteUser = langchainTool(
      async ({ user_id }: { user_id: string }) => {
        ran.push(user_id);
        return `Deleted user ${user_id}.`;
      },
      { name: 'delete_user', description: 'Delete a user account', schema: z.object({ user_id: z.string() }) },
    );
    const model = new FakeToolCallingModel({
      toolCalls: [[{ name: 'delete_user', args: { user_id: '42' }, id: 'call-a' }], [{ name: 'delete_user', args: { user_id: '1' }, id: 'call-b' }], [], []],
    });
    const agent = createAgent({
      model,
      tools: [deleteUser],
      checkpointer: new MemorySaver(),
      middleware: [humanInTheLoopMiddleware({ interruptOn: toInterruptOn(manager, [deleteUser], { riskLevel: 'irreversible' }) })],
    });
    const config = { configurable: { thread_id: 'moved-on' } };
    const first = await agent.invoke({ messages: [new HumanMessage('delete user 42')] }, config);
    const reviewed = first.__interrupt__?.[0] as HitlInterrupt;
    const [record] = await submitInterrupt(manager, reviewed, { riskLevel: 'irreversible' });
    await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
    const resume = await waitForInterruptDecisions(manager, reviewed);
    await agent.invoke({ messages: [new HumanMessage('no, delete user 1')] }, config);

    await agent.invoke(new Command({ resume }), config);
    expect(ran).toEqual([]);
  });

  // The same property as the bridge's, with the unwrap change included: fails on defect 4.
  it('the bridge property with every change, unwrap included (1,000 runs)', async () => {
    const manager = newManager();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), async (pair, inner, unwrap) => {
        const index = run++;
        const reviewed: unknown = unwrap ? { value: inner } : pair.reviewed;
        const changed: unknown = unwrap ? inner : pair.run;
        const conversation = (input: unknown): ModelMessage[] => [
          {
            role: 'assistant',
            content: [
              { type: 'tool-call', toolCallId: `p-${index}`, toolName: 'delete_user', input },
              { type: 'tool-approval-request', approvalId: `pa-${index}`, toolCallId: `p-${index}` },
            ],
          },
        ];
        const [record] = await submitApprovalRequests(manager, conversation(reviewed), { riskLevel: 'irreversible' });
        await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
        const answers = await toApprovalResponses(manager, conversation(changed));
        expect(answers.refused).toEqual(sameArgs(reviewed, changed) ? [] : [`pa-${index}`]);
      }),
      { numRuns: 1_000 },
    );
  });
});
