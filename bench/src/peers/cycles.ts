// Reviewed-call cycles measured in alternating rounds: per-cycle latency, decision → tool ran, and
// cycles per second, pooled so two setups that shared the machine's noise can be compared.
import { formatNumber, median, percentile, type BenchContext } from '../harness.js';
import { msBetween, now } from './agents.js';

/** One reviewed call: how long the whole cycle took and how long from the decision to the tool running. */
export interface CycleTiming {
  cycleMs: number;
  decisionToToolMs: number;
  /** Further stages (ms after the decision), for a breakdown of where the time goes. */
  stages?: Record<string, number>;
}

export interface CycleSummary {
  cyclesPerSecond: number;
  cycleP50Ms: number;
  cycleP99Ms: number;
  decisionP50Ms: number;
  decisionP99Ms: number;
  cycles: number;
  /** Per round, cycles per second (for per-round ratios). */
  roundRates: number[];
  stages: Record<string, { p50Ms: number; p99Ms: number }>;
}

/** A setup under test: `cycle(n)` runs reviewed call number `n`; `round` hooks run around each round. */
export interface CycleSetup {
  cycle(index: number): Promise<CycleTiming>;
  beforeRound?(): Promise<void>;
  afterRound?(cycles: number): Promise<void>;
}

/** A cycle that has not finished in this long has hung: the row fails instead of the run hanging. */
const CYCLE_TIMEOUT_MS = 60_000;

async function bounded(cycle: Promise<CycleTiming>, what: string): Promise<CycleTiming> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${CYCLE_TIMEOUT_MS} ms`)), CYCLE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([cycle, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs the setups one after the other in each round (order alternating), `cycles` sequential
 * cycles each, after a warm-up, and pools the timings of every round per setup.
 */
export async function compareCycles(
  context: BenchContext,
  setups: Record<string, CycleSetup>,
  { rounds, cycles, warmup }: { rounds: number; cycles: number; warmup: number },
): Promise<Record<string, CycleSummary>> {
  const names = Object.keys(setups);
  const timings: Record<string, CycleTiming[]> = {};
  const rates: Record<string, number[]> = {};
  let counter = 0;
  const run = (name: string) => {
    const index = counter++;
    return bounded(setups[name]!.cycle(index), `cycle ${index} of '${name}'`);
  };
  for (const name of names) for (let index = 0; index < warmup; index++) await run(name);
  const actualRounds = context.smoke ? 1 : rounds;
  for (let round = 0; round < actualRounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const setup = setups[name]!;
      await setup.beforeRound?.();
      const began = now();
      for (let index = 0; index < cycles; index++) (timings[name] ??= []).push(await run(name));
      (rates[name] ??= []).push(cycles / (msBetween(began, now()) / 1000));
      await setup.afterRound?.(cycles);
    }
  }
  const summary: Record<string, CycleSummary> = {};
  for (const name of names) {
    const list = timings[name] ?? [];
    const cycleMs = list.map((timing) => timing.cycleMs);
    const decisionMs = list.map((timing) => timing.decisionToToolMs);
    const stages: CycleSummary['stages'] = {};
    for (const stage of new Set(list.flatMap((timing) => Object.keys(timing.stages ?? {})))) {
      const values = list.map((timing) => timing.stages?.[stage]).filter((value): value is number => value !== undefined);
      stages[stage] = { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99) };
    }
    summary[name] = {
      cyclesPerSecond: median(rates[name] ?? []),
      cycleP50Ms: percentile(cycleMs, 50),
      cycleP99Ms: percentile(cycleMs, 99),
      decisionP50Ms: percentile(decisionMs, 50),
      decisionP99Ms: percentile(decisionMs, 99),
      cycles: list.length,
      roundRates: rates[name] ?? [],
      stages,
    };
  }
  return summary;
}

/** The median over rounds of `a`'s cycles/s divided by `b`'s in the same round. */
export function roundRatio(a: CycleSummary, b: CycleSummary): number {
  return median(a.roundRates.map((rate, round) => rate / (b.roundRates[round] ?? Number.NaN)));
}

export const ms = (value: number) => `${formatNumber(value, 2)} ms`;

/** `N cycles/s, cycle p50 X ms / p99 Y ms, decision → tool ran p50 / p99` for a row's text. */
export function describeCycles(summary: CycleSummary): string {
  return `${formatNumber(summary.cyclesPerSecond)} cycles/s, cycle p50 ${ms(summary.cycleP50Ms)} / p99 ${ms(summary.cycleP99Ms)}, decision → tool ran p50 ${ms(summary.decisionP50Ms)} / p99 ${ms(summary.decisionP99Ms)}`;
}

export function cycleFigures(prefix: string, summary: CycleSummary): Record<string, number> {
  const figures: Record<string, number> = {
    [`${prefix}CyclesPerSecond`]: summary.cyclesPerSecond,
    [`${prefix}CycleP50Ms`]: summary.cycleP50Ms,
    [`${prefix}CycleP99Ms`]: summary.cycleP99Ms,
    [`${prefix}DecisionToToolP50Ms`]: summary.decisionP50Ms,
    [`${prefix}DecisionToToolP99Ms`]: summary.decisionP99Ms,
    [`${prefix}Cycles`]: summary.cycles,
  };
  for (const [stage, stats] of Object.entries(summary.stages)) {
    figures[`${prefix}${stage}P50Ms`] = stats.p50Ms;
    figures[`${prefix}${stage}P99Ms`] = stats.p99Ms;
  }
  return figures;
}
