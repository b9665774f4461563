// `pnpm --filter @hitl/bench report`: regenerates BENCHMARKS.md and the README's figures from bench/results.json.
import { readResults, writeReports } from './report-files.js';

writeReports(readResults());
console.error('BENCHMARKS.md and the README figures regenerated from bench/results.json');
