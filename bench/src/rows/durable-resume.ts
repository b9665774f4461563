// Durable resume: decision → tool ran on another instance, for a LangChain run paused on
// PostgresSaver whose agent instance is gone; and full pause → decide → resume cycles per second.
// Baseline in the same run: LangGraph + PostgresSaver (humanInTheLoopMiddleware, durability 'sync'),
// paused on one instance and resumed with Command on another, with no claim.
import { createManager, type Manager } from '@hitl/core';
import { approvalMiddleware, createResumer } from '@hitl/langchain/middleware';
import { createPostgresStore, type PostgresStore } from '@hitl/store-postgres';
import { Command } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createAgent, createMiddleware, FakeToolCallingModel, HumanMessage, humanInTheLoopMiddleware, ToolMessage, tool } from 'langchain';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { formatNumber, percentile, type BenchContext, type Row } from '../harness.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const policies = [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }];
const sync = { durability: 'sync' as const };

/** Waiters for "the tool ran for this user", resolved by the tool body with the instant it ran. */
const toolRan = new Map<string, (at: bigint) => void>();
const ranFor = (userId: string) => new Promise<bigint>((resolve) => toolRan.set(userId, resolve));
const deleteUser = tool(
  async ({ user_id }: { user_id: string }) => {
    toolRan.get(user_id)?.(process.hrtime.bigint());
    return `Deleted user ${user_id}.`;
  },
  { name: 'delete_user', description: 'Delete a user account', schema: z.object({ user_id: z.string() }) },
);

// One scripted model per call, from the conversation: delete the user named, then answer.
const script = createMiddleware({
  name: 'ScriptedModel',
  wrapModelCall: (request, handler) => {
    const userId = String(request.messages.find((message) => HumanMessage.isInstance(message))?.content ?? '').replace(/\D/g, '');
    const toolCalls = request.messages.some((message) => ToolMessage.isInstance(message))
      ? [[]]
      : [[{ name: 'delete_user', args: { user_id: userId }, id: `call-${userId}` }]];
    return handler({ ...request, model: new FakeToolCallingModel({ toolCalls }) });
  },
});

interface Instance {
  pool: pg.Pool;
  store: PostgresStore;
  manager: Manager;
  agent: ReturnType<typeof hitlAgent>;
}

function hitlAgent(manager: Manager, checkpointer: PostgresSaver) {
  return createAgent({
    model: new FakeToolCallingModel({ toolCalls: [[]] }),
    tools: [deleteUser],
    checkpointer,
    middleware: [script, approvalMiddleware({ manager, riskLevel: 'irreversible', confidence: 0.9, durable: true })],
  });
}

function startInstance(schema: string, name: string): Instance {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: `hitl-bench-resume-${name}`, max: 8 });
  pool.on('error', () => undefined);
  const store = createPostgresStore({ pool, schema, logger: quiet, sweepIntervalMs: Infinity });
  const manager = createManager({ store, logger: quiet, timeoutMs: Infinity, policies });
  return { pool, store, manager, agent: hitlAgent(manager, new PostgresSaver(pool, undefined, { schema })) };
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.manager.close();
  await instance.store.close();
  await instance.pool.end();
}

const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
const message = (userId: string) => ({ messages: [new HumanMessage(`delete user ${userId}`)] });

async function pauseOn(instance: Instance, userId: string): Promise<string> {
  const result = await instance.agent.invoke(message(userId), { configurable: { thread_id: `t-${userId}` }, ...sync });
  const requestId = (result.__interrupt__?.[0]?.value as { hitlRequestId?: string } | undefined)?.hitlRequestId;
  if (!requestId) throw new Error(`thread t-${userId} did not pause`);
  return requestId;
}

/** Runs `count` jobs, `concurrency` at a time; resolves with the jobs per second. */
async function rate(count: number, concurrency: number, job: (index: number) => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await job(next++);
    }),
  );
  return count / (ms(started, process.hrtime.bigint()) / 1_000);
}

