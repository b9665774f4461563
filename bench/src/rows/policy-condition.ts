// Policy condition row: what a CEL `when` adds to manager.evaluate for four kinds of condition, and its compile time.
import { createManager, type ApprovalPolicy, type PolicyCall } from '@hitl/core';
import { compareLatency, formatUs, median, type BenchContext, type Row } from '../harness.js';

/** The conditions measured: a comparison, a loop over a list, presence + nested path, a string test. */
const conditions = [
  'input.amount <= 100 && input.currency == "EUR"',
  'input.to.all(a, a.endsWith("@ourco.com"))',
  'has(input.x) && input.x.y == 1',
  'toolName.startsWith("get_")',
];

/** The added cost the design allows a condition, median, in µs. */
const TARGET_US = 2;

/**
 * What a CEL condition adds to `manager.evaluate`, through the public object form: the same call
 * against the same matched policy, once without a condition and once with one that holds (so both
 * approve). Compiling is once per policy (`addPolicy`); its median is reported alongside.
 */
export async function policyCondition(context: BenchContext): Promise<Row[]> {
  const base: ApprovalPolicy = { name: 'gets', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'data_modification' };
  const call: PolicyCall = {
    toolName: 'get_refund',
    input: { amount: 50, currency: 'EUR', to: ['ann@ourco.com', 'bob@ourco.com', 'cy@ourco.com'], x: { y: 1 } },
    confidence: 0.9,
    riskLevel: 'data_modification',
  };
  const plain = createManager({ policies: [base] });
  const rows: Row[] = [];
  let sink = 0;
  for (const when of conditions) {
    const compileTimes: number[] = [];
    for (let run = 0; run < (context.smoke ? 20 : 500); run++) {
      const scratch = createManager();
      const start = performance.now();
      scratch.addPolicy({ ...base, when });
      compileTimes.push((performance.now() - start) * 1000);
      void scratch.close();
    }
    const conditional = createManager({ policies: [{ ...base, when }] });
    const check = conditional.evaluate(call);
    if (check.outcome !== 'approve' || plain.evaluate(call).outcome !== 'approve')
      throw new Error(`'${when}' did not approve: ${check.reason}`);
    const stats = await compareLatency(context, {
      plain: () => {
        sink += plain.evaluate(call).outcome.length;
      },
      conditional: () => {
        sink += conditional.evaluate(call).outcome.length;
      },
    });
    await conditional.close();
    const without = stats.plain!;
    const withCondition = stats.conditional!;
    const added = withCondition.medianUs - without.medianUs;
    const compileUs = median(compileTimes);
    rows.push({
      row: `policy evaluate with a CEL condition: \`${when}\``,
      measured: `${formatUs(withCondition.medianUs)} median, ${formatUs(withCondition.p99Us)} p99 (compile once: ${formatUs(compileUs)})`,
      baseline: `same policy without a condition ${formatUs(without.medianUs)} median`,
      result: `+${formatUs(Math.max(0, added))} median`,
      target: `≤ ${TARGET_US} µs added`,
      // A smoke run is too short to warm the JIT: it only proves the row still runs.
      pass: context.smoke ? undefined : added <= TARGET_US,
      figures: {
        medianUs: withCondition.medianUs,
        p99Us: withCondition.p99Us,
        baselineMedianUs: without.medianUs,
        addedUs: added,
        compileUs,
      },
    });
  }
  await plain.close();
  if (sink === 0) throw new Error('the benchmark computed nothing');
  return rows;
}
