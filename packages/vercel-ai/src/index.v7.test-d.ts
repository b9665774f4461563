// Type checks against ai 7 (tsconfig.v7.json maps `ai` to ./ai-v7).
import { createManager } from '@hitl/core';
import { generateText, tool, type ModelMessage, type ToolApprovalConfiguration, type ToolApprovalStatus, type ToolSet } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  needsApproval,
  submitApprovalRequests,
  toApprovalResponses,
  toolApproval,
  withApproval,
  type ToolApprovalMessage,
} from './index.js';

const manager = createManager();
const tools = {
  get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => ({ city, celsius: 21 }) }),
  delete_user: tool({ inputSchema: z.object({ user_id: z.string() }), execute: async ({ user_id }) => ({ deleted: user_id }) }),
};

describe('types against ai 7', () => {
  it("toolApproval is ai 7's ToolApprovalConfiguration, and its statuses are ToolApprovalStatus", () => {
    const approval = toolApproval(manager, { riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' } });
    expectTypeOf(approval).toExtend<ToolApprovalConfiguration<typeof tools, Record<string, unknown>>>();
    expectTypeOf(approval).returns.resolves.toExtend<ToolApprovalStatus>();
    const run = () => generateText({ model: new MockLanguageModelV4(), tools, toolApproval: approval, prompt: 'x' });
    expectTypeOf(run).returns.toExtend<Promise<unknown>>();
  });

  it('withApproval keeps the ai 7 tool set type', () => {
    const wrapped = withApproval(tools, { manager, riskLevel: { get_weather: 'read_only' } });
    expectTypeOf(wrapped).toEqualTypeOf<typeof tools>();
    expectTypeOf(wrapped).toExtend<ToolSet>();
  });

  it('needsApproval still fits the deprecated tool-level option', () => {
    const deleteUser = tool({
      inputSchema: z.object({ user_id: z.string() }),
      needsApproval: needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' }),
      execute: async ({ user_id }) => ({ deleted: user_id }),
    });
    expectTypeOf(deleteUser.execute).toBeFunction();
  });

  it('the bridge reads ai 7 results and its message joins the next call', async () => {
    const result = await generateText({ model: new MockLanguageModelV4(), tools, prompt: 'x' });
    expectTypeOf(submitApprovalRequests(manager, result, { riskLevel: 'irreversible' })).resolves.toBeArray();
    const { message } = await toApprovalResponses(manager, [...result.responseMessages]);
    expectTypeOf<ToolApprovalMessage>().toExtend<ModelMessage>();
    const messages: ModelMessage[] = message ? [message] : [];
    expectTypeOf(messages).toEqualTypeOf<ModelMessage[]>();
  });
});
