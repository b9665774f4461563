// An approval for arguments A is never used to run arguments B: in the core (re-submitting an id
// with other input), on LangChain's interrupt path (submitInterrupt / waitForInterruptDecisions, and a
// real createAgent resumed by interrupt id), on the AI SDK's durable bridge (submitApprovalRequests /
// toApprovalResponses), and on the AI SDK's own approval flow (needsApproval with a real
// generateText, toolApproval's resume check). Random argument changes come from fast-check; the
// oracle of "same arguments" is JSON deep equality, not the core's hash.
import { createManager, hashInput, HitlError, type Manager } from '@hitl/core';
import { submitInterrupt, toInterruptOn, waitForInterruptDecisions, type HitlInterrupt } from '@hitl/langchain/middleware';
import { approvalRequestId, needsApproval, submitApprovalRequests, toApprovalResponses, toolApproval } from '@hitl/vercel-ai';
import { tool as langchainTool } from '@langchain/core/tools';
import { Command, MemorySaver } from '@langchain/langgraph';
import { generateText, stepCountIs, tool, type ModelMessage } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import fc from 'fast-check';
import { createAgent, FakeToolCallingModel, HumanMessage, humanInTheLoopMiddleware } from 'langchain';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { argsPairArbitrary, sameArgs, type Args, type ArgsPair } from './hostile-support-args.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newManager(): Manager {
  const manager = createManager({
    timeoutMs: 3_600_000,
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
  });
  cleanups.push(() => manager.close());
  return manager;
}

/** Counts runs per kind of change, and how many were refused, for the report and the checks. */
function tally() {
  const byKind = new Map<string, { runs: number; refused: number }>();
  return {
    add(pair: ArgsPair, refused: boolean) {
      const key = sameArgs(pair.reviewed, pair.run) ? `${pair.tampering} (same args)` : pair.tampering;
      const entry = byKind.get(key) ?? { runs: 0, refused: 0 };
      entry.runs += 1;
      if (refused) entry.refused += 1;
      byKind.set(key, entry);
    },
    total: () => [...byKind.values()].reduce((sum, entry) => sum + entry.runs, 0),
    changed: () => [...byKind.entries()].filter(([key]) => !key.endsWith('(same args)')).reduce((sum, [, entry]) => sum + entry.runs, 0),
    summary: () => Object.fromEntries([...byKind.entries()].sort()),
  };
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

function toolCallTurn(toolCallId: string, toolName: string, input: unknown) {
  return {
    content: [{ type: 'tool-call' as const, toolCallId, toolName, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
    usage,
    warnings: [],
  };
}

/** Whether a value holds an own "__proto__" key anywhere (JSON.stringify writes it; secure parsers refuse it). */
function hasProtoKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  return Object.values(value).some(hasProtoKey);
}

function textTurn(text: string) {
  return { content: [{ type: 'text' as const, text }], finishReason: { unified: 'stop' as const, raw: 'stop' }, usage, warnings: [] };
}

/** Replaces the arguments of every tool call in the messages (what a tampered store would hold). */
function withToolInput(messages: ModelMessage[], input: unknown, toolName?: string): ModelMessage[] {
  const copy = structuredClone(messages);
  for (const message of copy) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type !== 'tool-call') continue;
      part.input = input;
      if (toolName !== undefined) part.toolName = toolName;
    }
  }
  return copy;
}

