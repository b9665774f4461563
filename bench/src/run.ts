import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Row } from './harness.js';
import { dashboardSpeed } from './rows/dashboard.js';
import { fourEyes } from './rows/four-eyes.js';
import { grants } from './rows/grants.js';
import { mcpProxyOverhead } from './rows/mcp.js';
import { memoryPerRequest } from './rows/memory.js';
import { policyCondition } from './rows/policy-condition.js';
import { policyEvaluate } from './rows/policy-evaluate.js';
import { policyWorstCase } from './rows/policy-worst-case.js';
import { postgresStore } from './rows/postgres.js';
import { reviewerApi } from './rows/reviewer-api.js';
import { roundTrip } from './rows/round-trip.js';
import { slackInteractivity } from './rows/slack.js';
import { aiSdkOverhead, langChainOverhead } from './rows/tool-overhead.js';
import { webhookDelivery } from './rows/webhook.js';

type Suite = (context: BenchContext) => Promise<Row[]>;

const suites: Record<string, Suite> = {
  'policy-evaluate': policyEvaluate,
  'policy-condition': policyCondition,
  'policy-worst-case': policyWorstCase,
  grants,
  'round-trip': roundTrip,
  memory: memoryPerRequest,
  langchain: langChainOverhead,
  'ai-sdk': aiSdkOverhead,
  'reviewer-api': reviewerApi,
  webhook: webhookDelivery,
  slack: slackInteractivity,
  postgres: postgresStore,
  'four-eyes': fourEyes,
  mcp: mcpProxyOverhead,
  dashboard: dashboardSpeed,
};

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args.filter((arg) => !arg.startsWith('--'));
const context: BenchContext = { smoke, log: (message) => console.error(message) };

const rows: Row[] = [];
let failed = false;
for (const [name, suite] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  context.log(`… ${name}`);
  try {
    rows.push(...(await suite(context)));
  } catch (error) {
    failed = true;
    console.error(`benchmark '${name}' failed:`, error);
  }
}

const mark = (row: Row) => (row.pass === undefined ? '' : row.pass ? 'met' : 'MISSED');
const header = ['row', 'measured', 'baseline (same run)', 'result', 'target', ''];
const lines = [header, ...rows.map((row) => [row.row, row.measured, row.baseline, row.result, row.target, mark(row)])];
const markdown = [
  `| ${header.join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...lines.slice(1).map((cells) => `| ${cells.join(' | ')} |`),
].join('\n');
console.log(markdown);

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
};
const command = `pnpm bench${smoke ? ' --smoke' : ''}${only.length ? ` ${only.join(' ')}` : ''}`;
if (!smoke && only.length === 0) {
  const date = new Date().toISOString();
  const root = new URL('../../', import.meta.url);
  writeFileSync(new URL('bench/results.json', root), `${JSON.stringify({ date, command, machine, rows }, null, 2)}\n`);
  writeFileSync(
    fileURLToPath(new URL('BENCHMARKS.md', root)),
    [
      '# Benchmarks',
      '',
      `Command: \`${command}\` (from the repo root). Date: ${date}.`,
      `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.platform}.`,
      '',
      'Every figure is measured against a baseline in the same process and run, so the ratio holds on a',
      'noisy machine. Latencies are the median over rounds of each round\'s median and p99.',
      '',
      markdown,
      '',
      'Raw figures: [`bench/results.json`](bench/results.json).',
      '',
    ].join('\n'),
  );
}
const missed = rows.filter((row) => row.pass === false);
if (failed || (smoke && rows.length === 0)) process.exitCode = 1;
if (missed.length > 0) console.error(`targets missed: ${missed.map((row) => row.row).join('; ')}`);
