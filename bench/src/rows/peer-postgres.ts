// Peer row: a reviewed tool call across two instances on PostgreSQL (A runs the agent, B decides):
// LangGraph + PostgresSaver (durability 'sync') against hitl's Postgres store, with the WAL and the
// rows each writes per cycle, and where hitl's decision → tool ran time goes.
import { Command } from '@langchain/langgraph';
import pg from 'pg';
import { formatNumber, median, type BenchContext, type Row } from '../harness.js';
import { approveResume, ask, comparedVersions, createTools, fakeModel, hitlAgent, langGraphAgent, msBetween, now, ToolRuns, watchRequests } from '../peers/agents.js';
import { compareCycles, cycleFigures, describeCycles, ms, roundRatio, type CycleSetup } from '../peers/cycles.js';
import { createPeerPostgres, databaseUrl } from '../peers/postgres-setup.js';
import { enableWalInspect, flushStatistics, perCycle, readCounters, type WriteCounters } from '../peers/postgres-writes.js';

type Writes = Awaited<ReturnType<typeof perCycle>>;

/**
 * Cycles as in the in-process row, but A and B are two instances (own pools, own store or saver)
 * sharing one database. LangGraph: A's `invoke` stops at the interrupt (checkpoint written, sync
 * durability); B reads the pending interrupt (`getState`, as a reviewer UI would) and resumes with
 * `Command({ resume })`, so the tool runs on B. hitl: A's `invoke` waits in the middleware; B's
 * manager hears of the request (LISTEN/NOTIFY) and `respond`s; A wakes and runs the tool.
 *
 * hitl's stages after the decision are timed too: B's `respond` returned (its commit), the NOTIFY
 * reached a LISTEN connection on A's side, A's manager reported the decision, the tool ran.
 */
