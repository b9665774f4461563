// A paused LangChain run survives its process: agent processes on PostgresSaver + hitl pause on
// delete_user and are SIGKILLed; a decision on another instance; a new agent process resumes the
// run, the tool runs exactly once and the answer reaches the thread. And two resumer processes
// racing on every decision resume each run once. Counts: HITL_RESUME_REPETITIONS (default 10) and
// HITL_RESUME_RACE_DECISIONS (default 100); RELIABILITY.md has the full runs (100 and 500).
import { createManager } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { createTestPool, databaseUrl, usePostgresSchema } from '@hitl/test-kit/postgres';
import { waitUntil } from '@hitl/test-kit';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from './durable-resume/processes.js';
import type { ChildAgent } from './durable-resume/processes.js';

const repetitions = Number(process.env.HITL_RESUME_REPETITIONS ?? 10);
const raceDecisions = Number(process.env.HITL_RESUME_RACE_DECISIONS ?? 100);
const agentScript = new URL('./durable-resume/langgraph-agent.mjs', import.meta.url);

const database = usePostgresSchema('hitl_resume_lc');
const { schema } = database;
const pool = createTestPool('hitl-resume-test', { max: 8 });
const store = createPostgresStore({ pool, schema, sweepIntervalMs: Infinity });
const reviewers = createManager({ store, policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }], timeoutMs: Infinity });
const checkpointer = new PostgresSaver(pool, undefined, { schema });
const children: ChildAgent[] = [];

function agentProcess(env: Record<string, string>): ChildAgent {
  const child = startChild(agentScript, { DATABASE_URL: databaseUrl, HITL_SCHEMA: schema, ...env });
  children.push(child);
  return child;
}

