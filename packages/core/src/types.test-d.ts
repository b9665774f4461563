// Type tests of @hitl/core's public types: enums as constants or strings, the manager's methods, narrowed events and errors.
import { describe, expectTypeOf, it } from 'vitest';
import {
  createManager,
  Decision,
  HitlError,
  InteractionType,
  RequestStatus,
  RiskLevel,
  type ApprovalPolicy,
  type ApprovalRecord,
  type HitlErrorCode,
  type InteractionRequest,
  type InteractionResponse,
  type ManagerEvent,
  type PolicyEvaluation,
} from './index.js';

describe('public types', () => {
  it('accepts both the constant and the string for every enum', () => {
    expectTypeOf(RiskLevel.ReadOnly).toEqualTypeOf<'read_only'>();
    expectTypeOf<'read_only'>().toMatchTypeOf<RiskLevel>();
    expectTypeOf<RiskLevel>().toEqualTypeOf<'read_only' | 'data_modification' | 'irreversible'>();
    expectTypeOf<InteractionType>().toEqualTypeOf<'approval' | 'feedback' | 'input' | 'annotation'>();
    expectTypeOf<Decision>().toEqualTypeOf<'approve' | 'reject' | 'modify'>();
    expectTypeOf<RequestStatus>().toEqualTypeOf<'pending' | 'approved' | 'rejected' | 'modified' | 'expired' | 'cancelled'>();
    const policies: ApprovalPolicy[] = [
      { name: 'a', toolPattern: 'get_*', maxRiskLevel: RiskLevel.ReadOnly },
      { name: 'b', toolPattern: 'list_*', maxRiskLevel: 'read_only' },
    ];
    expectTypeOf(policies).toMatchTypeOf<ApprovalPolicy[]>();
    // @ts-expect-error an unknown risk level is a type error
    const bad: ApprovalPolicy = { name: 'c', toolPattern: '*', maxRiskLevel: 'harmless' };
    void bad;
  });

  it('types the manager methods', () => {
    const manager = createManager();
    expectTypeOf(manager.evaluate('get_weather', 0.9, 'read_only')).toEqualTypeOf<PolicyEvaluation>();
    expectTypeOf(manager.evaluate('get_weather', 0.9, RiskLevel.ReadOnly).outcome).toEqualTypeOf<'approve' | 'review' | 'deny'>();
    expectTypeOf(manager.shouldApprove).returns.toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(manager.submit).parameter(0).toEqualTypeOf<InteractionRequest>();
    expectTypeOf(manager.submit).returns.toEqualTypeOf<Promise<ApprovalRecord>>();
    expectTypeOf(manager.requestInteraction).returns.toEqualTypeOf<Promise<InteractionResponse>>();
    expectTypeOf(manager.respond).parameter(1).toHaveProperty('decision').toEqualTypeOf<Decision>();
    expectTypeOf(manager.get).returns.toEqualTypeOf<Promise<ApprovalRecord | undefined>>();
    // @ts-expect-error decisions are a closed set
    void manager.respond('id', { decision: 'maybe' });
  });

  it('narrows events by type and errors by code', () => {
    const onEvent = (event: ManagerEvent) => {
      if (event.type === 'notify-failed') {
        expectTypeOf(event.notifier).toEqualTypeOf<string>();
        expectTypeOf(event.error).toEqualTypeOf<HitlError>();
      }
      if (event.type === 'policy-shadowed') {
        expectTypeOf(event.live).toEqualTypeOf<PolicyEvaluation>();
        expectTypeOf(event.shadow).toEqualTypeOf<PolicyEvaluation>();
      }
      expectTypeOf(event.record).toEqualTypeOf<ApprovalRecord>();
    };
    void onEvent;
    const error: unknown = new HitlError('timeout', 'late');
    if (HitlError.is(error)) expectTypeOf(error.code).toEqualTypeOf<HitlErrorCode>();
  });
});
