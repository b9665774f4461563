// Shadow policies report where a candidate set disagrees and never decide; setPolicies replaces the whole list or nothing.
import { describe, expect, it } from 'vitest';
import { createManager, HitlError, type ApprovalPolicy, type ManagerEvent } from './index.js';
import { createRecordingNotifier } from './testing.js';

const live: ApprovalPolicy[] = [
  { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'deletes', toolPattern: 'delete_*', requireExplicit: true },
];
/** The candidate: reads need more confidence, deletes are refused. */
const candidate: ApprovalPolicy[] = [
  { name: 'reads-strict', toolPattern: 'get_*', minConfidence: 0.95, maxRiskLevel: 'read_only' },
  { name: 'no-deletes', toolPattern: 'delete_*', deny: true },
];

function shadowed(events: ManagerEvent[]) {
  return events.filter((event): event is Extract<ManagerEvent, { type: 'policy-shadowed' }> => event.type === 'policy-shadowed');
}

describe('shadow policies', () => {
  it('emits policy-shadowed where the candidate set disagrees, and decides as the live set alone would', async () => {
    const notifier = createRecordingNotifier();
    const withShadow = createManager({ policies: live, shadowPolicies: candidate, notifiers: [notifier] });
    const without = createManager({ policies: live });
    const events: ManagerEvent[] = [];
    withShadow.subscribe((event) => events.push(event));

    const requests = [
      { id: 'r1', toolName: 'get_user', confidence: 0.7, riskLevel: 'read_only' as const }, // approve vs review
      { id: 'r2', toolName: 'get_user', confidence: 0.99, riskLevel: 'read_only' as const }, // both approve
      { id: 'r3', toolName: 'delete_user', confidence: 0.9, riskLevel: 'irreversible' as const }, // review vs deny
    ];
    for (const request of requests) {
      const record = await withShadow.submit(request);
      const reference = await without.submit(request);
      expect({ status: record.status, evaluation: record.evaluation }).toEqual({
        status: reference.status,
        evaluation: reference.evaluation,
      });
    }
    const reports = shadowed(events);
    expect(
      reports.map((event) => [event.record.request.id, event.live.outcome, event.live.policy, event.shadow.outcome, event.shadow.policy]),
    ).toEqual([
      ['r1', 'approve', 'reads', 'review', 'reads-strict'],
      ['r3', 'review', 'deletes', 'deny', 'no-deletes'],
    ]);
    // The live decision stands: r3 still waits for a human, who was told.
    expect((await withShadow.get('r3'))?.status).toBe('pending');
    expect((await notifier.next()).request.id).toBe('r3');
    await withShadow.close();
    await without.close();
  });

  it('never decides from the shadow set, even when it would approve everything', async () => {
    const manager = createManager({ policies: live, shadowPolicies: [{ name: 'all', toolPattern: '*', maxRiskLevel: 'irreversible' }] });
    const events: ManagerEvent[] = [];
    manager.subscribe((event) => events.push(event));
    const record = await manager.submit({ toolName: 'delete_user', confidence: 1, riskLevel: 'irreversible' });
    expect(record.status).toBe('pending');
    expect(shadowed(events).map((event) => event.shadow.outcome)).toEqual(['approve']);
    await manager.close();
  });

  it('keeps an error in the shadow set to itself: the live decision stands and the event says why', async () => {
    const errors: Error[] = [];
    const manager = createManager({
      policies: live,
      shadowPolicies: [
        {
          name: 'throws',
          toolPattern: '*',
          maxRiskLevel: 'irreversible',
          when: () => {
            throw new Error('boom');
          },
        },
      ],
      hooks: { onError: (error) => errors.push(error) },
    });
    const events: ManagerEvent[] = [];
    manager.subscribe((event) => events.push(event));
    const record = await manager.submit({ toolName: 'get_user', confidence: 0.9, riskLevel: 'read_only' });
    expect(record.status).toBe('approved');
    const [report] = shadowed(events);
    expect(report?.shadow).toMatchObject({ outcome: 'review', policy: 'throws' });
    expect(report?.shadow.reason).toMatch(/threw: boom/);
    expect(errors).toEqual([]);
    await manager.close();
  });

  it('refuses a malformed shadow set at creation, naming shadowPolicies', () => {
    expect(() => createManager({ shadowPolicies: [{ name: 'x', toolPattern: '[', deny: true }] })).toThrow(/^shadowPolicies: policy 'x'/);
    expect(() => createManager({ shadowPolicies: 'x' as never })).toThrow(HitlError);
  });
});

describe('setPolicies', () => {
  it('replaces the whole list at once, and keeps the old one when the new one is invalid', () => {
    const manager = createManager({ policies: live });
    expect(manager.evaluate('get_user', 0.7, 'read_only').outcome).toBe('approve');
    manager.setPolicies(candidate);
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(['reads-strict', 'no-deletes']);
    expect(manager.evaluate('get_user', 0.7, 'read_only').outcome).toBe('review');
    expect(() => manager.setPolicies([live[0]!, { name: 'bad', toolPattern: '+(x)', deny: true }])).toThrow(HitlError);
    expect(() => manager.setPolicies([live[0]!, live[0]!])).toThrow(/already used/);
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(['reads-strict', 'no-deletes']);
    expect(() => manager.setPolicies('x' as never)).toThrow(/policies/);
  });
});
