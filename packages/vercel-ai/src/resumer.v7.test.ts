// Runs against ai 7 (vitest.v7.config.ts points `ai` and `ai/test` at ./ai-v7): the resumer reads
// `responseMessages`, with generateText and streamText.
import { createManager, createMemoryStore } from '@hitl/core';
import { generateText, isStepCount, streamText, tool, type ModelMessage } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { createResumer, submitApprovalRequests, toolApproval } from './index.js';
import { textResult, textStream, toolCallsResult } from './test-support/model.js';
import { deleteCall } from './test-support/fixtures.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

describe('createResumer (ai 7)', () => {
  for (const mode of ['generate', 'stream'] as const) {
    it(`continues the conversation once decided (${mode === 'generate' ? 'generateText' : 'streamText'})`, async () => {
      const store = createMemoryStore();
      const policies = [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }];
      const manager = createManager({ store, policies, timeoutMs: Infinity });
      open.push(manager);
      const deleteUser = vi.fn(async ({ user_id }: { user_id: string }) => ({ deleted: user_id }));
      const tools = { delete_user: tool({ inputSchema: z.object({ user_id: z.string() }), execute: deleteUser }) };
      const approval = toolApproval(manager, { riskLevel: 'irreversible', confidence: 0.9 });
      const model = new MockLanguageModelV4({
        doGenerate: [toolCallsResult([deleteCall]), textResult('Deleted.')],
        doStream: [{ stream: convertArrayToReadableStream(textStream('Deleted.')) }],
      });
      const messages: ModelMessage[] = [{ role: 'user', content: 'delete user 12345' }];
      const first = await generateText({ model, tools, toolApproval: approval, messages, stopWhen: isStepCount(3) });
      const [record] = await submitApprovalRequests(manager, first, { riskLevel: 'irreversible', threadId: 'v7', resumable: true });
      const conversations = new Map<string, unknown[]>([['v7', [...messages, ...first.responseMessages]]]);
      const resumer = createResumer({
        manager,
        store,
        load: (threadId) => conversations.get(threadId),
        save: (threadId, saved) => void conversations.set(threadId, saved),
        run: async ({ messages: sent }) =>
          mode === 'generate'
            ? generateText({ model, tools, toolApproval: approval, messages: sent as ModelMessage[], stopWhen: isStepCount(3) })
            : streamText({ model, tools, toolApproval: approval, messages: sent as ModelMessage[], stopWhen: isStepCount(3) }),
      });
      open.push(resumer);
      await resumer.start();
      await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
      await resumer.idle();
      expect(deleteUser).toHaveBeenCalledTimes(1);
      const last = conversations.get('v7')?.at(-1) as { role: string; content: { type: string; text?: string }[] };
      expect(last.role).toBe('assistant');
      expect(last.content.find((part) => part.type === 'text')?.text).toBe('Deleted.');
    });
  }
});
