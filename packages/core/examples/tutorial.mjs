// The seed tutorial, end to end: policies, a blocking approval answered "from elsewhere", all
// interaction types and decisions. Run: pnpm --filter @hitl/core example
import { createLogNotifier, createManager, RiskLevel } from '@hitl/core';

const manager = createManager({ timeoutMs: 30_000, notifiers: [createLogNotifier(console)] });

manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly });
manager.addPolicy({ name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: RiskLevel.ReadOnly });
manager.addPolicy({ name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: RiskLevel.DataModification });
manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
manager.addPolicy({ name: 'outbound', toolPattern: 'send_*', requireExplicit: true });

console.log('get_weather 0.95 read_only ->', await manager.shouldApprove('get_weather', 0.95, RiskLevel.ReadOnly));
console.log('delete_user 0.99 irreversible ->', await manager.shouldApprove('delete_user', 0.99, RiskLevel.Irreversible));
console.log('update_user 0.80 ->', manager.evaluate('update_user', 0.8, RiskLevel.DataModification).reason);

// A reviewer answers from "elsewhere" (an HTTP handler in a real app): here, a subscriber.
manager.subscribe((event) => {
  if (event.type !== 'request-created' || event.record.status !== 'pending') return;
  const { id, type, toolName } = event.record.request;
  const answer =
    type === 'approval' && toolName === 'delete_user'
      ? { decision: 'approve', feedback: 'verified with the account owner', respondedBy: 'alice' }
      : type === 'input'
        ? { decision: 'modify', modified: { subject: 'Your refund' }, respondedBy: 'bob' }
        : { decision: 'reject', feedback: 'not today', respondedBy: 'carol' };
  setTimeout(() => void manager.respond(id, answer), 100);
});

const approval = await manager.requestInteraction({
  type: 'approval',
  toolName: 'delete_user',
  description: 'Delete user account 12345 and all associated data',
  input: { user_id: '12345' },
  riskLevel: 'irreversible',
  confidence: 0.85,
});
console.log('approval ->', approval.decision, 'by', approval.respondedBy, `(${approval.feedback})`);

const input = await manager.requestInteraction({ type: 'input', toolName: 'send_email', description: 'Pick a subject' });
console.log('input ->', input.decision, input.modified);

const feedback = await manager.requestInteraction({ type: 'feedback', toolName: 'draft_reply', description: 'Is this reply kind?' });
console.log('feedback ->', feedback.decision, `(${feedback.feedback})`);

await manager.close();
