// Peer row: a reviewed tool call in one process, LangGraph's interrupt + Command resume (MemorySaver)
// against hitl's approvalMiddleware with the memory store.
import { Command, MemorySaver } from '@langchain/langgraph';
import { formatNumber, type BenchContext, type Row } from '../harness.js';
import {
  approveResume,
  ask,
  comparedVersions,
  createPeerManager,
  createTools,
  fakeModel,
  hitlAgent,
  langGraphAgent,
  msBetween,
  now,
  ToolRuns,
  watchRequests,
} from '../peers/agents.js';
import { compareCycles, cycleFigures, describeCycles, ms, roundRatio, type CycleSetup } from '../peers/cycles.js';

/**
 * A cycle: the agent's model asks for `delete_user`, a reviewer approves as soon as it sees the
 * request, the tool runs, the agent finishes. LangGraph: `invoke` returns the interrupt, the reviewer
 * resumes with `Command({ resume })`. hitl: `invoke` waits in the middleware, the reviewer sees
 * `request-created` and calls `respond`. "Decision → tool ran" starts when the reviewer's decision is
 * handed over (the resume call / the respond call).
 */
export async function peerReviewed(context: BenchContext): Promise<Row[]> {
  const versions = comparedVersions();
  const runs = new ToolRuns();
  const tools = createTools(runs);
  const manager = createPeerManager();
  const reviewer = watchRequests(manager);
  const langGraph = langGraphAgent(fakeModel('delete_user'), tools, new MemorySaver());
  const hitl = hitlAgent(fakeModel('delete_user'), tools, manager);

  const setups: Record<string, CycleSetup> = {
    langgraph: {
      async cycle(index) {
        const config = { configurable: { thread_id: `lg-${index}` } };
        const started = now();
        const paused = await langGraph.invoke(ask('delete user 42'), config);
        if (!paused.__interrupt__?.length) throw new Error('LangGraph did not interrupt before delete_user');
        const decided = now();
        await langGraph.invoke(new Command({ resume: approveResume }), config);
        const finished = now();
        const thread = config.configurable.thread_id;
        if (runs.count(thread) !== 1) throw new Error(`LangGraph ran delete_user ${runs.count(thread)} times`);
        const timing = { cycleMs: msBetween(started, finished), decisionToToolMs: msBetween(decided, runs.firstAt(thread)) };
        runs.forget(thread);
        return timing;
      },
    },
    hitl: {
      async cycle(index) {
        const thread = `hitl-${index}`;
        const started = now();
        const run = hitl.invoke(ask('delete user 42'), { configurable: { thread_id: thread } });
        const record = await reviewer.next(thread);
        const decided = now();
        await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'reviewer' });
        await run;
        const finished = now();
        if (runs.count(thread) !== 1) throw new Error(`hitl ran delete_user ${runs.count(thread)} times`);
        const timing = { cycleMs: msBetween(started, finished), decisionToToolMs: msBetween(decided, runs.firstAt(thread)) };
        runs.forget(thread);
        return timing;
      },
    },
  };
  const summary = await compareCycles(context, setups, { rounds: 7, cycles: context.smoke ? 15 : 150, warmup: context.smoke ? 3 : 30 });
  reviewer.stop();
  await manager.close();
  const lg = summary.langgraph!;
  const ours = summary.hitl!;
  const rateRatio = roundRatio(ours, lg);
  const decisionRatio = ours.decisionP50Ms / lg.decisionP50Ms;
  const p99Ratio = ours.decisionP99Ms / lg.decisionP99Ms;
  return [
    {
      row: 'peer: reviewed tool call in process',
      measured: `hitl approvalMiddleware, memory store: ${describeCycles(ours)}`,
      baseline: `LangGraph interrupt + Command resume, MemorySaver: ${describeCycles(lg)} (${versions.text})`,
      result: `${formatNumber(rateRatio, 2)}x the cycles/s; decision → tool ran ${formatNumber(1 / decisionRatio, 1)}x sooner (p50 ${ms(ours.decisionP50Ms)} vs ${ms(lg.decisionP50Ms)}), p99 ${formatNumber(p99Ratio, 2)}x LangGraph's`,
      target: 'more cycles/s than LangGraph; decision → tool ran p99 below LangGraph',
      pass: rateRatio > 1 && p99Ratio < 1,
      figures: {
        ...cycleFigures('hitl', ours),
        ...cycleFigures('langgraph', lg),
        cyclesPerSecondRatio: rateRatio,
        decisionP50Ratio: decisionRatio,
        decisionP99Ratio: p99Ratio,
      },
      versions: versions.record,
    },
  ];
}
