// The cost withApproval adds to an auto-approved call: the wrapped execute against the raw one,
// side by side, in interleaved batches. Budget: 5 µs median per call. Run: pnpm bench (after build).
import { createManager } from '@hitl/core';
import { withApproval } from '../dist/index.js';

const BUDGET_US = 5;
const BATCH = 2_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);

const manager = createManager();
manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' });
manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });

const raw = { get_weather: { inputSchema: undefined, execute: async ({ city }) => ({ city, celsius: 21 }) } };
const wrapped = withApproval(raw, { manager, riskLevel: { get_weather: 'read_only' }, confidence: 0.9 });
const options = { toolCallId: 'call-1', messages: [] };
const input = { city: 'Paris' };

async function batch(execute) {
  const pending = new Array(BATCH);
  const start = process.hrtime.bigint();
  for (let index = 0; index < BATCH; index++) pending[index] = execute(input, options);
  await Promise.all(pending);
  return Number(process.hrtime.bigint() - start) / 1_000 / BATCH;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

for (let round = 0; round < 20; round++) {
  await batch(raw.get_weather.execute);
  await batch(wrapped.get_weather.execute);
}
const rawTimes = [];
const wrappedTimes = [];
for (let round = 0; round < ROUNDS; round++) {
  if (round % 2 === 0) {
    rawTimes.push(await batch(raw.get_weather.execute));
    wrappedTimes.push(await batch(wrapped.get_weather.execute));
  } else {
    wrappedTimes.push(await batch(wrapped.get_weather.execute));
    rawTimes.push(await batch(raw.get_weather.execute));
  }
}
await manager.close();

const rawMedian = median(rawTimes);
const wrappedMedian = median(wrappedTimes);
const overhead = wrappedMedian - rawMedian;
console.log(
  `withApproval auto-approved execute: raw ${rawMedian.toFixed(3)} µs, wrapped ${wrappedMedian.toFixed(3)} µs, ` +
    `overhead ${overhead.toFixed(3)} µs per call (median of ${ROUNDS} batches of ${BATCH}; budget ${BUDGET_US} µs)`,
);
if (overhead > BUDGET_US) {
  console.error(`overhead ${overhead.toFixed(3)} µs is over the ${BUDGET_US} µs budget`);
  process.exitCode = 1;
}
