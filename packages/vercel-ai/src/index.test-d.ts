// Type tests of @hitl/vercel-ai against ai 6: tool set types kept, riskLevel checked, needsApproval and the bridge fit the SDK.
import { createManager } from '@hitl/core';
import type { ToolRejection as CoreToolRejection } from '@hitl/core';
import { generateText, tool, type GenerateTextResult, type ModelMessage, type Tool, type ToolSet } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  needsApproval,
  submitApprovalRequests,
  toApprovalResponses,
  withApproval,
  type ApprovalResponses,
  type ToolApprovalMessage,
  type ToolCallInfo,
  type ToolRejection,
  type ToolRejectionOutput,
} from './index.js';

const manager = createManager();
const tools = {
  get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => ({ city, celsius: 21 }) }),
  delete_user: tool({ inputSchema: z.object({ user_id: z.string() }), execute: async ({ user_id }) => ({ deleted: user_id }) }),
};

describe('types against ai 6', () => {
  it('withApproval returns the same tool set type, usable by generateText', () => {
    const wrapped = withApproval(tools, { manager, riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' } });
    expectTypeOf(wrapped).toEqualTypeOf<typeof tools>();
    expectTypeOf(wrapped).toExtend<ToolSet>();
    const run = () => generateText({ model: new MockLanguageModelV3(), tools: wrapped, prompt: 'x' });
    expectTypeOf(run).returns.resolves.toExtend<GenerateTextResult<typeof tools, never>>();
  });

  it('accepts a value typed as the SDK ToolSet', () => {
    const declared: ToolSet = tools;
    expectTypeOf(withApproval(declared, { manager, riskLevel: 'irreversible' })).toEqualTypeOf<ToolSet>();
  });

  it('checks riskLevel keys and values', () => {
    // @ts-expect-error a tool name that is not in the set
    withApproval(tools, { manager, riskLevel: { get_wether: 'read_only' } });
    // @ts-expect-error not a risk level
    withApproval(tools, { manager, riskLevel: { get_weather: 'harmless' } });
    // @ts-expect-error riskLevel is required
    withApproval(tools, { manager });
    withApproval(tools, { manager, riskLevel: 'irreversible', confidence: (call) => (call.toolName === 'get_weather' ? 0.9 : 0.5) });
    withApproval(tools, { manager, riskLevel: (call: ToolCallInfo) => (call.toolName.startsWith('get_') ? 'read_only' : undefined) });
  });

  it("needsApproval fits tool({ needsApproval }) and keeps the tool's input type", () => {
    const deleteUser = tool({
      inputSchema: z.object({ user_id: z.string() }),
      needsApproval: needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' }),
      execute: async ({ user_id }) => ({ deleted: user_id }),
    });
    expectTypeOf(deleteUser).toEqualTypeOf<Tool<{ user_id: string }, { deleted: string }>>();
  });

  it('the bridge reads generateText results and its message joins the next call', async () => {
    const result = await generateText({ model: new MockLanguageModelV3(), tools, prompt: 'x' });
    const records = submitApprovalRequests(manager, result, { riskLevel: 'irreversible' });
    expectTypeOf(records).resolves.items.toHaveProperty('inputHash');
    const answers = await toApprovalResponses(manager, [...result.response.messages]);
    expectTypeOf(answers).toEqualTypeOf<ApprovalResponses>();
    expectTypeOf<ToolApprovalMessage>().toExtend<ModelMessage>();
    const messages: ModelMessage[] = answers.message ? [answers.message] : [];
    expectTypeOf(messages).toEqualTypeOf<ModelMessage[]>();
  });

  it('ToolRejection is the shape every hitl adapter shares; the model output carries it without the response', () => {
    expectTypeOf<ToolRejection>().toEqualTypeOf<CoreToolRejection>();
    expectTypeOf<ToolRejectionOutput>().toExtend<Omit<CoreToolRejection, 'response'>>();
    expectTypeOf<ToolRejectionOutput['rejected']>().toEqualTypeOf<true>();
  });
});
