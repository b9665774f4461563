// BENCHMARKS.md and the root README's figures, generated from bench/results.json (never typed by
// hand): the renderers, and how a run of some suites merges into the results of the last full run.
import type { Row } from './harness.js';

/** The machine a run measured on. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  /** `SHOW server_version`; absent in results from before it was recorded. */
  postgres?: string;
}

/** When, how and where rows were measured. */
export interface RunInfo {
  date: string;
  command: string;
  machine: Machine;
}

/** A row as results.json keeps it: rows merged from a run of some suites carry that run. */
export interface ResultRow extends Row {
  run?: RunInfo;
}

/** bench/results.json: the last full run, plus rows re-measured since by runs of some suites. */
export interface BenchResults extends RunInfo {
  rows: ResultRow[];
}

export const README_START =
  '<!-- bench:start: generated from bench/results.json by `pnpm bench` (or `pnpm --filter @hitl/bench report`); do not edit -->';
export const README_END = '<!-- bench:end -->';

/** Rows the README quotes besides every peer row. */
const README_ROWS = [
  'policy evaluate, 100 policies',
  'in-memory round trip',
  'cross-instance wake-up (PostgreSQL)',
  'webhook delivery, signed',
];

export function describeMachine(machine: Machine): string {
  const postgres = machine.postgres === undefined ? '' : `, PostgreSQL ${machine.postgres}`;
  return `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}${postgres}, ${machine.platform}`;
}

const day = (date: string) => date.slice(0, 10);
const mark = (row: Row) => (row.pass === undefined ? '' : row.pass ? 'met' : 'MISSED');
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The separate runs rows came from, numbered in order of first appearance (for footnotes). */
function separateRuns(results: BenchResults): Map<string, { index: number; run: RunInfo }> {
  const runs = new Map<string, { index: number; run: RunInfo }>();
  for (const row of results.rows) {
    if (!row.run) continue;
    const key = `${row.run.date} ${row.run.command}`;
    if (!runs.has(key)) runs.set(key, { index: runs.size + 1, run: row.run });
  }
  return runs;
}

const runKey = (row: ResultRow) => (row.run ? `${row.run.date} ${row.run.command}` : undefined);

/** The whole of BENCHMARKS.md for `results`. */
export function renderBenchmarks(results: BenchResults): string {
  const runs = separateRuns(results);
  const note = (row: ResultRow) => {
    const key = runKey(row);
    return key === undefined ? '' : ` [${runs.get(key)!.index}]`;
  };
  const header = ['row', 'measured', 'baseline (same run)', 'result', 'target', ''];
  const table = (rows: ResultRow[]) => [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map(
      (row) => `| ${[`${row.row}${note(row)}`, row.measured, row.baseline, row.result, row.target, mark(row)].map(cell).join(' | ')} |`,
    ),
  ];
  const peers = results.rows.filter((row) => row.row.startsWith('peer:'));
  const own = results.rows.filter((row) => !row.row.startsWith('peer:'));
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Generated from bench/results.json by `pnpm bench` (or `pnpm --filter @hitl/bench report`): do not edit by hand. -->',
    '',
    `Command: \`${results.command}\` (from the repo root). Date: ${results.date}.`,
    `Machine: ${describeMachine(results.machine)}.`,
    '',
    'Every figure is measured against a baseline in the same process and run, so the ratio holds on a',
    "noisy machine. Latencies are the median over rounds of each round's median and p99.",
    '',
  ];
  if (peers.length > 0) {
    lines.push(
      '## Against the peers',
      '',
      'The same LangChain `createAgent` setup (its `FakeToolCallingModel`, the same tools and the same installed',
      "LangChain copies) with LangChain/LangGraph's own human in the loop and with hitl, in alternating rounds of one",
      "process. Each row names the versions it ran. WAL per cycle is the WAL of each side's own tables and transactions",
      '(pg_walinspect); the pg_stat_wal delta next to it is cluster-wide and counts other sessions too.',
      'A cycle is one reviewed call: the model asks for the tool, a reviewer approves as soon as the request shows,',
      'the tool runs, the agent answers. "Decision → tool ran" starts when the decision is handed over (LangGraph: the',
      "`Command({ resume })` call; hitl: the `respond` call). Across instances, hitl's stages after the decision are:",
      "RespondReturned (B's `respond` returned: its read, its `UPDATE` and the commit), NotifyOnA (the NOTIFY reached",
      "a LISTEN connection on A's side) and DecidedOnA (A's manager reported the decision: after reading the row, or",
      'straight from the payload with `notifyRecords`).',
      '',
      ...table(peers),
      '',
      '## hitl against baselines',
      '',
    );
  }
  lines.push(...table(own), '');
  for (const { index, run } of runs.values()) {
    lines.push(`[${index}] Measured separately by \`${run.command}\` on ${run.date}, ${describeMachine(run.machine)}.`, '');
  }
  lines.push('Raw figures: [`bench/results.json`](bench/results.json).', '');
  return lines.join('\n');
}

/** The README's block of figures (between the markers) for `results`. */
export function renderReadmeBlock(results: BenchResults): string {
  const runs = separateRuns(results);
  const note = (row: ResultRow) => {
    const key = runKey(row);
    return key === undefined ? '' : ` [${runs.get(key)!.index}]`;
  };
  const bullet = (row: ResultRow) => `- ${row.row.replace(/^peer: /, '')}: ${row.result}${note(row)}.`;
  const peers = results.rows.filter((row) => row.row.startsWith('peer:'));
  const own = results.rows.filter((row) => README_ROWS.includes(row.row));
  const lines = [
    README_START,
    `From \`${results.command}\` on ${day(results.date)}, ${describeMachine(results.machine)}; every figure against a`,
    'baseline or a peer measured in the same run ([BENCHMARKS.md](BENCHMARKS.md) has them all).',
    '',
  ];
  if (peers.length > 0)
    lines.push(
      'Against LangChain/LangGraph (their own human in the loop, same agent, same LangChain copies):',
      '',
      ...peers.map(bullet),
      '',
    );
  lines.push('hitl against baselines:', '', ...own.map(bullet));
  for (const { index, run } of runs.values())
    lines.push('', `[${index}] Measured by \`${run.command}\` on ${day(run.date)}, ${describeMachine(run.machine)}.`);
  lines.push(README_END);
  return lines.join('\n');
}

/** `readme` with its block of figures replaced; throws when the markers are missing. */
export function replaceReadmeBlock(readme: string, block: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start === -1 || end === -1 || end < start) throw new Error(`README.md has no '${README_START}' … '${README_END}' block`);
  return `${readme.slice(0, start)}${block}${readme.slice(end + README_END.length)}`;
}

/**
 * The results after a run of some suites: their rows replace the rows those suites (or rows of the
 * same names) had, in place, or are appended; each carries the run that measured it. The rest, and
 * the date and machine of the last full run, stay as they were.
 */
export function mergeResults(previous: BenchResults, run: RunInfo, suites: readonly string[], rows: readonly Row[]): BenchResults {
  const names = new Set(rows.map((row) => row.row));
  const replaced = (row: ResultRow) => (row.suite !== undefined ? suites.includes(row.suite) : names.has(row.row));
  const merged: ResultRow[] = [];
  let inserted = false;
  for (const row of previous.rows) {
    if (!replaced(row)) {
      merged.push(row);
      continue;
    }
    if (!inserted) {
      merged.push(...rows.map((fresh) => ({ ...fresh, run })));
      inserted = true;
    }
  }
  if (!inserted) merged.push(...rows.map((fresh) => ({ ...fresh, run })));
  return { ...previous, rows: merged };
}
