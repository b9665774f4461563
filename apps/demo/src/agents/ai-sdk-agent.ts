/** The demo's AI SDK agent: the scripted support run through `withApproval` with a mock model. */
import { isToolRejection, withApproval } from '@hitl/vercel-ai';
import { generateText, stepCountIs, tool, type ToolSet } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { z } from 'zod';
import { toolConfidence, toolRisk } from '../policies.js';
import type { AgentContext } from './langchain-agent.js';
import { customerRequest, describeCall, perform, supportScript } from './script.js';

const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };

/**
 * An AI SDK `generateText` agent with a scripted mock model (no API key) and hitl-wrapped tools:
 * risky calls wait for a reviewer inside `execute`; the model reads rejections as tool results.
 */
export async function runAiSdkAgent(context: AgentContext): Promise<void> {
  const { manager, crm, narrator, run, timeoutMs } = context;
  const customer = crm.customers.get(run.customerId);
  if (!customer) throw new Error(`no customer ${run.customerId}`);
  const execute = (name: string) => async (args: Record<string, unknown>, options: { toolCallId: string }) =>
    perform(context, name, options.toolCallId, args);
  const tools: ToolSet = withApproval(
    {
      get_user: tool({ description: 'Look up a customer', inputSchema: z.object({ user_id: z.string() }), execute: execute('get_user') }),
      search_orders: tool({
        description: "List a customer's orders",
        inputSchema: z.object({ customer_id: z.string() }),
        execute: execute('search_orders'),
      }),
      update_user: tool({
        description: "Change a customer's plan",
        inputSchema: z.object({ user_id: z.string(), plan: z.enum(['pro', 'free']) }),
        execute: execute('update_user'),
      }),
      delete_user: tool({
        description: 'Delete a customer account and all its data',
        inputSchema: z.object({ user_id: z.string() }),
        execute: execute('delete_user'),
      }),
      refund_payment: tool({
        description: 'Refund part or all of an order',
        inputSchema: z.object({ order_id: z.string(), amount: z.number().positive() }),
        execute: execute('refund_payment'),
      }),
      send_email: tool({
        description: 'Email a customer',
        inputSchema: z.object({ to: z.string().email(), subject: z.string().min(1), body: z.string().min(1) }),
        execute: execute('send_email'),
      }),
    },
    {
      manager,
      riskLevel: toolRisk,
      confidence: (call) => toolConfidence[call.toolName],
      describe: (call) => describeCall(call.toolName, call.input as Record<string, unknown>, run),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    },
  );
  let callNumber = 0;
  const turns = supportScript(customer.id, customer.email).map((turn) => ({
    content: turn.map((call) => ({
      type: 'tool-call' as const,
      toolCallId: `${run.id}:call-${++callNumber}`,
      toolName: call.name,
      input: JSON.stringify(call.args),
    })),
    finishReason: { unified: 'tool-calls' as const, raw: undefined },
    usage,
    warnings: [],
  }));
  const model = new MockLanguageModelV3({
    doGenerate: [
      ...turns,
      { content: [{ type: 'text', text: 'Done.' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] },
    ],
  });
  narrator.say(run, `💬 ${customerRequest(customer.id)}`);
  const result = await generateText({ model, tools, stopWhen: stepCountIs(turns.length + 1), prompt: customerRequest(customer.id) });
  for (const step of result.steps) {
    for (const toolResult of step.toolResults) {
      const output: unknown = toolResult.output;
      run.results[toolResult.toolName] = isToolRejection(output)
        ? { status: 'rejected', output: output.feedback ?? output.message }
        : { status: 'success', output: JSON.stringify(output) };
    }
  }
}