describe('core: an id is bound to its input', () => {
  it('re-submitting an id with other input is a conflict, before and after the decision; the same input returns the record (1,000 runs)', async () => {
    const manager = newManager();
    const counts = tally();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), fc.boolean(), async (pair, decideFirst) => {
        const id = `core-${run++}`;
        const first = await manager.submit({ id, toolName: 'delete_user', input: pair.reviewed, riskLevel: 'irreversible' });
        if (decideFirst) await manager.respond(id, { decision: 'approve', respondedBy: 'alice' });
        let outcome: 'same-record' | 'conflict';
        try {
          const again = await manager.submit({ id, toolName: 'delete_user', input: pair.run, riskLevel: 'irreversible' });
          expect(again.inputHash).toBe(first.inputHash);
          expect(again.request.input).toEqual(first.request.input);
          outcome = 'same-record';
        } catch (error) {
          if (!HitlError.is(error, 'conflict')) throw error;
          outcome = 'conflict';
        }
        counts.add(pair, outcome === 'conflict');
        expect(outcome).toBe(sameArgs(pair.reviewed, pair.run) ? 'same-record' : 'conflict');
        // Whatever happened, the stored request still carries the reviewed arguments.
        expect(sameArgs((await manager.get(id))?.request.input, pair.reviewed)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
    expect(counts.total()).toBe(1_000);
    expect(counts.changed()).toBeGreaterThan(700);
    console.info('core re-submit', counts.summary());
  });
});

describe('LangChain interrupt path', () => {
  function interruptOf(id: string, args: Args, name = 'delete_user'): HitlInterrupt {
    return {
      id,
      value: {
        actionRequests: [{ name, args, description: 'review me' }],
        reviewConfigs: [{ actionName: name, allowedDecisions: ['approve', 'edit', 'reject'] }],
      },
    };
  }

  it('waitForInterruptDecisions refuses an interrupt whose arguments differ from the reviewed ones (1,000 runs)', async () => {
    const manager = newManager();
    const counts = tally();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), fc.constantFrom('approve', 'modify'), async (pair, decision) => {
        const interruptId = `int-${run++}`;
        const [record] = await submitInterrupt(manager, interruptOf(interruptId, pair.reviewed), { riskLevel: 'irreversible' });
        await manager.respond(
          record!.request.id,
          decision === 'approve' ? { decision, respondedBy: 'alice' } : { decision, modified: { user_id: 'edited' }, respondedBy: 'alice' },
        );
        let refused: boolean;
        try {
          const resume = await waitForInterruptDecisions(manager, interruptOf(interruptId, pair.run));
          expect(Object.keys(resume)).toEqual([interruptId]);
          expect(resume[interruptId]?.decisions[0]?.type).toBe(decision === 'approve' ? 'approve' : 'edit');
          refused = false;
        } catch (error) {
          if (!HitlError.is(error, 'conflict') && !HitlError.is(error, 'invalid_input')) throw error;
          refused = true;
        }
        counts.add(pair, refused);
        expect(refused).toBe(!sameArgs(pair.reviewed, pair.run));
        // A forged re-submit of the same interrupt id with the changed arguments is a conflict too.
        if (!sameArgs(pair.reviewed, pair.run)) {
          await expect(submitInterrupt(manager, interruptOf(interruptId, pair.run), { riskLevel: 'irreversible' })).rejects.toSatisfy(
            (error) => HitlError.is(error, 'conflict') || HitlError.is(error, 'invalid_input'),
          );
        }
      }),
      { numRuns: 1_000 },
    );
    expect(counts.total()).toBe(1_000);
    console.info('langchain waitForInterruptDecisions', counts.summary());
  });

  it('refuses an interrupt whose tool was swapped for another with the same arguments', async () => {
    const manager = newManager();
    const [record] = await submitInterrupt(manager, interruptOf('swap-1', { user_id: '42' }, 'get_user'), { riskLevel: 'read_only' });
    await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
    await expect(waitForInterruptDecisions(manager, interruptOf('swap-1', { user_id: '42' }, 'delete_user'))).rejects.toSatisfy((error) =>
      HitlError.is(error, 'conflict'),
    );
  });

  it('a real createAgent: the approved call runs with the reviewed arguments; resumed by interrupt id, an approval never runs a newer call', async () => {
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
      toolCalls: [
        [{ name: 'delete_user', args: { user_id: '42' }, id: 'call-a' }],
        [{ name: 'delete_user', args: { user_id: '1' }, id: 'call-b' }],
        [],
        [],
      ],
    });
    const agent = createAgent({
      model,
      tools: [deleteUser],
      checkpointer: new MemorySaver(),
      middleware: [humanInTheLoopMiddleware({ interruptOn: toInterruptOn(manager, [deleteUser], { riskLevel: 'irreversible' }) })],
    });
    const config = { configurable: { thread_id: 'tampered-thread' } };

    const first = await agent.invoke({ messages: [new HumanMessage('delete user 42')] }, config);
    const reviewed = first.__interrupt__?.[0] as HitlInterrupt;
    const [record] = await submitInterrupt(manager, reviewed, { riskLevel: 'irreversible' });
    expect(record?.inputHash).toBe(hashInput({ user_id: '42' }));
    await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
    const resume = await waitForInterruptDecisions(manager, reviewed);

    // The thread moves on before the approval comes back: a new call with other arguments waits.
    const second = await agent.invoke({ messages: [new HumanMessage('no, delete user 1')] }, config);
    const newer = second.__interrupt__?.[0] as HitlInterrupt;
    expect(newer.id).not.toBe(reviewed.id);
    // A forged interrupt (the newer call under the reviewed id) is refused.
    await expect(waitForInterruptDecisions(manager, { ...newer, id: reviewed.id })).rejects.toSatisfy((error) =>
      HitlError.is(error, 'conflict'),
    );

    // Resumed by interrupt id, the approval of user 42 does not apply to the call on user 1.
    // The resume value is keyed by the interrupt it answers.
    expect(Object.keys(resume)).toEqual([reviewed.id]);
    const after = await agent.invoke(new Command({ resume }), config);
    expect(ran).toEqual([]);
    expect((after.__interrupt__?.[0] as HitlInterrupt | undefined)?.id).toBe(newer.id);

    // The newer call is reviewed on its own and runs with its own arguments only once approved.
    const [newerRecord] = await submitInterrupt(manager, newer, { riskLevel: 'irreversible' });
    await manager.respond(newerRecord!.request.id, { decision: 'approve', respondedBy: 'alice' });
    await agent.invoke(new Command({ resume: await waitForInterruptDecisions(manager, newer) }), config);
    expect(ran).toEqual(['1']);
  });
});

