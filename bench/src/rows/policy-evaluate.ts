// Policy evaluate rows: manager.evaluate against a naive minimatch loop, with 10, 100 and 1,000 policies.
import { createManager, type ApprovalPolicy, type RiskLevel } from '@hitl/core';
import { minimatch } from 'minimatch';
import { compareLatency, formatNumber, formatUs, type BenchContext, type Row } from '../harness.js';

const risks: RiskLevel[] = ['read_only', 'data_modification', 'irreversible'];

function policiesOf(count: number): ApprovalPolicy[] {
  const policies: ApprovalPolicy[] = [];
  for (let index = 0; index < count - 2; index++) {
    policies.push({
      name: `tier-${index}`,
      toolPattern: `tool${index}_*`,
      minConfidence: 0.5,
      maxRiskLevel: risks[index % 3] as RiskLevel,
    });
  }
  policies.push({ name: 'destructive', toolPattern: '{delete,drop}_*', requireExplicit: true });
  policies.push({ name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' });
  return policies;
}

/** The loop a user would write without hitl: minimatch() per policy per call, first match wins. */
function naiveEvaluate(policies: ApprovalPolicy[], toolName: string, confidence: number, riskLevel: RiskLevel): string {
  const rank = risks.indexOf(riskLevel);
  for (const policy of policies) {
    if (!minimatch(toolName, policy.toolPattern, { dot: true })) continue;
    if (policy.deny) return 'deny';
    if (policy.requireExplicit) return 'review';
    if (confidence < (policy.minConfidence ?? 0)) return 'review';
    return rank > risks.indexOf(policy.maxRiskLevel as RiskLevel) ? 'review' : 'approve';
  }
  return 'review';
}

/**
 * `manager.evaluate` against the naive loop, with 10, 100 and 1,000 policies and a stream of
 * repeated tool names whose matching policy sits at the start, the middle and the end of the list.
 */
export async function policyEvaluate(context: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const flat: Record<number, number> = {};
  for (const count of [10, 100, 1000]) {
    const policies = policiesOf(count);
    const manager = createManager({ policies });
    const names = ['tool0_read', `tool${Math.floor((count - 2) / 2)}_write`, 'delete_user', 'get_weather', 'unknown_tool'];
    let index = 0;
    let sink = 0;
    const stats = await compareLatency(
      context,
      {
        hitl: () => {
          const name = names[index++ % names.length] as string;
          sink += manager.evaluate(name, 0.8, 'read_only').outcome.length;
        },
        naive: () => {
          const name = names[index++ % names.length] as string;
          sink += naiveEvaluate(policies, name, 0.8, 'read_only').length;
        },
      },
      { timeMs: count === 1000 ? 800 : 400 },
    );
    if (sink === 0) throw new Error('the benchmark computed nothing');
    await manager.close();
    const hitl = stats.hitl!;
    const naive = stats.naive!;
    const speedup = naive.medianUs / hitl.medianUs;
    flat[count] = hitl.medianUs;
    rows.push({
      row: `policy evaluate, ${formatNumber(count, 0)} policies`,
      measured: `${formatUs(hitl.medianUs)} median, ${formatUs(hitl.p99Us)} p99`,
      baseline: `naive minimatch loop ${formatUs(naive.medianUs)} median, ${formatUs(naive.p99Us)} p99`,
      result: `${formatNumber(speedup)}x faster`,
      target: count === 100 ? '≥ 20x at 100 policies' : 'report',
      pass: count === 100 ? speedup >= 20 : undefined,
      figures: {
        policies: count,
        hitlMedianUs: hitl.medianUs,
        hitlP99Us: hitl.p99Us,
        naiveMedianUs: naive.medianUs,
        naiveP99Us: naive.p99Us,
        speedup,
      },
    });
  }
  const growth = (flat[1000] as number) / (flat[10] as number);
  rows.push({
    row: 'policy evaluate, 10 → 1,000 policies',
    measured: `${formatUs(flat[10] as number)} → ${formatUs(flat[1000] as number)} median`,
    baseline: 'the same call with 10 policies',
    result: `${formatNumber(growth, 2)}x the cost at 100x the policies`,
    target: 'nearly flat (≤ 2x) for repeated tool names',
    pass: growth <= 2,
    figures: { medianUs10: flat[10] as number, medianUs1000: flat[1000] as number, growth },
  });
  return rows;
}
