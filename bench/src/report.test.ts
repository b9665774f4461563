// The generated reports: BENCHMARKS.md and the README block match bench/results.json; rendering, merging a partial run, markers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Row } from './harness.js';
import {
  mergeResults,
  README_END,
  README_START,
  renderBenchmarks,
  renderReadmeBlock,
  replaceReadmeBlock,
  type BenchResults,
} from './report.js';
import { benchmarksFile, expectedReports, readmeFile, readResults } from './report-files.js';

const machine = { cpu: 'Test CPU', cores: 2, memoryGb: 8, node: 'v20.20.2', platform: 'linux x64', postgres: '15.20' };
const row = (name: string, suite: string, result = 'r'): Row => ({
  row: name,
  measured: 'm',
  baseline: 'b',
  result,
  target: 't',
  pass: true,
  figures: {},
  suite,
});
const results: BenchResults = {
  date: '2026-11-24T05:10:08.966Z',
  command: 'pnpm bench',
  machine,
  rows: [
    row('policy evaluate, 100 policies', 'policy-evaluate', '1,380x faster'),
    row('peer: double resume', 'peer-double-resume', 'twice: hitl 0, LangGraph 60'),
  ],
};

describe('the generated reports', () => {
  it('BENCHMARKS.md is what the generator makes of bench/results.json (run `pnpm --filter @hitl/bench report`)', () => {
    expect(readFileSync(benchmarksFile, 'utf8')).toBe(expectedReports(readResults()).benchmarks);
  });

  it("the root README's figures are what the generator makes of bench/results.json", () => {
    expect(readFileSync(readmeFile, 'utf8')).toBe(expectedReports(readResults()).readme);
  });
});

describe('renderBenchmarks', () => {
  it('states the date and the machine, with the PostgreSQL version, and puts the peer rows first', () => {
    const text = renderBenchmarks(results);
    expect(text).toContain('Date: 2026-11-24T05:10:08.966Z.');
    expect(text).toContain('Machine: Test CPU, 2 cores, 8 GB, Node v20.20.2, PostgreSQL 15.20, linux x64.');
    expect(text.indexOf('| peer: double resume |')).toBeGreaterThan(-1);
    expect(text.indexOf('| peer: double resume |')).toBeLessThan(text.indexOf('| policy evaluate, 100 policies |'));
  });

  it('escapes a | in a cell so the table keeps its columns', () => {
    const text = renderBenchmarks({ ...results, rows: [{ ...row('a', 's'), measured: 'x | y' }] });
    expect(text).toContain('| a | x \\| y | b |');
  });
});

describe('mergeResults', () => {
  const run = { date: '2026-11-30T16:00:00.000Z', command: 'pnpm bench peer-double-resume', machine: { ...machine, cpu: 'Other CPU' } };

  it("replaces the suite's rows in place, keeps the others and the last full run's date, and footnotes the new run", () => {
    const merged = mergeResults(
      results,
      run,
      ['peer-double-resume'],
      [row('peer: double resume', 'peer-double-resume', 'twice: hitl 0, LangGraph 58')],
    );
    expect(merged.date).toBe(results.date);
    expect(merged.rows.map((entry) => [entry.row, entry.result, entry.run?.command])).toEqual([
      ['policy evaluate, 100 policies', '1,380x faster', undefined],
      ['peer: double resume', 'twice: hitl 0, LangGraph 58', 'pnpm bench peer-double-resume'],
    ]);
    const text = renderBenchmarks(merged);
    expect(text).toContain('| peer: double resume [1] |');
    expect(text).toContain('[1] Measured separately by `pnpm bench peer-double-resume` on 2026-11-30T16:00:00.000Z, Other CPU, 2 cores');
    const block = renderReadmeBlock(merged);
    expect(block).toContain('- double resume: twice: hitl 0, LangGraph 58 [1].');
    expect(block).toContain('[1] Measured by `pnpm bench peer-double-resume` on 2026-11-30, Other CPU, 2 cores');
  });

  it('appends the rows of a suite results.json did not have, and replaces rows of the same name recorded without a suite', () => {
    const old: BenchResults = { ...results, rows: [{ ...row('in-memory round trip', 'x'), suite: undefined }] };
    const merged = mergeResults(
      old,
      run,
      ['round-trip', 'peer-agent'],
      [row('in-memory round trip', 'round-trip', 'new'), row('peer: agent', 'peer-agent')],
    );
    expect(merged.rows.map((entry) => [entry.row, entry.result])).toEqual([
      ['in-memory round trip', 'new'],
      ['peer: agent', 'r'],
    ]);
  });
});

describe('replaceReadmeBlock', () => {
  it('replaces only what lies between the markers', () => {
    const readme = `# hitl\n\n${README_START}\nold figures\n${README_END}\n\n## Development\n`;
    expect(replaceReadmeBlock(readme, `${README_START}\nnew\n${README_END}`)).toBe(
      `# hitl\n\n${README_START}\nnew\n${README_END}\n\n## Development\n`,
    );
  });

  it('throws when the README has lost its markers', () => {
    expect(() => replaceReadmeBlock('# hitl\n', 'x')).toThrow('README.md has no');
  });
});
