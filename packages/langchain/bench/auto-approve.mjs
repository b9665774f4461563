// Measures what withApproval adds to an auto-approved tool call, side by side with the unwrapped
// tool: rounds alternate between the variants, each round times a batch of sequential invokes, and
// the reported cost is the median over rounds of (wrapped - unwrapped) per call.
// Run after `pnpm build`: `node bench/auto-approve.mjs`. BENCH_ROUNDS and BENCH_BATCH tune it;
// BENCH_BUDGET_US (default 5) is the allowed median cost of the evaluate-only path.
import { performance } from 'node:perf_hooks';
import { createManager } from '@hitl/core';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { withApproval } from '../dist/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 60);
const batch = Number(process.env.BENCH_BATCH ?? 400);
const budgetUs = Number(process.env.BENCH_BUDGET_US ?? 5);

const manager = createManager({
  policies: [
    { name: 'read-only-auto', toolPattern: '{get,search}_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
    { name: 'writes', toolPattern: 'update_*', minConfidence: 0.8, maxRiskLevel: 'data_modification' },
    { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
    { name: 'forbidden', toolPattern: 'drop_*', deny: true },
  ],
});
const getWeather = tool(async ({ city }) => `It is sunny in ${city}.`, {
  name: 'get_weather',
  description: 'Get the weather for a city',
  schema: z.object({ city: z.string() }),
});
const variants = {
  unwrapped: getWeather,
  'withApproval (evaluate)': withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9 }),
  'withApproval (audit: submit)': withApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9, audit: true }),
};
const inputs = {
  'plain args': () => ({ city: 'Paris' }),
  'tool call': () => ({ name: 'get_weather', args: { city: 'Paris' }, id: 'call-1', type: 'tool_call' }),
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function timeBatch(target, makeInput) {
  const start = performance.now();
  for (let index = 0; index < batch; index += 1) await target.invoke(makeInput());
  return ((performance.now() - start) * 1000) / batch;
}

let failed = false;
for (const [inputName, makeInput] of Object.entries(inputs)) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (const name of names) await timeBatch(variants[name], makeInput); // warm up
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 ? [...names].reverse() : names;
    for (const name of order) samples[name].push(await timeBatch(variants[name], makeInput));
  }
  console.log(`\n${inputName}: ${rounds} rounds x ${batch} calls, microseconds per call`);
  for (const name of names) {
    const added = samples[name].map((value, index) => value - samples.unwrapped[index]);
    const line = `  ${name.padEnd(30)} median ${median(samples[name]).toFixed(2).padStart(7)}`;
    console.log(name === 'unwrapped' ? line : `${line}   added (paired median) ${median(added).toFixed(2).padStart(6)}`);
    if (name === 'withApproval (evaluate)' && median(added) > budgetUs) failed = true;
  }
}
await manager.close();
if (failed) {
  console.error(`\nwithApproval adds more than ${budgetUs} µs per auto-approved call`);
  process.exitCode = 1;
}
