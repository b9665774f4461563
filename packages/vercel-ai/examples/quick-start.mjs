import { createLogNotifier, createManager, RiskLevel } from '@hitl/core';
import { withApproval } from '@hitl/vercel-ai';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';

// Five tiers: reads run alone, confident updates run alone, deletes and outbound messages wait for a human.
const manager = createManager({ timeoutMs: 15 * 60_000, onTimeout: 'reject', notifiers: [createLogNotifier(console)] });
manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly });
manager.addPolicy({ name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly });
manager.addPolicy({ name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: RiskLevel.DataModification });
manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
manager.addPolicy({ name: 'outbound', toolPattern: 'send_*', requireExplicit: true });

const tools = withApproval(
  {
    get_weather: tool({
      description: 'Current weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }) => ({ city, celsius: 21 }),
    }),
    delete_user: tool({
      description: 'Delete a user account and all its data',
      inputSchema: z.object({ user_id: z.string() }),
      execute: async ({ user_id }) => ({ deleted: user_id }),
    }),
    send_email: tool({
      description: 'Email a customer',
      inputSchema: z.object({ to: z.string(), body: z.string() }),
      execute: async ({ to }) => ({ sent: to }),
    }),
  },
  {
    manager,
    riskLevel: { get_weather: RiskLevel.ReadOnly, delete_user: RiskLevel.Irreversible, send_email: RiskLevel.DataModification },
    confidence: 0.9,
  },
);

// Reviewers decide in the @hitl/express dashboard; here a subscriber stands in for them.
manager.subscribe((event) => {
  if (event.type !== 'request-created' || event.record.status !== 'pending') return;
  const { id, toolName } = event.record.request;
  void manager.respond(
    id,
    toolName === 'delete_user'
      ? { decision: 'approve', respondedBy: 'alice' }
      : { decision: 'reject', feedback: 'No customer emails before finance confirms the refund', respondedBy: 'bob' },
  );
});

// A scripted model, so this runs without an API key. Use your provider's model instead.
const usage = { inputTokens: { total: 0, noCache: 0 }, outputTokens: { total: 0, text: 0 } };
const call = (toolCallId, toolName, input) => ({ type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) });
const model = new MockLanguageModelV3({
  doGenerate: [
    {
      content: [
        call('1', 'get_weather', { city: 'Paris' }),
        call('2', 'delete_user', { user_id: '12345' }),
        call('3', 'send_email', { to: 'ann@example.com', body: 'Your refund is on its way' }),
      ],
      finishReason: { unified: 'tool-calls', raw: undefined },
      usage,
      warnings: [],
    },
    { content: [{ type: 'text', text: 'Done.' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] },
  ],
});

const result = await generateText({
  model,
  tools,
  stopWhen: stepCountIs(5),
  prompt: 'Check the weather in Paris, delete user 12345, and tell Ann about her refund',
});
for (const { toolName, output } of result.steps[0].toolResults) console.log(toolName, output);
// get_weather { city: 'Paris', celsius: 21 }
// delete_user { deleted: '12345' }
// send_email { rejected: true, reason: 'No customer emails before finance confirms the refund' }
await manager.close();
