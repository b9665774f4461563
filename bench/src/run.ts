// `pnpm bench [--smoke] [suite…]`: runs the suites, prints the table and, after a full or partial run that passed, writes the reports.
import { cpus, totalmem } from 'node:os';
import pg from 'pg';
import type { BenchContext, Row } from './harness.js';
import { mergeResults, type Machine } from './report.js';
import { readResults, writeReports, writeResults } from './report-files.js';
import { dashboardSpeed } from './rows/dashboard.js';
import { fourEyes } from './rows/four-eyes.js';
import { durableResume } from './rows/durable-resume.js';
import { grants } from './rows/grants.js';
import { mcpProxyOverhead } from './rows/mcp.js';
import { outboxDelivery } from './rows/outbox.js';
import { memoryPerRequest } from './rows/memory.js';
import { peerAgentOverhead } from './rows/peer-agent-overhead.js';
import { peerDoubleResume } from './rows/peer-double-resume.js';
import { peerPostgres } from './rows/peer-postgres.js';
import { peerReviewed } from './rows/peer-reviewed.js';
import { policyCondition } from './rows/policy-condition.js';
import { policyEvaluate } from './rows/policy-evaluate.js';
import { policyWorstCase } from './rows/policy-worst-case.js';
import { postgresStore } from './rows/postgres.js';
import { reviewerApi } from './rows/reviewer-api.js';
import { roundTrip } from './rows/round-trip.js';
import { shadowPolicies } from './rows/shadow-policies.js';
import { slackInteractivity } from './rows/slack.js';
import { aiSdkOverhead, langChainOverhead } from './rows/tool-overhead.js';
import { webhookDelivery } from './rows/webhook.js';

type Suite = (context: BenchContext) => Promise<Row[]>;

const suites: Record<string, Suite> = {
  'policy-evaluate': policyEvaluate,
  'policy-condition': policyCondition,
  'policy-worst-case': policyWorstCase,
  'shadow-policies': shadowPolicies,
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
  outbox: outboxDelivery,
  mcp: mcpProxyOverhead,
  dashboard: dashboardSpeed,
  'peer-agent': peerAgentOverhead,
  'peer-reviewed': peerReviewed,
  'peer-postgres': peerPostgres,
  'peer-double-resume': peerDoubleResume,
  'durable-resume': durableResume,
};

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args.filter((arg) => !arg.startsWith('--'));
const context: BenchContext = { smoke, log: (message) => console.error(message) };

const rows: Row[] = [];
const suitesRun: string[] = [];
let failed = false;
for (const [name, suite] of Object.entries(suites)) {
  if (only.length > 0 && !only.includes(name)) continue;
  suitesRun.push(name);
  context.log(`… ${name}`);
  try {
    rows.push(...(await suite(context)).map((row) => ({ ...row, suite: name })));
  } catch (error) {
    failed = true;
    console.error(`benchmark '${name}' failed:`, error);
    // A row that cannot run (a peer that does not install, PostgreSQL down) shows as failed, never disappears.
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    rows.push({
      row: `${name} (failed)`,
      measured: `FAILED: ${reason}`,
      baseline: '—',
      result: 'did not run',
      target: '—',
      pass: false,
      figures: {},
      suite: name,
    });
  }
}
const unknown = only.filter((name) => !(name in suites));
if (unknown.length > 0) {
  failed = true;
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(suites).join(', ')})`);
}

const mark = (row: Row) => (row.pass === undefined ? '' : row.pass ? 'met' : 'MISSED');
const header = ['row', 'measured', 'baseline (same run)', 'result', 'target', ''];
console.log(
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${[row.row, row.measured, row.baseline, row.result, row.target, mark(row)].join(' | ')} |`),
  ].join('\n'),
);

/** The PostgreSQL server's version, for the machine line (the PostgreSQL rows fail on their own when it is down). */
async function postgresVersion(): Promise<string | undefined> {
  const client = new pg.Client({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    connectionTimeoutMillis: 5_000,
  });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgres = await postgresVersion();
const machine: Machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGb: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  ...(postgres === undefined ? {} : { postgres }),
};
const command = `pnpm bench${smoke ? ' --smoke' : ''}${only.length ? ` ${only.join(' ')}` : ''}`;
// Smoke runs and failed runs write nothing; a run of some suites updates only their rows.
if (!smoke && !failed) {
  const run = { date: new Date().toISOString(), command, machine };
  const results = only.length === 0 ? { ...run, rows } : mergeResults(readResults(), run, suitesRun, rows);
  writeResults(results);
  writeReports(results);
  context.log('bench/results.json, BENCHMARKS.md and the README figures updated');
}
const missed = rows.filter((row) => row.pass === false);
if (failed || (smoke && rows.length === 0)) process.exitCode = 1;
if (missed.length > 0) console.error(`targets missed: ${missed.map((row) => row.row).join('; ')}`);