export async function durableResume(context: BenchContext): Promise<Row[]> {
  const schema = `hitl_bench_resume_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const rounds = context.smoke ? 6 : 100;
  const cycles = context.smoke ? 8 : 100;
  try {
    const resumerInstance = startInstance(schema, 'resumer');
    const reviewer = startInstance(schema, 'reviewer');
    await resumerInstance.store.migrate();
    await new PostgresSaver(resumerInstance.pool, undefined, { schema }).setup();
    const resumer = createResumer({
      manager: resumerInstance.manager,
      store: resumerInstance.store,
      agent: resumerInstance.agent,
      config: () => sync,
      logger: quiet,
    });
    await resumer.start();

    // Latency: runs paused by an instance that is then gone; each decision on the reviewer's
    // instance, the tool on the resumer's.
    const crashed = startInstance(schema, 'crashed');
    const paused: [string, string][] = [];
    for (let index = 0; index < rounds; index++) paused.push([`1${index}`, await pauseOn(crashed, `1${index}`)]);
    await stopInstance(crashed);
    const latencies: number[] = [];
    for (const [userId, requestId] of paused) {
      const ran = ranFor(userId);
      const decided = process.hrtime.bigint();
      await reviewer.manager.respond(requestId, { decision: 'approve', respondedBy: 'bench' });
      latencies.push(ms(decided, await ran));
    }
    await resumer.idle();

    // Cycles: pause on an agent instance, decide on the reviewer's, the resumer runs the tool; 8 at once.
    const agentInstance = startInstance(schema, 'agent');
    const hitlCycles = await rate(cycles, 8, async (index) => {
      const userId = `2${index}`;
      const ran = ranFor(userId);
      const requestId = await pauseOn(agentInstance, userId);
      await reviewer.manager.respond(requestId, { decision: 'approve', respondedBy: 'bench' });
      await ran;
    });
    await resumer.idle();
    await resumer.close();
    await Promise.all([stopInstance(agentInstance), stopInstance(reviewer), stopInstance(resumerInstance)]);

    // Baseline: LangGraph + PostgresSaver across instances: A pauses the run, B (its own pool and
    // agent, as another process would have) resumes it with Command; durability 'sync' on both.
    await admin.query(`CREATE SCHEMA "${schema}_lg"`);
    const lgInstance = (name: string) => {
      const pool = new pg.Pool({ connectionString: databaseUrl, application_name: `hitl-bench-resume-langgraph-${name}`, max: 8 });
      pool.on('error', () => undefined);
      const checkpointer = new PostgresSaver(pool, undefined, { schema: `${schema}_lg` });
      const agent = createAgent({
        model: new FakeToolCallingModel({ toolCalls: [[]] }),
        tools: [deleteUser],
        checkpointer,
        middleware: [script, humanInTheLoopMiddleware({ interruptOn: { delete_user: { allowedDecisions: ['approve', 'reject'] } } })],
      });
      return { pool, checkpointer, agent };
    };
    const lgPause = async (on: ReturnType<typeof lgInstance>, userId: string) => {
      const result = await on.agent.invoke(message(userId), { configurable: { thread_id: `lg-${userId}` }, ...sync });
      const id = result.__interrupt__?.[0]?.id;
      if (!id) throw new Error(`LangGraph thread lg-${userId} did not pause`);
      return id;
    };
    const lgResume = (on: ReturnType<typeof lgInstance>, userId: string, interruptId: string) =>
      on.agent.invoke(new Command({ resume: { [interruptId]: { decisions: [{ type: 'approve' }] } } }), {
        configurable: { thread_id: `lg-${userId}` },
        ...sync,
      });
    const lgCrashed = lgInstance('crashed');
    await lgCrashed.checkpointer.setup();
    const lgPaused: [string, string][] = [];
    for (let index = 0; index < rounds; index++) lgPaused.push([`3${index}`, await lgPause(lgCrashed, `3${index}`)]);
    await lgCrashed.pool.end();
    const lgB = lgInstance('b');
    const lgLatencies: number[] = [];
    for (const [userId, interruptId] of lgPaused) {
      const ran = ranFor(userId);
      const decided = process.hrtime.bigint();
      const resumed = lgResume(lgB, userId, interruptId);
      lgLatencies.push(ms(decided, await ran));
      await resumed;
    }
    // Like the hitl cycle, a cycle ends when the tool ran; the rest of the resumed run overlaps the next cycle.
    const lgA = lgInstance('a');
    const tails: Promise<unknown>[] = [];
    const lgCycles = await rate(cycles, 8, async (index) => {
      const userId = `4${index}`;
      const ran = ranFor(userId);
      tails.push(lgResume(lgB, userId, await lgPause(lgA, userId)));
      await ran;
    });
    await Promise.all(tails);
    await Promise.all([lgA.pool.end(), lgB.pool.end()]);

    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const lgP50 = percentile(lgLatencies, 50);
    const lgP99 = percentile(lgLatencies, 99);
    return [
      {
        row: 'durable resume: decision → tool ran, cross-instance, after a crash (LangChain, PostgresSaver)',
        measured: `p50 ${formatNumber(p50, 1)} ms, p99 ${formatNumber(p99, 1)} ms (${latencies.length} decisions; decided on one instance, resumed by another's resumer)`,
        baseline: `LangGraph + PostgresSaver, durability 'sync', paused on A, A gone, resumed with Command on B (no claim): p50 ${formatNumber(lgP50, 1)} ms, p99 ${formatNumber(lgP99, 1)} ms`,
        result: `p99 ${formatNumber(p99 / lgP99, 2)}x LangGraph's`,
        target: "p99 ≤ LangGraph's",
        pass: p99 <= lgP99,
        figures: { p50Ms: p50, p99Ms: p99, langGraphP50Ms: lgP50, langGraphP99Ms: lgP99 },
      },
      {
        row: 'durable resume: pause → decide → resume cycles/s, 8 at once (3 instances, PostgreSQL)',
        measured: `${formatNumber(hitlCycles, 1)} cycles/s`,
        baseline: `LangGraph + PostgresSaver, paused on A, resumed on B: ${formatNumber(lgCycles, 1)} cycles/s`,
        result: `${formatNumber(hitlCycles / lgCycles, 2)}x LangGraph's`,
        target: "≥ 2x LangGraph's",
        pass: hitlCycles >= 2 * lgCycles,
        figures: { cyclesPerSecond: hitlCycles, langGraphCyclesPerSecond: lgCycles },
      },
    ];
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}_lg" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}