export async function peerPostgres(context: BenchContext): Promise<Row[]> {
  const versions = comparedVersions(['@langchain/langgraph-checkpoint-postgres', 'pg']);
  const setup = await createPeerPostgres();
  const { admin, hitl, langGraph } = setup;
  const probe = new pg.Client({ connectionString: databaseUrl, application_name: 'hitl-bench-peer-probe' });
  const stopWatching: (() => void)[] = [];
  try {
    await probe.connect();
    const walInspect = await enableWalInspect(admin);
    const runs = new ToolRuns();
    const tools = createTools(runs);

    // Arrival of each decision's NOTIFY on A's side, and A's manager reporting it.
    const notified = new Map<string, bigint>();
    probe.on('notification', (message) => {
      const at = now();
      try {
        const payload = JSON.parse(message.payload ?? '') as { id?: unknown; kind?: unknown };
        if (payload.kind === 'decided' && typeof payload.id === 'string' && !notified.has(payload.id)) notified.set(payload.id, at);
      } catch {
        // not a hitl payload
      }
    });
    await probe.query(`LISTEN "${setup.channel}"`);
    const reported = new Map<string, bigint>();
    stopWatching.push(
      hitl.a.manager.subscribe((event) => {
        if (event.type === 'request-decided') reported.set(event.record.request.id, now());
      }),
    );
    const reviewer = watchRequests(hitl.b.manager);
    stopWatching.push(reviewer.stop);

    const hitlAgentA = hitlAgent(fakeModel('delete_user'), tools, hitl.a.manager);
    // One conversation spans A and B: their models share the turn counter.
    const turn = { current: 0 };
    const langGraphA = langGraphAgent(fakeModel('delete_user', turn), tools, langGraph.a);
    const langGraphB = langGraphAgent(fakeModel('delete_user', turn), tools, langGraph.b);

    const writes: Record<'hitl' | 'langgraph', Writes[]> = { hitl: [], langgraph: [] };
    const measureWrites = (name: 'hitl' | 'langgraph', schema: string): Pick<CycleSetup, 'beforeRound' | 'afterRound'> => {
      let before: WriteCounters | undefined;
      return {
        async beforeRound() {
          for (const pool of setup.pools()) await flushStatistics(pool);
          before = await readCounters(admin, schema);
        },
        async afterRound(cycles) {
          for (const pool of setup.pools()) await flushStatistics(pool);
          const after = await readCounters(admin, schema);
          writes[name].push(await perCycle(admin, schema, before!, after, cycles, walInspect));
        },
      };
    };

    const setups: Record<string, CycleSetup> = {
      langgraph: {
        ...measureWrites('langgraph', setup.langGraphSchema),
        async cycle(index) {
          const thread = `lg-${index}`;
          const config = { configurable: { thread_id: thread }, durability: 'sync' };
          const started = now();
          const paused = await langGraphA.invoke(ask('delete user 42'), config);
          if (!paused.__interrupt__?.length) throw new Error('LangGraph did not interrupt before delete_user');
          const state = await langGraphB.getState({ configurable: { thread_id: thread } });
          if (!state.tasks.some((task) => task.interrupts.length > 0)) throw new Error('B does not see the interrupt A saved');
          const decided = now();
          await langGraphB.invoke(new Command({ resume: approveResume }), config);
          const finished = now();
          if (runs.count(thread) !== 1) throw new Error(`LangGraph ran delete_user ${runs.count(thread)} times`);
          const timing = { cycleMs: msBetween(started, finished), decisionToToolMs: msBetween(decided, runs.firstAt(thread)) };
          runs.forget(thread);
          return timing;
        },
      },
      hitl: {
        ...measureWrites('hitl', setup.hitlSchema),
        async cycle(index) {
          const thread = `hitl-${index}`;
          const started = now();
          const run = hitlAgentA.invoke(ask('delete user 42'), { configurable: { thread_id: thread } });
          const record = await reviewer.next(thread);
          const id = record.request.id;
          const decided = now();
          await hitl.b.manager.respond(id, { decision: 'approve', respondedBy: 'reviewer' });
          const committed = now();
          await run;
          const finished = now();
          if (runs.count(thread) !== 1) throw new Error(`hitl ran delete_user ${runs.count(thread)} times`);
          const ran = runs.firstAt(thread);
          const notifiedAt = notified.get(id);
          const reportedAt = reported.get(id);
          const stages: Record<string, number> = { RespondReturned: msBetween(decided, committed) };
          if (notifiedAt !== undefined) stages.NotifyOnA = msBetween(decided, notifiedAt);
          if (reportedAt !== undefined) stages.DecidedOnA = msBetween(decided, reportedAt);
          notified.delete(id);
          reported.delete(id);
          runs.forget(thread);
          return { cycleMs: msBetween(started, finished), decisionToToolMs: msBetween(decided, ran), stages };
        },
      },
    };
    const summary = await compareCycles(context, setups, { rounds: 7, cycles: context.smoke ? 10 : 100, warmup: context.smoke ? 2 : 20 });
    const lg = summary.langgraph!;
    const ours = summary.hitl!;
    const rateRatio = roundRatio(ours, lg);
    const p99Ratio = ours.decisionP99Ms / lg.decisionP99Ms;
    const walOf = (list: Writes[]) => median(list.map((entry) => entry.walBytes));
    const attributedOf = (list: Writes[]) => median(list.map((entry) => entry.attributedWalBytes));
    const rowsOf = (list: Writes[]) => median(list.map((entry) => entry.rows));
    // The WAL of each side's own relations and transactions when pg_walinspect is there; else pg_stat_wal.
    const hitlWal = walInspect ? attributedOf(writes.hitl) : walOf(writes.hitl);
    const lgWal = walInspect ? attributedOf(writes.langgraph) : walOf(writes.langgraph);
    const stage = (name: string) => ours.stages[name];
    const breakdown = ['RespondReturned', 'NotifyOnA', 'DecidedOnA']
      .filter((name) => stage(name))
      .map((name) => `${name} p50 ${ms(stage(name)!.p50Ms)} / p99 ${ms(stage(name)!.p99Ms)}`)
      .join(', ');
    const writesText = (list: Writes[]) =>
      `per cycle ${formatNumber(rowsOf(list), 1)} rows written, ${walInspect ? `${formatNumber(attributedOf(list), 0)} B WAL of its own (pg_walinspect), ` : ''}${formatNumber(walOf(list), 0)} B pg_stat_wal delta (cluster-wide)`;
    return [
      {
        row: 'peer: reviewed tool call across instances (PostgreSQL)',
        measured: `hitl Postgres store: ${describeCycles(ours)}; ${writesText(writes.hitl)}; after the decision: ${breakdown}`,
        baseline: `LangGraph + PostgresSaver, durability 'sync': ${describeCycles(lg)}; ${writesText(writes.langgraph)} (${versions.text})`,
        result: `${formatNumber(rateRatio, 2)}x the cycles/s, ${formatNumber(lgWal / hitlWal, 1)}x less WAL; decision → tool ran p99 ${formatNumber(p99Ratio, 2)}x LangGraph's (${ms(ours.decisionP99Ms)} vs ${ms(lg.decisionP99Ms)})`,
        target: "decision → tool ran p99 ≤ 0.5x LangGraph's (WAL and rows: medians of per-round deltas; pg_stat_wal counts other sessions too)",
        pass: p99Ratio <= 0.5,
        figures: {
          ...cycleFigures('hitl', ours),
          ...cycleFigures('langgraph', lg),
          cyclesPerSecondRatio: rateRatio,
          decisionP99Ratio: p99Ratio,
          hitlWalBytesPerCycle: hitlWal,
          langgraphWalBytesPerCycle: lgWal,
          hitlStatWalBytesPerCycle: walOf(writes.hitl),
          langgraphStatWalBytesPerCycle: walOf(writes.langgraph),
          hitlRowsPerCycle: rowsOf(writes.hitl),
          langgraphRowsPerCycle: rowsOf(writes.langgraph),
          walRatio: lgWal / hitlWal,
        },
        versions: versions.record,
      },
    ];
  } finally {
    for (const stop of stopWatching) stop();
    await probe.end().catch(() => undefined);
    await setup.close();
  }
}
