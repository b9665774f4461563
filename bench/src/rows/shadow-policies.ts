// What a shadow policy set adds to submit: the same auto-approved submit, with and without `shadowPolicies`.
import { createManager, type ApprovalPolicy } from '@hitl/core';
import { compareLatency, formatUs, type BenchContext, type Row } from '../harness.js';

/** The demo's live policies, and a candidate that disagrees on nothing for the measured call. */
const live: ApprovalPolicy[] = [
  { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: 'data_modification' },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
  { name: 'outbound', toolPattern: 'send_*', requireExplicit: true },
  { name: 'small-refunds', toolPattern: 'refund_payment', maxRiskLevel: 'irreversible', when: 'input.amount <= 50' },
  { name: 'refunds', toolPattern: 'refund_*', requireExplicit: true },
];
const candidate: ApprovalPolicy[] = live.map((policy) =>
  policy.name === 'read-only-auto' ? { ...policy, name: 'read-only-strict', minConfidence: 0.8 } : policy,
);

/**
 * The cost of `shadowPolicies` on `submit` (an in-memory store, an auto-approved read): the shadow
 * set is evaluated on every submit, so this is one more policy evaluation plus the comparison.
 * Without `shadowPolicies` the manager does no shadow work: the `policy-evaluate` rows measure that path.
 */
export async function shadowPolicies(context: BenchContext): Promise<Row[]> {
  const plain = createManager({ policies: live });
  const shadowed = createManager({ policies: live, shadowPolicies: candidate });
  let disagreements = 0;
  shadowed.subscribe((event) => {
    if (event.type === 'policy-shadowed') disagreements++;
  });
  const request = { toolName: 'get_user', input: { user_id: '42' }, confidence: 0.9, riskLevel: 'read_only' as const };
  const check = await shadowed.submit(request);
  if (check.status !== 'approved' || disagreements !== 0)
    throw new Error(`the measured submit should be approved by both sets: ${check.evaluation.reason}`);
  const stats = await compareLatency(context, {
    plain: () => plain.submit(request),
    shadowed: () => shadowed.submit(request),
  });
  await plain.close();
  await shadowed.close();
  const without = stats.plain!;
  const withShadow = stats.shadowed!;
  const added = withShadow.medianUs - without.medianUs;
  return [
    {
      row: 'submit with shadowPolicies (7 live, 7 candidate)',
      measured: `${formatUs(withShadow.medianUs)} median, ${formatUs(withShadow.p99Us)} p99`,
      baseline: `same submit without shadowPolicies ${formatUs(without.medianUs)} median`,
      result: `${added >= 0 ? '+' : ''}${formatUs(added)} median`,
      target: 'report',
      figures: { medianUs: withShadow.medianUs, p99Us: withShadow.p99Us, baselineMedianUs: without.medianUs, addedUs: added },
    },
  ];
}