describe('AI SDK durable bridge (submitApprovalRequests -> reviewer -> toApprovalResponses)', () => {
  /** The messages of a first generateText turn that stopped at an approval request, from the real SDK. */
  async function realConversation(manager: Manager, input: Args) {
    const model = new MockLanguageModelV3({ doGenerate: [toolCallTurn('call-1', 'delete_user', input), textTurn('done')] });
    const tools = {
      delete_user: tool({
        inputSchema: z.record(z.string(), z.unknown()),
        needsApproval: needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' }),
        execute: async () => 'deleted',
      }),
    };
    const prompt: ModelMessage[] = [{ role: 'user', content: 'delete the user' }];
    const result = await generateText({ model, tools, messages: prompt, stopWhen: stepCountIs(2) });
    return [...prompt, ...result.response.messages];
  }

  /** The template with a fresh approval id, tool call id and arguments. */
  function conversationFor(template: ModelMessage[], index: number, input: unknown, toolName?: string): ModelMessage[] {
    const copy = withToolInput(template, input, toolName);
    for (const message of copy) {
      if (typeof message.content === 'string') continue;
      for (const part of message.content as Array<{ type: string; toolCallId?: string; approvalId?: string }>) {
        if (part.toolCallId !== undefined) part.toolCallId = `call-${index}`;
        if (part.approvalId !== undefined) part.approvalId = `approval-${index}`;
      }
    }
    return copy;
  }

  it('a decision is answered only for the reviewed arguments; any change is refused (2,000 runs)', async () => {
    const manager = newManager();
    const template = await realConversation(manager, { user_id: '42' });
    const partTypes = template.flatMap((message) => (typeof message.content === 'string' ? [] : message.content.map((part) => part.type)));
    expect(partTypes.filter((type) => type === 'tool-call' || type === 'tool-approval-request')).toEqual([
      'tool-call',
      'tool-approval-request',
    ]);
    const counts = tally();
    let index = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), fc.constantFrom('approve', 'reject'), async (pair, decision) => {
        const run = index++;
        const reviewedConversation = conversationFor(template, run, pair.reviewed);
        const [record] = await submitApprovalRequests(manager, reviewedConversation, { riskLevel: 'irreversible' });
        expect(record?.request.id).toBe(approvalRequestId(`approval-${run}`));
        await manager.respond(record!.request.id, { decision, respondedBy: 'alice' });

        const answers = await toApprovalResponses(manager, conversationFor(template, run, pair.run));
        const same = sameArgs(pair.reviewed, pair.run);
        counts.add(pair, answers.refused.length > 0);
        expect(answers.pending).toEqual([]);
        expect(answers.responses).toHaveLength(1);
        expect(answers.responses[0]?.approved).toBe(same && decision === 'approve');
        expect(answers.refused).toEqual(same ? [] : [`approval-${run}`]);
        // Storing the changed call under the same approval id is a conflict.
        if (!same) {
          await expect(
            submitApprovalRequests(manager, conversationFor(template, run, pair.run), { riskLevel: 'irreversible' }),
          ).rejects.toSatisfy((error) => HitlError.is(error, 'conflict'));
        }
      }),
      { numRuns: 2_000 },
    );
    expect(counts.total()).toBe(2_000);
    expect(counts.changed()).toBeGreaterThan(1_400);
    console.info('ai-sdk bridge', counts.summary());
  });

  it('a call whose tool was swapped (same arguments) is refused', async () => {
    const manager = newManager();
    const template = await realConversation(manager, { user_id: '42' });
    const [record] = await submitApprovalRequests(manager, conversationFor(template, 1, { user_id: '42' }), { riskLevel: 'irreversible' });
    await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
    const answers = await toApprovalResponses(manager, conversationFor(template, 1, { user_id: '42' }, 'drop_database'));
    expect(answers.refused).toEqual(['approval-1']);
    expect(answers.responses[0]?.approved).toBe(false);
  });
});

