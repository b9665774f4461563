import { createManager } from '@hitl/core';
import { withApproval } from '@hitl/langchain';
import { approvalMiddleware } from '@hitl/langchain/middleware';
import { tool } from '@langchain/core/tools';
import { createAgent, FakeToolCallingModel, HumanMessage, ToolMessage } from 'langchain';
import { z } from 'zod';

// Five tiers of policies; the first whose glob matches the tool name decides.
const manager = createManager({
  timeoutMs: 60_000,
  policies: [
    { name: 'read-only-auto', toolPattern: '{get,search}_*', minConfidence: 0.5, maxRiskLevel: 'read_only' }, // reads run at once
    { name: 'writes', toolPattern: 'update_*', minConfidence: 0.8, maxRiskLevel: 'data_modification' }, // confident writes run
    { name: 'payments', toolPattern: 'transfer_*', requireExplicit: true, timeoutMs: 30_000 }, // money: a human, quickly
    { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }, // deletes: always a human
    { name: 'forbidden', toolPattern: 'drop_*', deny: true }, // never
  ],
});

const getWeather = tool(async ({ city }) => `It is sunny in ${city}.`, {
  name: 'get_weather',
  description: 'Get the weather for a city',
  schema: z.object({ city: z.string() }),
});
const deleteUser = tool(async ({ user_id }) => `Deleted user ${user_id}.`, {
  name: 'delete_user',
  description: 'Delete a user account',
  schema: z.object({ user_id: z.string() }),
});

// A reviewer answers pending requests. Here it is this process; in production, the @hitl/express dashboard.
manager.subscribe((event) => {
  if (event.type !== 'request-created' || event.record.status !== 'pending') return;
  manager
    .respond(event.record.request.id, { decision: 'reject', feedback: 'user 42 has an open invoice', respondedBy: 'alice' })
    .catch(console.error);
});

// Any chat model that calls tools works; this scripted one calls get_weather, then delete_user.
const script = () => [[{ name: 'get_weather', args: { city: 'Paris' }, id: 'call-1' }], [{ name: 'delete_user', args: { user_id: '42' }, id: 'call-2' }], []];
const question = { messages: [new HumanMessage('What is the weather in Paris? Then delete user 42.')] };
const printToolMessages = (result) => {
  for (const message of result.messages) if (ToolMessage.isInstance(message)) console.log(`${message.status}: ${message.content}`);
};

// 1. Wrap the tools you already have.
const agent = createAgent({
  model: new FakeToolCallingModel({ toolCalls: script() }),
  tools: [
    withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9 }),
    withApproval(deleteUser, { manager, riskLevel: 'irreversible', confidence: 0.9, describe: ({ user_id }) => `Delete user ${user_id}` }),
  ],
});
printToolMessages(await agent.invoke(question));
// success: It is sunny in Paris.
// error: Rejected by reviewer: user 42 has an open invoice

// 2. Or gate every tool call of an agent with one middleware.
const guardedAgent = createAgent({
  model: new FakeToolCallingModel({ toolCalls: script() }),
  tools: [getWeather, deleteUser],
  middleware: [approvalMiddleware({ manager, riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' }, confidence: 0.9 })],
});
printToolMessages(await guardedAgent.invoke(question));
// success: It is sunny in Paris.
// error: Rejected by reviewer: user 42 has an open invoice

await manager.close();
