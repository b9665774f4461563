/**
 * What a condition adds to `manager.evaluate`: the same matched policy evaluated alone, and
 * evaluated plus building the `PolicyCall` and testing a compiled condition on it. Until conditions
 * are wired into the policy engine this measures the two steps side by side; afterwards it becomes a
 * `policy-evaluate` row of `pnpm bench`. Run on its own:
 *
 *   pnpm --filter @hitl/bench build && node --expose-gc bench/dist/cel/condition-overhead.js [--smoke]
 */
import { createManager, type RiskLevel } from '@hitl/core';
// Not public yet (wired in with the policy engine rewrite); the built file is read directly until then.
// eslint-disable-next-line no-restricted-imports
import { compileCondition, type PolicyCall } from '../../../packages/core/dist/conditions.js';
import { compareLatency, formatUs, median, type BenchContext } from '../harness.js';

const conditions = [
  'input.amount <= 100 && input.currency == "EUR"',
  'input.to.all(a, a.endsWith("@ourco.com"))',
  'has(input.x) && input.x.y == 1',
  'toolName.startsWith("get_")',
];

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke');
  const context: BenchContext = { smoke, log: (message) => console.error(message) };
  const manager = createManager({ policies: [{ name: 'gets', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'data_modification' }] });
  const toolName = 'get_refund';
  const riskLevel: RiskLevel = 'data_modification';
  const input = { amount: 50, currency: 'EUR', to: ['ann@ourco.com', 'bob@ourco.com', 'cy@ourco.com'], x: { y: 1 } };
  let sink = 0;
  console.log(`Node ${process.version}`);
  console.log('| condition | evaluate alone | evaluate + condition | added (median) | target ≤ 2 µs |');
  console.log('|---|---|---|---|---|');
  for (const source of conditions) {
    const compileTimes: number[] = [];
    for (let run = 0; run < (smoke ? 20 : 1000); run++) {
      const start = performance.now();
      compileCondition('bench', source);
      compileTimes.push((performance.now() - start) * 1000);
    }
    const compileUs = median(compileTimes);
    const condition = compileCondition('bench', source);
    const check = condition.test({ toolName, input, confidence: 0.9, riskLevel });
    if (!check.ok || !check.holds) throw new Error(`'${source}' gave ${JSON.stringify(check)}`);
    const stats = await compareLatency(context, {
      alone: () => {
        sink += manager.evaluate(toolName, 0.9, riskLevel).outcome.length;
      },
      condition: () => {
        const evaluation = manager.evaluate(toolName, 0.9, riskLevel);
        const call: PolicyCall = { toolName, input, confidence: 0.9, riskLevel };
        const result = condition.test(call);
        sink += evaluation.outcome.length + (result.ok && result.holds ? 1 : 0);
      },
    });
    const added = stats.condition!.medianUs - stats.alone!.medianUs;
    console.log(
      `| \`${source}\` (compile: ${formatUs(compileUs)} median) | ${formatUs(stats.alone!.medianUs)} | ${formatUs(stats.condition!.medianUs)} | ${formatUs(added)} | ${added <= 2 ? 'met' : 'MISSED'} |`,
    );
  }
  if (sink === 0) throw new Error('the benchmark computed nothing');
  await manager.close();
}

await main();
