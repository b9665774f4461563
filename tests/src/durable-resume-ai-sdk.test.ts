// A paused AI SDK conversation (hitl's approval bridge, conversation saved in PostgreSQL) survives
// SIGKILL and is continued exactly once by a new process, with generateText and streamText; two
// racing resumers (one of each) continue each decision once.
import { describeDurableResume } from './durable-resume/suite.js';

describeDurableResume({
  subject: 'AI SDK conversation',
  script: new URL('./durable-resume/ai-sdk-agent.mjs', import.meta.url),
  schemaPrefix: 'hitl_resume_ai',
  async prepare({ admin, schema }) {
    await admin.query(`CREATE TABLE "${schema}".conversations (thread_id text PRIMARY KEY, messages jsonb NOT NULL)`);
  },
  async finalAnswer({ pool, schema }, threadId) {
    const { rows } = await pool.query<{ messages: { role: string; content: { type: string; text?: string }[] }[] }>(
      `SELECT messages FROM "${schema}".conversations WHERE thread_id = $1`,
      [threadId],
    );
    const last = rows[0]?.messages.at(-1);
    return last?.role === 'assistant' ? last.content.find((part) => part.type === 'text')?.text : undefined;
  },
  resumerEnv: (index) => ({ STREAM: index % 2 === 0 ? '0' : '1' }),
});
