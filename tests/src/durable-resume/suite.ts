// The durable-resume properties, for any adapter's agent process script: a paused run survives a
// SIGKILL and a new process resumes it exactly once after a decision made on another instance; two
// resumer processes racing on every decision resume each run once. Counts: HITL_RESUME_REPETITIONS
// (default 10) and HITL_RESUME_RACE_DECISIONS (default 100); RELIABILITY.md has the full runs.
import { createManager } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { waitUntil } from '@hitl/test-kit';
import { createTestPool, databaseUrl, usePostgresSchema } from '@hitl/test-kit/postgres';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChild } from './processes.js';
import type { ChildAgent } from './processes.js';

export const repetitions = Number(process.env.HITL_RESUME_REPETITIONS ?? 10);
export const raceDecisions = Number(process.env.HITL_RESUME_RACE_DECISIONS ?? 100);

export interface DurableResumeSuite {
  /** What is paused: 'LangChain run', 'AI SDK conversation'. */
  subject: string;
  script: URL;
  schemaPrefix: string;
  /** Creates what the script needs beyond hitl's table and `tool_runs` (a checkpointer's tables, a conversations table). */
  prepare(context: { admin: pg.Client; pool: pg.Pool; schema: string }): Promise<void>;
  /** The final answer the thread holds, or undefined when it holds none. */
  finalAnswer(context: { pool: pg.Pool; schema: string }, threadId: string): Promise<string | undefined>;
  /** Extra environment of the resumer of repetition `index` (or of racer `index`). */
  resumerEnv?(index: number): Record<string, string>;
}

