// A paused LangChain run (PostgresSaver + hitl's durable approvalMiddleware) survives SIGKILL and
// is resumed exactly once by a new agent process; two racing resumers resume each decision once.
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { describeDurableResume } from './durable-resume/suite.js';

describeDurableResume({
  subject: 'LangChain run',
  script: new URL('./durable-resume/langgraph-agent.mjs', import.meta.url),
  schemaPrefix: 'hitl_resume_lc',
  async prepare({ pool, schema }) {
    await new PostgresSaver(pool, undefined, { schema }).setup();
  },
  async finalAnswer({ pool, schema }, threadId) {
    const tuple = await new PostgresSaver(pool, undefined, { schema }).getTuple({ configurable: { thread_id: threadId } });
    const messages = (tuple?.checkpoint.channel_values as { messages?: { content: unknown; tool_calls?: unknown[] }[] } | undefined)
      ?.messages;
    const last = messages?.at(-1);
    // The model's last word, after the tool's answer: no further tool call.
    return last && (last.tool_calls ?? []).length === 0 ? String(last.content) : undefined;
  },
});
