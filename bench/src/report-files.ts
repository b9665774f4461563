// Where the generated reports live: bench/results.json, BENCHMARKS.md and the root README's block.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderBenchmarks, renderReadmeBlock, replaceReadmeBlock, type BenchResults } from './report.js';

const root = new URL('../../', import.meta.url);
export const resultsFile = new URL('bench/results.json', root);
export const benchmarksFile = new URL('BENCHMARKS.md', root);
export const readmeFile = new URL('README.md', root);

export function readResults(): BenchResults {
  return JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;
}

export function writeResults(results: BenchResults): void {
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
}

/** What BENCHMARKS.md and README.md must hold for `results`. */
export function expectedReports(results: BenchResults): { benchmarks: string; readme: string } {
  return {
    benchmarks: renderBenchmarks(results),
    readme: replaceReadmeBlock(readFileSync(readmeFile, 'utf8'), renderReadmeBlock(results)),
  };
}

/** Regenerates BENCHMARKS.md and the README's block from `results`. */
export function writeReports(results: BenchResults): void {
  const { benchmarks, readme } = expectedReports(results);
  writeFileSync(benchmarksFile, benchmarks);
  writeFileSync(readmeFile, readme);
}
