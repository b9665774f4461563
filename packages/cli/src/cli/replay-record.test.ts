// A record a grant approved, replayed under a policy that needs two approvals: the grant is one of
// them, unless the policy lets a grant decide the whole quorum (grantCoversQuorum).
import { createManager } from '@hitl/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { FilePolicy } from '../policy-file.js';
import { replayRecord } from './replay-record.js';
import type { StoredDecision } from './replay-source.js';

const managers: ReturnType<typeof createManager>[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

const granted: StoredDecision = {
  request: {
    id: 'payout-1',
    type: 'approval',
    toolName: 'payout_vendor',
    input: { amount: 10 },
    confidence: 0.9,
    riskLevel: 'irreversible',
  },
  status: 'approved',
  evaluation: { outcome: 'approve', reason: "grant 'g-1' approves 'payout_vendor'", grant: 'g-1' },
  createdAt: '2026-11-30T10:00:00.000Z',
};

function replay(policies: FilePolicy[]) {
  const manager = createManager({ policies });
  managers.push(manager);
  return replayRecord(manager, policies, granted);
}

describe('replaying a grant-approved record under a four-eyes policy', () => {
  it('the grant is one of two approvals: the record would wait for another approver', () => {
    const replayed = replay([{ name: 'payouts', toolPattern: 'payout_*', requireExplicit: true, approvals: 2 }]);
    expect(replayed).toMatchObject({
      kind: 'outcome',
      after: { outcome: 'review', policy: 'payouts', approvals: 2, grant: 'g-1' },
      because: "policy 'payouts' needs 2 approvals: the grant is one",
    });
  });

  it('with grantCoversQuorum the grant still decides it: unchanged', () => {
    const replayed = replay([{ name: 'payouts', toolPattern: 'payout_*', requireExplicit: true, approvals: 2, grantCoversQuorum: true }]);
    expect(replayed.kind).toBeUndefined();
    expect(replayed.after).toMatchObject({ outcome: 'approve', grant: 'g-1' });
  });
});
