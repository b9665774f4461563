/** The demo's LangChain agent: the scripted support run through `approvalMiddleware` with a fake model. */
import type { Manager } from '@hitl/core';
import { approvalMiddleware } from '@hitl/langchain/middleware';
import { tool } from '@langchain/core/tools';
import { createAgent, FakeToolCallingModel, HumanMessage, ToolMessage } from 'langchain';
import { z } from 'zod';
import type { Crm } from '../crm.js';
import type { Narrator, Run } from '../narrator.js';
import { toolConfidence, toolRisk } from '../policies.js';
import { customerRequest, describeCall, perform, supportScript } from './script.js';

export interface AgentContext {
  manager: Manager;
  crm: Crm;
  narrator: Narrator;
  run: Run;
  /** How long each risky call waits for a reviewer; the manager's timeout when absent. */
  timeoutMs?: number;
  /** Add a follow-up email to the script (the "allow in this thread" scenario). */
  followUp?: boolean;
}

/**
 * A LangChain `createAgent` with a scripted model (no API key) and the hitl approval middleware:
 * every tool call goes through the policies; the model reads rejections as tool messages.
 */
export async function runLangChainAgent(context: AgentContext): Promise<void> {
  const { manager, crm, narrator, run, timeoutMs } = context;
  const customer = crm.customers.get(run.customerId);
  if (!customer) throw new Error(`no customer ${run.customerId}`);
  const body = (name: string) => async (args: Record<string, unknown>, config?: { toolCall?: { id?: string } }) =>
    JSON.stringify(perform(context, name, config?.toolCall?.id, args));
  const tools = [
    tool(body('get_user'), { name: 'get_user', description: 'Look up a customer', schema: z.object({ user_id: z.string() }) }),
    tool(body('search_orders'), {
      name: 'search_orders',
      description: "List a customer's orders",
      schema: z.object({ customer_id: z.string() }),
    }),
    tool(body('update_user'), {
      name: 'update_user',
      description: "Change a customer's plan",
      schema: z.object({ user_id: z.string(), plan: z.enum(['pro', 'free']) }),
    }),
    tool(body('delete_user'), {
      name: 'delete_user',
      description: 'Delete a customer account and all its data',
      schema: z.object({ user_id: z.string() }),
    }),
    tool(body('refund_payment'), {
      name: 'refund_payment',
      description: 'Refund part or all of an order',
      schema: z.object({ order_id: z.string(), amount: z.number().positive() }),
    }),
    tool(body('send_email'), {
      name: 'send_email',
      description: 'Email a customer',
      schema: z.object({ to: z.string().email(), subject: z.string().min(1), body: z.string().min(1) }),
    }),
  ];
  let callNumber = 0;
  const toolCalls = supportScript(customer.id, customer.email, context.followUp === true).map((turn) =>
    turn.map((call) => ({ name: call.name, args: call.args, id: `${run.id}:call-${++callNumber}` })),
  );
  const agent = createAgent({
    model: new FakeToolCallingModel({ toolCalls: [...toolCalls, []] }),
    tools,
    middleware: [
      approvalMiddleware({
        manager,
        riskLevel: toolRisk,
        confidence: (toolCall) => toolConfidence[toolCall.name] ?? 0,
        describe: (toolCall) => describeCall(toolCall.name, toolCall.args, run),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      }),
    ],
  });
  narrator.say(run, `💬 ${customerRequest(customer.id)}`);
  // The conversation's thread: a decision remembered "for this thread" applies to this run's calls.
  const result = await agent.invoke(
    { messages: [new HumanMessage(customerRequest(customer.id))] },
    { configurable: { thread_id: `support-${run.id}` } },
  );
  for (const message of result.messages) {
    if (!ToolMessage.isInstance(message)) continue;
    const output = typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
    run.results[message.name ?? 'unknown'] = { status: message.status === 'error' ? 'rejected' : 'success', output };
  }
}
