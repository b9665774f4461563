// createResumer for the AI SDK (ai 6): saved conversations continued once decided, with generateText or streamText, racing resumers.
import { createManager, createMemoryStore } from '@hitl/core';
import type { ApprovalStore } from '@hitl/core';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import type { ModelMessage } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createResumer, needsApproval, submitApprovalRequests } from './index.js';
import type { Resumer } from './index.js';
import { textResult, textStream, toolCallsResult, toolCallsStream, toolOutputsIn } from './test-support/model.js';
import type { PlannedCall } from './test-support/model.js';

const policies = [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }];
const riskLevel = { delete_user: 'irreversible' } as const;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

const call = (userId: string): PlannedCall => ({ id: `call-${userId}`, name: 'delete_user', input: { user_id: userId } });

/** A model that calls delete_user for each id the user names, then answers with the tool outputs it read. */
function scriptedModel() {
  const decide = (prompt: ReadonlyArray<{ role: string; content: unknown }>) => {
    const outputs = toolOutputsIn(prompt);
    if (outputs.size > 0) return { text: `Done: ${JSON.stringify(outputs.get('delete_user'))}` };
    const user = prompt.find((message) => message.role === 'user');
    const ids = JSON.stringify(user?.content).match(/\d+/g) ?? [];
    return { calls: ids.map(call) };
  };
  return new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      const next = decide(prompt);
      return next.calls ? toolCallsResult(next.calls) : textResult(next.text);
    },
    doStream: async ({ prompt }) => {
      const next = decide(prompt);
      const parts: unknown[] = next.calls ? toolCallsStream(next.calls) : textStream(next.text);
      return { stream: convertArrayToReadableStream(parts as ReturnType<typeof textStream>) };
    },
  });
}

function setup(mode: 'generate' | 'stream' = 'generate') {
  const store: ApprovalStore = createMemoryStore();
  const agentManager = createManager({ store, policies, timeoutMs: Infinity });
  const reviewers = createManager({ store, policies, timeoutMs: Infinity });
  open.push(agentManager, reviewers);
  const deleteUser = vi.fn(async ({ user_id }: { user_id: string }) => ({ deleted: user_id }));
  const tools = {
    delete_user: tool({
      inputSchema: z.object({ user_id: z.string() }),
      needsApproval: needsApproval(agentManager, { toolName: 'delete_user', riskLevel: 'irreversible', confidence: 0.9 }),
      execute: deleteUser,
    }),
  };
  const model = scriptedModel();
  const conversations = new Map<string, unknown[]>();
  const pause = async (threadId: string, text: string) => {
    const messages: ModelMessage[] = [{ role: 'user', content: text }];
    const result = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
    const records = await submitApprovalRequests(agentManager, result, { riskLevel, threadId, resumable: true });
    conversations.set(threadId, [...messages, ...result.response.messages]);
    return records.map((record) => record.request.id);
  };
  const run = ({ messages }: { messages: unknown[] }) =>
    mode === 'generate'
      ? generateText({ model, tools, messages: messages as ModelMessage[], stopWhen: stepCountIs(5) })
      : Promise.resolve(streamText({ model, tools, messages: messages as ModelMessage[], stopWhen: stepCountIs(5) }));
  const resumerFor = (owner: string): Resumer => {
    const resumer = createResumer({
      manager: reviewers,
      store,
      load: (threadId) => conversations.get(threadId),
      save: (threadId, messages) => void conversations.set(threadId, messages),
      run,
      owner,
    });
    open.push(resumer);
    return resumer;
  };
  return { store, reviewers, deleteUser, conversations, pause, resumerFor };
}

const lastText = (messages: unknown[] | undefined) => {
  const last = messages?.at(-1) as { role: string; content: Array<{ type: string; text?: string }> } | undefined;
  return last?.role === 'assistant' ? last.content.find((part) => part.type === 'text')?.text : undefined;
};

describe('createResumer (AI SDK)', () => {
  for (const mode of ['generate', 'stream'] as const) {
    it(`continues a saved conversation once its request is decided (${mode === 'generate' ? 'generateText' : 'streamText'})`, async () => {
      const { reviewers, deleteUser, conversations, pause, resumerFor } = setup(mode);
      const [id] = await pause('c1', 'delete user 42');
      expect(deleteUser).not.toHaveBeenCalled();
      const resumer = resumerFor('a');
      await resumer.start();
      await reviewers.respond(id!, { decision: 'approve', respondedBy: 'alice' });
      await resumer.idle();
      expect(deleteUser).toHaveBeenCalledTimes(1);
      expect(lastText(conversations.get('c1'))).toBe('Done: {"type":"json","value":{"deleted":"42"}}');
      expect(await resumer.resume(id!)).toBe('done');
      expect(deleteUser).toHaveBeenCalledTimes(1);
    });
  }

  it('a rejection continues with a refusal the model reads; the catch-up scan finds decisions made before start', async () => {
    const { reviewers, deleteUser, conversations, pause, resumerFor } = setup();
    const [id] = await pause('c2', 'delete user 7');
    await reviewers.respond(id!, { decision: 'reject', feedback: 'wrong user', respondedBy: 'alice' });
    const resumer = resumerFor('a');
    await resumer.start();
    await resumer.idle();
    expect(deleteUser).not.toHaveBeenCalled();
    expect(lastText(conversations.get('c2'))).toContain('wrong user');
  });

  it('two calls of one turn continue together once both are decided, by one of two racing resumers', async () => {
    const { reviewers, deleteUser, conversations, pause, resumerFor } = setup();
    const ids = await pause('c3', 'delete users 1 and 2');
    expect(ids).toHaveLength(2);
    const resumers = [resumerFor('a'), resumerFor('b')];
    await Promise.all(resumers.map((resumer) => resumer.start()));
    await reviewers.respond(ids[0]!, { decision: 'approve', respondedBy: 'alice' });
    await Promise.all(resumers.map((resumer) => resumer.idle()));
    expect(deleteUser).not.toHaveBeenCalled();
    await reviewers.respond(ids[1]!, { decision: 'approve', respondedBy: 'alice' });
    await Promise.all(resumers.map((resumer) => resumer.idle()));
    expect(deleteUser).toHaveBeenCalledTimes(2);
    expect(lastText(conversations.get('c3'))).toMatch(/^Done: /);
  });

  it('refuses resumable requests without a thread, and a resumer without load/save/run', async () => {
    const { store, reviewers } = setup();
    const result = { content: [] };
    await expect(submitApprovalRequests(reviewers, result, { riskLevel, resumable: true })).rejects.toThrow(
      /options.threadId .*is required with resumable: true/,
    );
    expect(() => createResumer({ manager: reviewers, store, load: () => undefined, save: () => undefined } as never)).toThrow(
      /options.run/,
    );
  });
});
