// The bench harness: the result row type, side-by-side measuring in alternating rounds, percentiles and number formats.
import { Bench } from 'tinybench';

/** How hard a benchmark works: `smoke` only proves it still runs. */
export interface BenchContext {
  smoke: boolean;
  log(message: string): void;
}

/** One line of the results table. */
export interface Row {
  /** Table row, e.g. `policy evaluate, 100 policies`. */
  row: string;
  measured: string;
  baseline: string;
  /** The figure the target is about, in words: `22.1x faster`, `+1.2 µs median`. */
  result: string;
  target: string;
  /** Undefined when the row only reports. */
  pass?: boolean;
  /** Raw figures for results.json. */
  figures: Record<string, number>;
  /** The installed versions of the peers the row compares with. */
  versions?: Record<string, string>;
  /** The suite that measured it (set by run.ts). */
  suite?: string;
}

export interface LatencyStats {
  medianUs: number;
  p99Us: number;
  opsPerSecond: number;
  samples: number;
}

/**
 * Measures tasks side by side with tinybench, in several rounds, alternating their order, and
 * returns per task the statistics of every round (so a row can take per-round differences).
 */
export async function compareRounds(
  context: BenchContext,
  tasks: Record<string, () => unknown>,
  { rounds = 5, timeMs = 400, async = false }: { rounds?: number; timeMs?: number; async?: boolean } = {},
): Promise<Record<string, LatencyStats[]>> {
  const actualRounds = context.smoke ? 1 : rounds;
  const time = context.smoke ? 20 : timeMs;
  const perTask: Record<string, LatencyStats[]> = {};
  const names = Object.keys(tasks);
  for (let round = 0; round < actualRounds; round++) {
    const bench = new Bench({ time, warmupTime: context.smoke ? 5 : 100, iterations: 10 });
    const order = round % 2 === 0 ? names : [...names].reverse();
    // `async: true` spares tinybench its detection call, which would run an async task once unawaited.
    for (const name of order) bench.add(name, tasks[name] as () => unknown, async ? { async: true } : {});
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result as {
        state: string;
        latency?: { p50: number; p99: number; samplesCount?: number };
        throughput?: { mean: number };
        error?: unknown;
      };
      if (result.state !== 'completed' || !result.latency || !result.throughput) {
        throw new Error(`benchmark task '${task.name}' did not complete: ${String(result.error ?? result.state)}`);
      }
      (perTask[task.name] ??= []).push({
        medianUs: result.latency.p50 * 1000,
        p99Us: result.latency.p99 * 1000,
        opsPerSecond: result.throughput.mean,
        samples: result.latency.samplesCount ?? 0,
      });
    }
  }
  return perTask;
}

/**
 * Measures async tasks interleaved call by call (each iteration runs every task once, in an order
 * that rotates), so every task sees the same moments of a noisy machine; returns per task the
 * statistics of every round. For tasks of a millisecond or more, where tinybench's separate time
 * windows would each catch different noise.
 */
export async function compareInterleaved(
  context: BenchContext,
  tasks: Record<string, () => Promise<unknown>>,
  { rounds = 7, iterations = 200, warmup = 20 }: { rounds?: number; iterations?: number; warmup?: number } = {},
): Promise<Record<string, LatencyStats[]>> {
  const names = Object.keys(tasks);
  for (let index = 0; index < (context.smoke ? 2 : warmup); index++) for (const name of names) await tasks[name]!();
  const perTask: Record<string, LatencyStats[]> = {};
  const actualRounds = context.smoke ? 1 : rounds;
  const actualIterations = context.smoke ? 15 : iterations;
  for (let round = 0; round < actualRounds; round++) {
    const samples: Record<string, number[]> = {};
    for (let iteration = 0; iteration < actualIterations; iteration++) {
      for (let offset = 0; offset < names.length; offset++) {
        const name = names[(iteration + offset) % names.length]!;
        const started = process.hrtime.bigint();
        await tasks[name]!();
        (samples[name] ??= []).push(Number(process.hrtime.bigint() - started) / 1000);
      }
    }
    for (const name of names) {
      const list = samples[name]!;
      const mean = list.reduce((sum, value) => sum + value, 0) / list.length;
      (perTask[name] ??= []).push({ medianUs: median(list), p99Us: percentile(list, 99), opsPerSecond: 1e6 / mean, samples: list.length });
    }
  }
  return perTask;
}

/**
 * Measures tasks side by side with tinybench, in several rounds, alternating their order, and
 * returns per task the median over rounds of each round's median and p99 latency.
 */
export async function compareLatency(
  context: BenchContext,
  tasks: Record<string, () => unknown>,
  options: { rounds?: number; timeMs?: number; async?: boolean } = {},
): Promise<Record<string, LatencyStats>> {
  const perTask = await compareRounds(context, tasks, options);
  const summary: Record<string, LatencyStats> = {};
  for (const [name, stats] of Object.entries(perTask)) {
    summary[name] = {
      medianUs: median(stats.map((stat) => stat.medianUs)),
      p99Us: median(stats.map((stat) => stat.p99Us)),
      opsPerSecond: median(stats.map((stat) => stat.opsPerSecond)),
      samples: stats.reduce((sum, stat) => sum + stat.samples, 0),
    };
  }
  return summary;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function formatNumber(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(digits);
}

export function formatUs(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(0)} ns` : `${formatNumber(value, 2)} µs`;
}

/** Runs the garbage collector (node --expose-gc) until the heap settles and returns heapUsed. */
export async function settledHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the benchmarks with node --expose-gc');
  for (let pass = 0; pass < 4; pass++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}
