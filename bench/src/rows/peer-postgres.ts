// Peer rows: a reviewed tool call across two instances on PostgreSQL (A runs the agent, B decides):
// LangGraph + PostgresSaver (durability 'sync') against hitl's Postgres store, with the WAL and the
// rows each writes per cycle, and where hitl's decision → tool ran time goes (with notifyRecords).
import { Command } from '@langchain/langgraph';
import pg from 'pg';
import { formatNumber, median, percentile, type BenchContext, type Row } from '../harness.js';
import {
  approveResume,
  ask,
  comparedVersions,
  createTools,
  fakeModel,
  hitlAgent,
  langGraphAgent,
  msBetween,
  now,
  ToolRuns,
  watchRequests,
} from '../peers/agents.js';
import { compareCycles, cycleFigures, describeCycles, ms, roundRatio, type CycleSetup, type CycleSummary } from '../peers/cycles.js';
import { createPeerPostgres, databaseUrl, type HitlPair, type PeerPostgres } from '../peers/postgres-setup.js';
import { enableWalInspect, flushStatistics, perCycle, readCounters, type WriteCounters } from '../peers/postgres-writes.js';

type Writes = Awaited<ReturnType<typeof perCycle>>;
const STAGES = ['RespondReturned', 'NotifyOnA', 'DecidedOnA'] as const;

/**
 * Times each decision's NOTIFY on a LISTEN connection of its own (A's side of the wire): `expect(id,
 * decidedAt, into)` pushes the ms from the decision to the arrival into `into`, whenever it arrives
 * (with notifyRecords the tool may have run, and the cycle ended, before this connection is read).
 */
async function notificationProbe(channels: string[]) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hitl-bench-peer-probe' });
  const expected = new Map<string, { decidedAt: bigint; into: number[] }>();
  const early = new Map<string, bigint>();
  client.on('notification', (message) => {
    const at = now();
    try {
      const payload = JSON.parse(message.payload ?? '') as { id?: unknown; kind?: unknown };
      if (payload.kind !== 'decided' || typeof payload.id !== 'string') return;
      const waiting = expected.get(payload.id);
      if (!waiting) early.set(payload.id, at);
      else {
        expected.delete(payload.id);
        waiting.into.push(msBetween(waiting.decidedAt, at));
      }
    } catch {
      // not a hitl payload
    }
  });
  await client.connect();
  for (const channel of channels) await client.query(`LISTEN "${channel}"`);
  return {
    expect(id: string, decidedAt: bigint, into: number[]) {
      const at = early.get(id);
      if (at === undefined) expected.set(id, { decidedAt, into });
      else {
        early.delete(id);
        into.push(msBetween(decidedAt, at));
      }
    },
    close: () => client.end().catch(() => undefined),
  };
}

/** Rows and WAL per cycle of each round, read around it. */
function writeMeter(setup: PeerPostgres, walInspect: boolean) {
  const perRound: Record<string, Writes[]> = {};
  const around = (name: string, schema: string): Pick<CycleSetup, 'beforeRound' | 'afterRound'> => {
    let before: WriteCounters | undefined;
    return {
      async beforeRound() {
        for (const pool of setup.pools()) await flushStatistics(pool);
        before = await readCounters(setup.admin, schema);
      },
      async afterRound(cycles) {
        for (const pool of setup.pools()) await flushStatistics(pool);
        const after = await readCounters(setup.admin, schema);
        (perRound[name] ??= []).push(await perCycle(setup.admin, schema, before!, after, cycles, walInspect));
      },
    };
  };
  const of = (name: string) => {
    const list = perRound[name] ?? [];
    return {
      rows: median(list.map((entry) => entry.rows)),
      statWal: median(list.map((entry) => entry.walBytes)),
      ownWal: median(list.map((entry) => entry.attributedWalBytes)),
    };
  };
  return { around, of };
}

