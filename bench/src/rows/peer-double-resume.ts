// Peer correctness row: two resumers deliver the same approval at once (a double-clicked Approve, a
// retried webhook, two instances). LangGraph resumes the graph twice; hitl records one decision.
import { Command, MemorySaver } from '@langchain/langgraph';
import type { Manager } from '@hitl/core';
import type { BenchContext, Row } from '../harness.js';
import {
  approveResume,
  ask,
  comparedVersions,
  createPeerManager,
  createTools,
  fakeModel,
  hitlAgent,
  langGraphAgent,
  ToolRuns,
  watchRequests,
  type PeerAgent,
} from '../peers/agents.js';
import { createPeerPostgres } from '../peers/postgres-setup.js';

interface RaceCount {
  trials: number;
  /** Trials where the tool ran more than once. */
  twice: number;
  /** Resumes (LangGraph) or decisions (hitl) that were accepted, over all trials. */
  accepted: number;
}

/** LangGraph: the agent stops at the interrupt, then two `Command({ resume })` calls race on the thread. */
async function langGraphRace(
  first: PeerAgent,
  resumers: [PeerAgent, PeerAgent],
  runs: ToolRuns,
  trials: number,
  label: string,
): Promise<RaceCount> {
  const count: RaceCount = { trials, twice: 0, accepted: 0 };
  for (let trial = 0; trial < trials; trial++) {
    const thread = `${label}-${trial}`;
    const config = { configurable: { thread_id: thread }, durability: 'sync' };
    const paused = await first.invoke(ask('delete user 42'), config);
    if (!paused.__interrupt__?.length) throw new Error('LangGraph did not interrupt before delete_user');
    const results = await Promise.allSettled(resumers.map((agent) => agent.invoke(new Command({ resume: approveResume }), config)));
    count.accepted += results.filter((result) => result.status === 'fulfilled').length;
    if (runs.count(thread) === 0) throw new Error('neither LangGraph resume ran delete_user');
    if (runs.count(thread) > 1) count.twice++;
    runs.forget(thread);
  }
  return count;
}

/** hitl: the agent waits in the middleware, then two `respond` calls (one per manager given) race on the request. */
async function hitlRace(
  agent: PeerAgent,
  watched: Manager,
  deciders: [Manager, Manager],
  runs: ToolRuns,
  trials: number,
  label: string,
): Promise<RaceCount> {
  const count: RaceCount = { trials, twice: 0, accepted: 0 };
  const reviewer = watchRequests(watched);
  try {
    for (let trial = 0; trial < trials; trial++) {
      const thread = `${label}-${trial}`;
      const run = agent.invoke(ask('delete user 42'), { configurable: { thread_id: thread } });
      const record = await reviewer.next(thread);
      const results = await Promise.allSettled(
        deciders.map((manager, which) => manager.respond(record.request.id, { decision: 'approve', respondedBy: `reviewer-${which}` })),
      );
      await run;
      count.accepted += results.filter((result) => result.status === 'fulfilled').length;
      if (runs.count(thread) === 0) throw new Error('hitl never ran delete_user');
      if (runs.count(thread) > 1) count.twice++;
      runs.forget(thread);
    }
  } finally {
    reviewer.stop();
  }
  return count;
}

const describe = (count: RaceCount) =>
  `twice in ${count.twice}/${count.trials} trials (${count.accepted} of ${count.trials * 2} resumes accepted)`;

export async function peerDoubleResume(context: BenchContext): Promise<Row[]> {
  const versions = comparedVersions(['@langchain/langgraph-checkpoint-postgres']);
  const trials = context.smoke ? 3 : 30;
  const runs = new ToolRuns();
  const tools = createTools(runs);

  // In one process: MemorySaver / the memory store.
  const langGraphMemory = langGraphAgent(fakeModel('delete_user'), tools, new MemorySaver());
  const memoryLangGraph = await langGraphRace(langGraphMemory, [langGraphMemory, langGraphMemory], runs, trials, 'lg-memory');
  const manager = createPeerManager();
  const memoryHitl = await hitlRace(
    hitlAgent(fakeModel('delete_user'), tools, manager),
    manager,
    [manager, manager],
    runs,
    trials,
    'hitl-memory',
  );
  await manager.close();

  // Two instances on PostgreSQL: A runs the agent, A and B both resume.
  const setup = await createPeerPostgres();
  let postgresLangGraph: RaceCount;
  let postgresHitl: RaceCount;
  try {
    const turn = { current: 0 };
    const langGraphA = langGraphAgent(fakeModel('delete_user', turn), tools, setup.langGraph.a);
    const langGraphB = langGraphAgent(fakeModel('delete_user', turn), tools, setup.langGraph.b);
    postgresLangGraph = await langGraphRace(langGraphA, [langGraphA, langGraphB], runs, trials, 'lg-postgres');
    const { a, b } = setup.hitl;
    postgresHitl = await hitlRace(
      hitlAgent(fakeModel('delete_user'), tools, a.manager),
      b.manager,
      [a.manager, b.manager],
      runs,
      trials,
      'hitl-postgres',
    );
  } finally {
    await setup.close();
  }
  const hitlTwice = memoryHitl.twice + postgresHitl.twice;
  const langGraphTwice = memoryLangGraph.twice + postgresLangGraph.twice;
  return [
    {
      row: 'peer: double resume (two resumers on one approval)',
      measured: `hitl: the tool ran ${describe(memoryHitl)} in process; ${describe(postgresHitl)} on PostgreSQL`,
      baseline: `LangGraph Command resume: ${describe(memoryLangGraph)} with MemorySaver; ${describe(postgresLangGraph)} with PostgresSaver (${versions.text})`,
      result: `tool ran twice: hitl ${hitlTwice}/${trials * 2}, LangGraph ${langGraphTwice}/${trials * 2}`,
      target: 'hitl: never twice',
      pass: hitlTwice === 0,
      figures: {
        trials,
        hitlMemoryTwice: memoryHitl.twice,
        hitlPostgresTwice: postgresHitl.twice,
        langgraphMemoryTwice: memoryLangGraph.twice,
        langgraphPostgresTwice: postgresLangGraph.twice,
        hitlAccepted: memoryHitl.accepted + postgresHitl.accepted,
        langgraphAccepted: memoryLangGraph.accepted + postgresLangGraph.accepted,
      },
      versions: versions.record,
    },
  ];
}
