// An agent process for the AI SDK durable-resume tests: generateText (or streamText with STREAM=1)
// on a mock model, hitl's approval bridge on PostgreSQL, the conversation saved in a table. The
// delete_user tool records each run. MODE=pause pauses one conversation and stays up until killed;
// MODE=pause-many pauses COUNT and exits; MODE=resumer continues conversations until SIGTERM.
import process from 'node:process';
import { runMode, say } from './agent-modes.mjs';
import { createManager } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { createResumer, needsApproval, submitApprovalRequests } from '@hitl/vercel-ai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import pg from 'pg';
import { z } from 'zod';

const { DATABASE_URL, HITL_SCHEMA: schema, MODE, THREAD_PREFIX = 'conversation', OWNER, STREAM } = process.env;

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 6, application_name: `hitl-durable-ai-${MODE}` });
const store = createPostgresStore({ pool, schema, sweepIntervalMs: Infinity });
const manager = createManager({
  store,
  policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
  timeoutMs: Infinity,
});

const usage = { inputTokens: { total: 1, noCache: 1 }, outputTokens: { total: 1, text: 1 } };
/** The model asks to delete the user the human named; once it has read the tool's output, it answers with it. */
function next(prompt) {
  const output = prompt.flatMap((message) => (message.role === 'tool' ? message.content : [])).find((part) => part.type === 'tool-result');
  if (output) return { text: `Done: ${JSON.stringify(output.output)}` };
  const userId = JSON.stringify(prompt.find((message) => message.role === 'user')?.content).replace(/\D/g, '');
  return { call: { type: 'tool-call', toolCallId: `call-${userId}`, toolName: 'delete_user', input: JSON.stringify({ user_id: userId }) } };
}
const model = new MockLanguageModelV3({
  doGenerate: async ({ prompt }) => {
    const step = next(prompt);
    return step.call
      ? { content: [step.call], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] }
      : { content: [{ type: 'text', text: step.text }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
  },
  doStream: async ({ prompt }) => {
    const step = next(prompt);
    const parts = step.call
      ? [
          { type: 'stream-start', warnings: [] },
          step.call,
          { type: 'finish', finishReason: { unified: 'tool-calls', raw: undefined }, usage },
        ]
      : [
          { type: 'stream-start', warnings: [] },
          { type: 'text-start', id: 't' },
          { type: 'text-delta', id: 't', delta: step.text },
          { type: 'text-end', id: 't' },
          { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage },
        ];
    return { stream: convertArrayToReadableStream(parts) };
  },
});

const tools = {
  delete_user: tool({
    inputSchema: z.object({ user_id: z.string() }),
    needsApproval: needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible', confidence: 0.9 }),
    // One row per run, no unique key: a second run shows as a second row.
    execute: async ({ user_id }) => {
      await pool.query(`INSERT INTO "${schema}".tool_runs (user_id, pid) VALUES ($1, $2)`, [user_id, process.pid]);
      return { deleted: user_id };
    },
  }),
};

const load = async (threadId) =>
  (await pool.query(`SELECT messages FROM "${schema}".conversations WHERE thread_id = $1`, [threadId])).rows[0]?.messages;
const save = async (threadId, messages) => {
  await pool.query(
    `INSERT INTO "${schema}".conversations (thread_id, messages) VALUES ($1, $2::jsonb) ON CONFLICT (thread_id) DO UPDATE SET messages = EXCLUDED.messages`,
    [threadId, JSON.stringify(messages)],
  );
};

async function pause(index) {
  const threadId = `${THREAD_PREFIX}-${index}`;
  const messages = [{ role: 'user', content: `delete user ${index}` }];
  const result = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
  const [record] = await submitApprovalRequests(manager, result, { riskLevel: 'irreversible', confidence: 0.9, threadId, resumable: true });
  await save(threadId, [...messages, ...result.response.messages]);
  say({ paused: threadId, requestId: record?.request.id });
}

await runMode({
  pause,
  createResumer: (onResumed) =>
    createResumer({
      manager,
      store,
      load,
      save,
      run: async ({ messages }) =>
        STREAM === '1'
          ? streamText({ model, tools, messages, stopWhen: stepCountIs(5) })
          : generateText({ model, tools, messages, stopWhen: stepCountIs(5) }),
      owner: OWNER,
      onResumed,
    }),
  async close() {
    await manager.close();
    await store.close();
    await pool.end();
  },
});