export async function peerPostgres(context: BenchContext): Promise<Row[]> {
  const versions = comparedVersions(['@langchain/langgraph-checkpoint-postgres', 'pg']);
  const setup = await createPeerPostgres();
  const stops: (() => unknown)[] = [];
  try {
    const walInspect = await enableWalInspect(setup.admin);
    const probe = await notificationProbe([setup.hitl.channel, setup.hitlCarried.channel]);
    stops.push(probe.close);
    const meter = writeMeter(setup, walInspect);
    const runs = new ToolRuns();
    const tools = createTools(runs);

    /**
     * hitl: A's `invoke` waits in the middleware; B's manager hears of the request (LISTEN/NOTIFY)
     * and `respond`s; A wakes and runs the tool. Stages after the decision: B's `respond` returned
     * (its commit), the NOTIFY reached A's side, A's manager reported the decision.
     */
    /** Per setup, decision → its NOTIFY on A's side, for measured rounds only (not the warm-up). */
    const notifyDelays: Record<string, number[]> = {};
    const hitlSetup = (name: string, pair: HitlPair): CycleSetup => {
      const agent = hitlAgent(fakeModel('delete_user'), tools, pair.a.manager);
      const delays = (notifyDelays[name] = [] as number[]);
      let measuring = false;
      const writes = meter.around(name, pair.schema);
      const reviewer = watchRequests(pair.b.manager);
      const reported = new Map<string, bigint>();
      stops.push(reviewer.stop);
      stops.push(
        pair.a.manager.subscribe((event) => {
          if (event.type === 'request-decided') reported.set(event.record.request.id, now());
        }),
      );
      return {
        async beforeRound() {
          measuring = true;
          await writes.beforeRound!();
        },
        afterRound: writes.afterRound!,
        async cycle(index) {
          const thread = `${name}-${index}`;
          const started = now();
          const run = agent.invoke(ask('delete user 42'), { configurable: { thread_id: thread } });
          const record = await reviewer.next(thread);
          const id = record.request.id;
          const decided = now();
          probe.expect(id, decided, measuring ? delays : []);
          await pair.b.manager.respond(id, { decision: 'approve', respondedBy: 'reviewer' });
          const committed = now();
          await run;
          const finished = now();
          if (runs.count(thread) !== 1) throw new Error(`hitl ran delete_user ${runs.count(thread)} times`);
          const stages: Record<string, number> = { RespondReturned: msBetween(decided, committed) };
          const reportedAt = reported.get(id);
          if (reportedAt !== undefined) stages.DecidedOnA = msBetween(decided, reportedAt);
          const timing = { cycleMs: msBetween(started, finished), decisionToToolMs: msBetween(decided, runs.firstAt(thread)), stages };
          reported.delete(id);
          runs.forget(thread);
          return timing;
        },
      };
    };

    // LangGraph: A's `invoke` stops at the interrupt (checkpoint written, sync durability); B reads
    // the pending interrupt (`getState`, as a reviewer UI would) and resumes with `Command`, so the
    // tool runs on B. One conversation spans A and B: their models share the turn counter.
    const turn = { current: 0 };
    const langGraphA = langGraphAgent(fakeModel('delete_user', turn), tools, setup.langGraph.a);
    const langGraphB = langGraphAgent(fakeModel('delete_user', turn), tools, setup.langGraph.b);
    const langGraphSetup: CycleSetup = {
      ...meter.around('langgraph', setup.langGraphSchema),
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
    };

    const summary = await compareCycles(
      context,
      { langgraph: langGraphSetup, hitl: hitlSetup('hitl', setup.hitl), carried: hitlSetup('carried', setup.hitlCarried) },
      { rounds: 7, cycles: context.smoke ? 10 : 100, warmup: context.smoke ? 2 : 20 },
    );
    for (const [name, delays] of Object.entries(notifyDelays)) {
      if (delays.length > 0) summary[name]!.stages.NotifyOnA = { p50Ms: percentile(delays, 50), p99Ms: percentile(delays, 99) };
    }
    return rowsOf(summary.langgraph!, summary.hitl!, summary.carried!, meter.of, walInspect, versions);
  } finally {
    for (const stop of stops) await stop();
    await setup.close();
  }
}

function stagesText(summary: CycleSummary): string {
  return STAGES.filter((name) => summary.stages[name])
    .map((name) => `${name} p50 ${ms(summary.stages[name]!.p50Ms)} / p99 ${ms(summary.stages[name]!.p99Ms)}`)
    .join(', ');
}