describe("AI SDK's own approval flow with changed arguments", () => {
  it('needsApproval + real generateText: an approval of A resumed with B never runs the tool; with A it runs once (300 runs)', async () => {
    const manager = newManager();
    const counts = tally();
    let index = 0;
    let executions = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), async (pair) => {
        const run = index++;
        const ran: unknown[] = [];
        const tools = {
          delete_user: tool({
            inputSchema: z.record(z.string(), z.unknown()),
            needsApproval: needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' }),
            execute: async (input: Record<string, unknown>) => {
              ran.push(input);
              return 'deleted';
            },
          }),
        };
        const model = new MockLanguageModelV3({
          doGenerate: [toolCallTurn(`call-${run}`, 'delete_user', pair.reviewed), textTurn('done'), textTurn('done')],
        });
        const prompt: ModelMessage[] = [{ role: 'user', content: 'delete the user' }];
        const first = await generateText({ model, tools, messages: prompt, stopWhen: stepCountIs(2) });
        expect(ran).toEqual([]);
        const conversation = [...prompt, ...first.response.messages];
        const approvalPart = first.content.find((part) => part.type === 'tool-approval-request');
        if (approvalPart === undefined) {
          // The AI SDK itself refuses a tool input it cannot parse safely (a "__proto__" key): it
          // records a tool error, there is nothing to approve, and the tool never ran.
          expect(hasProtoKey(pair.reviewed)).toBe(true);
          expect(first.steps.flatMap((step) => step.content).some((part) => part.type === 'tool-error')).toBe(true);
          counts.add(pair, ran.length === 0);
          return;
        }
        await submitApprovalRequests(manager, first, { riskLevel: 'irreversible' });
        const approvalId = approvalPart.approvalId;
        await manager.respond(approvalRequestId(approvalId), { decision: 'approve', respondedBy: 'alice' });
        const { message } = await toApprovalResponses(manager, conversation);
        expect(message?.content[0]?.approved).toBe(true);

        // The stored conversation is changed after the review, the approval message is replayed.
        const tampered = withToolInput(conversation, pair.run);
        await generateText({ model, tools, messages: [...tampered, message!], stopWhen: stepCountIs(2) });
        const same = sameArgs(pair.reviewed, pair.run);
        counts.add(pair, ran.length === 0);
        if (same) {
          expect(ran).toHaveLength(1);
          expect(sameArgs(ran[0], pair.reviewed)).toBe(true);
          executions += 1;
        } else {
          expect(ran).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
    expect(counts.total()).toBe(300);
    expect(executions).toBeGreaterThan(0);
    console.info('ai-sdk needsApproval + generateText', counts.summary());
  });

  it("toolApproval's resume check denies an approval of A for a call with B (1,000 runs)", async () => {
    // The reliability package depends on ai 6, whose generateText has no toolApproval option; the
    // function is called here exactly as ai 7 calls it ({ toolCall, messages }). Its run inside ai 7's
    // generateText is covered by packages/vercel-ai's ai-v7 tests.
    const manager = newManager();
    const approve = toolApproval(manager, { riskLevel: 'irreversible' });
    const counts = tally();
    let index = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), async (pair) => {
        const run = index++;
        const toolCallId = `tc-${run}`;
        const approvalId = `ap7-${run}`;
        const messages: ModelMessage[] = [
          { role: 'user', content: 'delete the user' },
          {
            role: 'assistant',
            content: [
              { type: 'tool-call', toolCallId, toolName: 'delete_user', input: pair.reviewed },
              { type: 'tool-approval-request', approvalId, toolCallId },
            ],
          },
        ];
        const [record] = await submitApprovalRequests(manager, messages, { riskLevel: 'irreversible' });
        await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
        const resumed = [
          ...withToolInput(messages, pair.run),
          { role: 'tool', content: [{ type: 'tool-approval-response', approvalId, approved: true }] } as ModelMessage,
        ];
        const status = await approve({ toolCall: { toolName: 'delete_user', toolCallId, input: pair.run }, messages: resumed });
        const same = sameArgs(pair.reviewed, pair.run);
        counts.add(pair, status.type === 'denied');
        expect(status.type).toBe(same ? 'user-approval' : 'denied');
      }),
      { numRuns: 1_000 },
    );
    expect(counts.total()).toBe(1_000);
    console.info('ai-sdk toolApproval', counts.summary());
  });
});