export function describeDurableResume(suite: DurableResumeSuite): void {
  const database = usePostgresSchema(suite.schemaPrefix);
  const { schema } = database;
  const pool = createTestPool(`${suite.schemaPrefix}-test`, { max: 8 });
  const store = createPostgresStore({ pool, schema, sweepIntervalMs: Infinity });
  const reviewers = createManager({
    store,
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
    timeoutMs: Infinity,
  });
  const children: ChildAgent[] = [];

  const agentProcess = (env: Record<string, string>): ChildAgent => {
    const child = startChild(suite.script, { DATABASE_URL: databaseUrl, HITL_SCHEMA: schema, ...env });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    // The store creates the schema (the reviewers' manager already started its migrations).
    await store.migrate();
    await database.admin.query(
      `CREATE TABLE "${schema}".tool_runs (user_id text NOT NULL, pid integer NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await suite.prepare({ admin: database.admin, pool, schema });
  });

  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill()));
    await reviewers.close();
    await store.close();
    await pool.end();
  });

  /** How many times the tool ran for each user id starting with `prefix`. */
  const runsByUser = async (prefix: string): Promise<Map<string, number>> => {
    const { rows } = await pool.query<{ user_id: string; runs: number }>(
      `SELECT user_id, count(*)::int AS runs FROM "${schema}".tool_runs WHERE user_id LIKE $1 GROUP BY user_id`,
      [`${prefix}%`],
    );
    return new Map(rows.map((row) => [row.user_id, row.runs]));
  };

  describe(`a paused ${suite.subject} survives its process and resumes exactly once`, () => {
    it(
      `crash, decide elsewhere, resume in a new process: ${repetitions} repetitions, 0 lost, 0 doubled`,
      { timeout: 60_000 + repetitions * 20_000 },
      async () => {
        let lost = 0;
        let doubled = 0;
        const missingAnswers: string[] = [];
        for (let index = 0; index < repetitions; index++) {
          const userId = String(1_000_000 + index);
          const threadId = `crash-${userId}`;
          const paused = agentProcess({ MODE: 'pause', FIRST: userId, THREAD_PREFIX: 'crash' });
          const { requestId } = (await paused.next((event) => 'paused' in event, 60_000, 'the pause')) as { requestId: string };
          await paused.kill();
          // Even repetitions decide before the new process starts (its catch-up scan finds the
          // decision), odd ones after it started (the change feed brings it).
          const env = { MODE: 'resumer', ...suite.resumerEnv?.(index) };
          let resumer: ChildAgent;
          if (index % 2 === 0) {
            await reviewers.respond(requestId, { decision: 'approve', respondedBy: 'alice' });
            resumer = agentProcess(env);
          } else {
            resumer = agentProcess(env);
            await resumer.next((event) => event.ready === true, 60_000, 'the resumer to start');
            await reviewers.respond(requestId, { decision: 'approve', respondedBy: 'alice' });
          }
          const resumed = await resumer
            .next((event) => event.resumed === threadId, 60_000, `the resume of ${threadId}`)
            .catch(() => undefined);
          await resumer.stop();
          const runs = (await runsByUser(userId)).get(userId) ?? 0;
          if (!resumed || runs === 0) lost += 1;
          if (runs > 1) doubled += 1;
          const answer = await suite.finalAnswer({ pool, schema }, threadId);
          if (!answer?.includes(userId)) missingAnswers.push(threadId);
        }
        console.log(`durable resume (${suite.subject}): ${repetitions} crashes, ${lost} lost, ${doubled} doubled`);
        expect({ lost, doubled, missingAnswers }).toEqual({ lost: 0, doubled: 0, missingAnswers: [] });
      },
    );

    it(
      `two resumer processes race on every decision: ${raceDecisions} decisions, each tool ran exactly once`,
      { timeout: 60_000 + raceDecisions * 1_000 },
      async () => {
        const first = 2_000_000;
        const pauser = agentProcess({ MODE: 'pause-many', FIRST: String(first), COUNT: String(raceDecisions), THREAD_PREFIX: 'race' });
        await pauser.next((event) => event.done === true, 60_000 + raceDecisions * 500, 'the pauses');
        const requestIds = pauser.events.flatMap((event) => (typeof event.requestId === 'string' ? [event.requestId] : []));
        expect(requestIds).toHaveLength(raceDecisions);
        const resumers = [0, 1].map((index) => agentProcess({ MODE: 'resumer', OWNER: `resumer-${index}`, ...suite.resumerEnv?.(index) }));
        await Promise.all(resumers.map((resumer) => resumer.next((event) => event.ready === true, 60_000, 'the resumer to start')));

        const started = performance.now();
        for (let start = 0; start < requestIds.length; start += 16) {
          await Promise.all(
            requestIds.slice(start, start + 16).map((id) => reviewers.respond(id, { decision: 'approve', respondedBy: 'alice' })),
          );
        }
        const resumedThreads = () =>
          resumers.flatMap((resumer) => resumer.events.flatMap((event) => (typeof event.resumed === 'string' ? [event.resumed] : [])));
        await waitUntil(() => resumedThreads().length >= raceDecisions, {
          timeoutMs: 30_000 + raceDecisions * 500,
          intervalMs: 50,
          what: `${raceDecisions} resumes`,
        });
        const seconds = (performance.now() - started) / 1_000;
        await Promise.all(resumers.map((resumer) => resumer.stop()));

        const runs = await runsByUser('2');
        expect(runs.size).toBe(raceDecisions);
        expect([...runs.entries()].filter(([, count]) => count !== 1)).toEqual([]);
        const threads = resumedThreads();
        expect(new Set(threads).size).toBe(threads.length);
        const byResumer = resumers.map((resumer) => resumer.events.filter((event) => typeof event.resumed === 'string').length);
        console.log(
          `durable resume (${suite.subject}): ${raceDecisions} decisions raced by two resumers, resumed ${byResumer.join(' + ')} in ${seconds.toFixed(1)} s, every tool ran once`,
        );
        const answers = await Promise.all(requestIds.map((_, index) => suite.finalAnswer({ pool, schema }, `race-${first + index}`)));
        expect(answers.filter((answer, index) => !answer?.includes(String(first + index)))).toEqual([]);
      },
    );
  });
}
