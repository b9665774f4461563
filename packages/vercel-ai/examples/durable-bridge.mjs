import { createManager, createMemoryStore } from '@hitl/core';
import { needsApproval, submitApprovalRequests, toApprovalResponses } from '@hitl/vercel-ai';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';

// One store shared by the agent and the reviewers: use @hitl/store-postgres across processes.
const store = createMemoryStore();
const policies = [
  { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
];
const agent = createManager({ store, policies, timeoutMs: 24 * 3_600_000 });
const reviewers = createManager({ store, policies, timeoutMs: 24 * 3_600_000 });

const riskLevel = { get_weather: 'read_only', delete_user: 'irreversible' };
const tools = {
  get_weather: tool({
    inputSchema: z.object({ city: z.string() }),
    needsApproval: needsApproval(agent, { toolName: 'get_weather', riskLevel: riskLevel.get_weather, confidence: 0.9 }),
    execute: async ({ city }) => ({ city, celsius: 21 }),
  }),
  delete_user: tool({
    inputSchema: z.object({ user_id: z.string() }),
    needsApproval: needsApproval(agent, { toolName: 'delete_user', riskLevel: riskLevel.delete_user, confidence: 0.9 }),
    execute: async ({ user_id }) => ({ deleted: user_id }),
  }),
};

const usage = { inputTokens: { total: 0, noCache: 0 }, outputTokens: { total: 0, text: 0 } };
const call = (toolCallId, toolName, input) => ({ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) });
const model = new MockLanguageModelV3({
  doGenerate: [
    {
      content: [call('1', 'get_weather', { city: 'Paris' }), call('2', 'delete_user', { user_id: '12345' })],
      finishReason: { unified: 'tool-calls', raw: undefined },
      usage,
      warnings: [],
    },
    { content: [{ type: 'text', text: 'User 12345 is deleted.' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] },
  ],
});

// 1. The agent's turn ends at the approval request; store it and save the conversation.
const messages = [{ role: 'user', content: 'Weather in Paris, then delete user 12345' }];
const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
const [record] = await submitApprovalRequests(agent, first, { riskLevel, confidence: 0.9 });
const conversation = [...messages, ...first.response.messages];
console.log(record.request.id, record.status); // ai-approval:... pending

// 2. Later, elsewhere: a reviewer decides (POST /hitl/requests/:id/approve in @hitl/express).
await reviewers.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' });

// 3. The agent resumes once nothing is pending.
const { message, pending } = await toApprovalResponses(agent, conversation);
if (pending.length === 0 && message) {
  const next = await generateText({ model, tools, messages: [...conversation, message], stopWhen: stepCountIs(5) });
  console.log(JSON.stringify(next.response.messages[0].content[0].output), next.text);
  // {"type":"json","value":{"deleted":"12345"}} User 12345 is deleted.
}
await agent.close();
await reviewers.close();
