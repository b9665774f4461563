// An agent process for the durable-resume tests: a LangChain agent on PostgresSaver with hitl's
// durable approvalMiddleware, whose delete_user tool records each run in a table. MODE=pause pauses
// one thread and stays up until killed; MODE=pause-many pauses COUNT threads and exits; MODE=resumer
// runs a resumer until SIGTERM. Every event is one JSON line on stdout.
import process from 'node:process';
import { runMode, say } from './agent-modes.mjs';
import { createManager } from '@hitl/core';
import { approvalMiddleware, createResumer } from '@hitl/langchain/middleware';
import { createPostgresStore } from '@hitl/store-postgres';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createAgent, createMiddleware, FakeToolCallingModel, HumanMessage, ToolMessage, tool } from 'langchain';
import pg from 'pg';
import { z } from 'zod';

const { DATABASE_URL, HITL_SCHEMA: schema, MODE, THREAD_PREFIX = 'thread', OWNER } = process.env;

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6, application_name: `hitl-durable-${MODE}` });
const store = createPostgresStore({ pool, schema, sweepIntervalMs: Infinity });
const policies = [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }];
const manager = createManager({ store, policies, timeoutMs: Infinity });
const checkpointer = new PostgresSaver(pool, undefined, { schema });

// The tool's side effect: one row per run. No unique key on purpose: a second run shows as a second row.
const deleteUser = tool(
  async ({ user_id }) => {
    await pool.query(`INSERT INTO "${schema}".tool_runs (user_id, pid) VALUES ($1, $2)`, [user_id, process.pid]);
    return `Deleted user ${user_id}.`;
  },
  { name: 'delete_user', description: 'Delete a user account', schema: z.object({ user_id: z.string() }) },
);

// Each model call gets its own scripted model, chosen from the conversation (a fake model's script
// index is shared state, which concurrent threads in one process would trample): the first call asks
// to delete the user the human named, the call after the tool's answer answers in text.
const script = createMiddleware({
  name: 'ScriptedModel',
  wrapModelCall: (request, handler) => {
    const userId = String(request.messages.find((message) => HumanMessage.isInstance(message))?.content ?? '').replace(/\D/g, '');
    const answered = request.messages.some((message) => ToolMessage.isInstance(message));
    const toolCalls = answered ? [[]] : [[{ name: 'delete_user', args: { user_id: userId }, id: `call-${userId}` }]];
    return handler({ ...request, model: new FakeToolCallingModel({ toolCalls }) });
  },
});

const agent = createAgent({
  model: new FakeToolCallingModel({ toolCalls: [[]] }),
  tools: [deleteUser],
  checkpointer,
  middleware: [script, approvalMiddleware({ manager, riskLevel: 'irreversible', confidence: 0.9, durable: true })],
});

async function pause(index) {
  const threadId = `${THREAD_PREFIX}-${index}`;
  const result = await agent.invoke({ messages: [new HumanMessage(`delete user ${index}`)] }, { configurable: { thread_id: threadId } });
  const requestId = result.__interrupt__?.[0]?.value?.hitlRequestId;
  say({ paused: threadId, requestId });
}

await runMode({
  pause,
  createResumer: (onResumed) =>
    createResumer({
      manager,
      store,
      agent,
      owner: OWNER,
      onResumed,
    }),
  async close() {
    await manager.close();
    await store.close();
    await pool.end();
  },
});