function rowsOf(
  lg: CycleSummary,
  ours: CycleSummary,
  carried: CycleSummary,
  writesOf: (name: string) => { rows: number; statWal: number; ownWal: number },
  walInspect: boolean,
  versions: { text: string; record: Record<string, string> },
): Row[] {
  const lgWrites = writesOf('langgraph');
  const hitlWrites = writesOf('hitl');
  // The WAL of each side's own relations and transactions when pg_walinspect is there; else pg_stat_wal.
  const walOf = (writes: { statWal: number; ownWal: number }) => (walInspect ? writes.ownWal : writes.statWal);
  const writesText = (writes: { rows: number; statWal: number; ownWal: number }) =>
    `per cycle ${formatNumber(writes.rows, 1)} rows written, ${walInspect ? `${formatNumber(writes.ownWal, 0)} B WAL of its own (pg_walinspect), ` : ''}${formatNumber(writes.statWal, 0)} B pg_stat_wal delta (cluster-wide)`;
  const rateRatio = roundRatio(ours, lg);
  const walRatio = walOf(lgWrites) / walOf(hitlWrites);
  const p99Ratio = ours.decisionP99Ms / lg.decisionP99Ms;
  const carriedP99Ratio = carried.decisionP99Ms / lg.decisionP99Ms;
  return [
    {
      row: 'peer: reviewed tool call across instances (PostgreSQL)',
      measured: `hitl Postgres store: ${describeCycles(ours)}; ${writesText(hitlWrites)}`,
      baseline: `LangGraph + PostgresSaver, durability 'sync': ${describeCycles(lg)}; ${writesText(lgWrites)} (${versions.text})`,
      result: `${formatNumber(rateRatio, 2)}x the cycles/s, ${formatNumber(walRatio, 1)}x less WAL, ${formatNumber(lgWrites.rows / hitlWrites.rows, 1)}x fewer rows; decision → tool ran p99 ${formatNumber(p99Ratio, 2)}x LangGraph's`,
      target: 'more cycles/s and less WAL than LangGraph (medians of per-round deltas; pg_stat_wal also counts other sessions)',
      pass: rateRatio > 1 && walRatio > 1,
      figures: {
        ...cycleFigures('hitl', ours),
        ...cycleFigures('langgraph', lg),
        cyclesPerSecondRatio: rateRatio,
        decisionP99Ratio: p99Ratio,
        hitlWalBytesPerCycle: walOf(hitlWrites),
        langgraphWalBytesPerCycle: walOf(lgWrites),
        hitlStatWalBytesPerCycle: hitlWrites.statWal,
        langgraphStatWalBytesPerCycle: lgWrites.statWal,
        hitlRowsPerCycle: hitlWrites.rows,
        langgraphRowsPerCycle: lgWrites.rows,
        walRatio,
      },
      versions: versions.record,
    },
    {
      row: 'peer: decision → tool ran across instances, notifyRecords (PostgreSQL)',
      measured: `hitl, notifyRecords: p50 ${ms(carried.decisionP50Ms)} / p99 ${ms(carried.decisionP99Ms)} (${stagesText(carried)}); default store: p50 ${ms(ours.decisionP50Ms)} / p99 ${ms(ours.decisionP99Ms)} (${stagesText(ours)})`,
      baseline: `LangGraph + PostgresSaver, durability 'sync' (resume on B): p50 ${ms(lg.decisionP50Ms)} / p99 ${ms(lg.decisionP99Ms)} (${versions.text})`,
      result: `p99 ${formatNumber(carriedP99Ratio, 2)}x LangGraph's with notifyRecords, ${formatNumber(p99Ratio, 2)}x with the default store`,
      target: "p99 ≤ 0.5x LangGraph's",
      pass: carriedP99Ratio <= 0.5,
      figures: {
        ...cycleFigures('carried', carried),
        carriedDecisionP99Ratio: carriedP99Ratio,
        hitlDecisionP99Ratio: p99Ratio,
        langgraphDecisionToToolP99Ms: lg.decisionP99Ms,
      },
      versions: versions.record,
    },
  ];
}