beforeAll(async () => {
  await database.admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await database.admin.query(`CREATE TABLE "${schema}".tool_runs (user_id text NOT NULL, pid integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  await store.migrate();
  await checkpointer.setup();
});

afterAll(async () => {
  await Promise.all(children.map((child) => child.kill()));
  await reviewers.close();
  await store.close();
  await pool.end();
});

/** How many times the tool ran for each user id. */
async function runsByUser(prefix: string): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ user_id: string; runs: number }>(
    `SELECT user_id, count(*)::int AS runs FROM "${schema}".tool_runs WHERE user_id LIKE $1 GROUP BY user_id`,
    [`${prefix}%`],
  );
  return new Map(rows.map((row) => [row.user_id, row.runs]));
}

/** The thread's last message, as the checkpointer holds it. */
async function finalMessage(threadId: string): Promise<{ content: unknown; tool_calls?: unknown[] } | undefined> {
  const tuple = await checkpointer.getTuple({ configurable: { thread_id: threadId } });
  const messages = (tuple?.checkpoint.channel_values as { messages?: { content: unknown; tool_calls?: unknown[] }[] } | undefined)?.messages;
  return messages?.at(-1);
}

describe('a paused LangChain run survives its process and resumes exactly once', () => {
  it(`crash, decide elsewhere, resume in a new process: ${repetitions} repetitions, 0 lost, 0 doubled`, { timeout: 60_000 + repetitions * 20_000 }, async () => {
    let lost = 0;
    let doubled = 0;
    const resumeMs: number[] = [];
    for (let index = 0; index < repetitions; index++) {
      const userId = 1_000_000 + index;
      const paused = agentProcess({ MODE: 'pause', FIRST: String(userId), THREAD_PREFIX: 'crash' });
      const { requestId } = (await paused.next((event) => 'paused' in event, 60_000, 'the pause')) as { requestId: string };
      await paused.kill();
      // Even repetitions decide before the new process starts (its catch-up scan finds the decision),
      // odd ones after (the change feed brings it).
      let resumer: ChildAgent;
      let decidedAt: number;
      if (index % 2 === 0) {
        decidedAt = performance.now();
        await reviewers.respond(requestId, { decision: 'approve', respondedBy: 'alice' });
        resumer = agentProcess({ MODE: 'resumer' });
      } else {
        resumer = agentProcess({ MODE: 'resumer' });
        await resumer.next((event) => event.ready === true, 60_000, 'the resumer to start');
        decidedAt = performance.now();
        await reviewers.respond(requestId, { decision: 'approve', respondedBy: 'alice' });
      }
      const resumed = await resumer.next((event) => event.resumed === `crash-${userId}`, 60_000, `the resume of crash-${userId}`).catch(() => undefined);
      if (index % 2 === 1) resumeMs.push(performance.now() - decidedAt);
      await resumer.stop();
      const runs = (await runsByUser(String(userId))).get(String(userId)) ?? 0;
      if (!resumed || runs === 0) lost += 1;
      if (runs > 1) doubled += 1;
      const last = await finalMessage(`crash-${userId}`);
      expect(last?.tool_calls ?? []).toEqual([]);
      expect(String(last?.content)).toContain(`Deleted user ${userId}.`);
    }
    console.log(`durable resume (LangChain): ${repetitions} crashes, ${lost} lost, ${doubled} doubled; decision -> resumed (feed path) ms: ${resumeMs.map((ms) => ms.toFixed(0)).join(', ')}`);
    expect({ lost, doubled }).toEqual({ lost: 0, doubled: 0 });
  });

  it(`two resumer processes race on every decision: ${raceDecisions} decisions, each tool ran exactly once`, { timeout: 60_000 + raceDecisions * 1_000 }, async () => {
    const first = 2_000_000;
    const pauser = agentProcess({ MODE: 'pause-many', FIRST: String(first), COUNT: String(raceDecisions), THREAD_PREFIX: 'race' });
    await pauser.next((event) => event.done === true, 60_000 + raceDecisions * 500, 'the pauses');
    const requestIds = pauser.events.flatMap((event) => (typeof event.requestId === 'string' ? [event.requestId] : []));
    expect(requestIds).toHaveLength(raceDecisions);
    const resumers = [agentProcess({ MODE: 'resumer', OWNER: 'resumer-a' }), agentProcess({ MODE: 'resumer', OWNER: 'resumer-b' })];
    await Promise.all(resumers.map((resumer) => resumer.next((event) => event.ready === true, 60_000, 'the resumer to start')));

    for (let start = 0; start < requestIds.length; start += 16) {
      await Promise.all(requestIds.slice(start, start + 16).map((id) => reviewers.respond(id, { decision: 'approve', respondedBy: 'alice' })));
    }
    const resumedThreads = () => resumers.flatMap((resumer) => resumer.events.flatMap((event) => (typeof event.resumed === 'string' ? [event.resumed] : [])));
    await waitUntil(() => resumedThreads().length >= raceDecisions, { timeoutMs: 30_000 + raceDecisions * 500, intervalMs: 50, what: `${raceDecisions} resumes` });
    await Promise.all(resumers.map((resumer) => resumer.stop()));

    const runs = await runsByUser('2');
    const counts = [...runs.values()];
    expect(runs.size).toBe(raceDecisions);
    expect(counts.filter((count) => count !== 1)).toEqual([]);
    const threads = resumedThreads();
    expect(new Set(threads).size).toBe(threads.length);
    const byOwner = resumers.map((resumer) => resumer.events.filter((event) => typeof event.resumed === 'string').length);
    console.log(`durable resume (LangChain): ${raceDecisions} decisions raced by two resumers, resumed ${byOwner.join(' + ')}, every tool ran once`);
    const { rows } = await pool.query<{ completed: number }>(`SELECT count(*)::int AS completed FROM "${schema}".hitl_requests_resume_claims WHERE completed_at IS NOT NULL`);
    expect(rows[0]?.completed).toBeGreaterThanOrEqual(raceDecisions);
  });
});
