// Measures what withApproval adds to an auto-approved tool call, side by side with the unwrapped
// tool: calls alternate between the variants one by one (so load on the machine hits both alike),
// each call is timed on its own, and the reported cost is the median of the per-pair differences
// (wrapped - unwrapped). Run after `pnpm build`: `node bench/auto-approve.mjs`. BENCH_PAIRS tunes
// it; BENCH_BUDGET_US (default 5) is the allowed median cost of the default (evaluate-only) path.
import { performance } from 'node:perf_hooks';
import { createManager } from '@hitl/core';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { withApproval } from '../dist/index.js';

const pairs = Number(process.env.BENCH_PAIRS ?? 20_000);
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

async function timeCall(target, input) {
  const start = performance.now();
  await target.invoke(input);
  return (performance.now() - start) * 1000;
}

let failed = false;
for (const [inputName, makeInput] of Object.entries(inputs)) {
  const names = Object.keys(variants).filter((name) => name !== 'unwrapped');
  console.log(`\n${inputName}: ${pairs} pairs of calls, microseconds per call`);
  for (const name of names) {
    const wrapped = variants[name];
    const plain = variants.unwrapped;
    for (let index = 0; index < 2_000; index += 1) {
      await plain.invoke(makeInput());
      await wrapped.invoke(makeInput());
    }
    const plainTimes = [];
    const wrappedTimes = [];
    const added = [];
    for (let index = 0; index < pairs; index += 1) {
      const first = index % 2 === 0;
      const a = await timeCall(first ? plain : wrapped, makeInput());
      const b = await timeCall(first ? wrapped : plain, makeInput());
      const [plainTime, wrappedTime] = first ? [a, b] : [b, a];
      plainTimes.push(plainTime);
      wrappedTimes.push(wrappedTime);
      added.push(wrappedTime - plainTime);
    }
    console.log(
      `  ${name.padEnd(30)} unwrapped ${median(plainTimes).toFixed(2).padStart(6)}   wrapped ${median(wrappedTimes).toFixed(2).padStart(6)}   added (median of pairs) ${median(added).toFixed(2).padStart(6)}`,
    );
    if (name === 'withApproval (evaluate)' && median(added) > budgetUs) failed = true;
  }
}
await manager.close();
if (failed) {
  console.error(`\nwithApproval adds more than ${budgetUs} µs per auto-approved call`);
  process.exitCode = 1;
}
