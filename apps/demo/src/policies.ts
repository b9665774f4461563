/** The demo's approval policies and the risk and confidence its agents give each tool. */
import { RiskLevel, type ApprovalPolicy } from '@hitl/core';

/** The tutorial's five tiers: reads and searches run alone, confident updates run alone, deletes and outbound messages always wait for a human. */
export const supportPolicies: ApprovalPolicy[] = [
  { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly },
  { name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly },
  { name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: RiskLevel.DataModification },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
  { name: 'outbound', toolPattern: 'send_*', requireExplicit: true },
  // A policy that reads the call's arguments: refunds up to 50 run at once, larger ones fall through to a human.
  { name: 'small-refunds', toolPattern: 'refund_payment', maxRiskLevel: RiskLevel.Irreversible, when: 'input.amount <= 50' },
  { name: 'refunds', toolPattern: 'refund_*', requireExplicit: true },
];

/** How risky each support tool is. */
export const toolRisk: Record<string, RiskLevel> = {
  get_user: RiskLevel.ReadOnly,
  search_orders: RiskLevel.ReadOnly,
  update_user: RiskLevel.DataModification,
  delete_user: RiskLevel.Irreversible,
  send_email: RiskLevel.Irreversible,
  refund_payment: RiskLevel.Irreversible,
};

/** The scripted model's confidence in each call. A real model's would come from its own scoring. */
export const toolConfidence: Record<string, number> = {
  get_user: 0.95,
  search_orders: 0.9,
  update_user: 0.95,
  delete_user: 0.85,
  send_email: 0.9,
  refund_payment: 0.9,
};
