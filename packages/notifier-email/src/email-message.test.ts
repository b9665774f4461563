// The approval email under four eyes: how many approvers are needed, who cannot approve again, one-approval requests unchanged.
import type { ApprovalRecord } from '@hitl/core';
import { describe, expect, it } from 'vitest';
import { toEmailContent } from './index.js';

const base: ApprovalRecord = {
  request: { id: 'hitl-1', type: 'approval', toolName: 'transfer_funds', input: { amount: 25_000 }, requestedBy: 'agent-7' },
  status: 'pending',
  evaluation: { outcome: 'review', policy: 'dual-control', reason: "policy 'dual-control' requires explicit approval", approvals: 2 },
  inputHash: 'a'.repeat(64),
  createdAt: '2026-01-01T00:00:00.000Z',
  approvalsRequired: 2,
  approvals: [],
};

describe('toEmailContent, four eyes', () => {
  it('says how many distinct approvers a request needs', () => {
    const { subject, text } = toEmailContent(base);
    expect(subject).toBe('Approval needed: transfer_funds');
    expect(text).toContain('Approvals: 0 of 2 distinct approvers');
  });

  it('after a partial approval, says another approval is needed and who cannot approve again', () => {
    const { subject, text, html } = toEmailContent({ ...base, approvals: [{ by: 'alice', at: '2026-01-01T00:01:00.000Z' }] });
    expect(subject).toBe('Another approval needed: transfer_funds');
    expect(text).toContain('Approvals: 1 of 2 distinct approvers (alice, who cannot approve again)');
    expect(html).toContain('1 of 2 distinct approvers (alice, who cannot approve again)');
  });

  it('leaves a one-approval request as it was', () => {
    const { approvalsRequired: _required, approvals: _approvals, ...single } = base;
    expect(toEmailContent(single).text).not.toContain('Approvals:');
  });
});
