// Four eyes: the approvals field, a two-approval request's life (distinct approvers, reject, expiry, retries), racing reviewers.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLogNotifier,
  createManager,
  createMemoryStore,
  HitlError,
  type ApprovalStore,
  type Manager,
  type ManagerEvent,
} from './index.js';
import { createManualClock, createRecordingNotifier, createTestManager } from './testing.js';

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function setup(approvals = 2, options: Parameters<typeof createTestManager>[0] = {}) {
  const test = createTestManager({ timeoutMs: 60_000, ...options });
  managers.push(test.manager);
  test.manager.addPolicy({ name: 'transfers', toolPattern: 'transfer_*', requireExplicit: true, approvals });
  const events: ManagerEvent[] = [];
  test.manager.subscribe((event) => events.push(event));
  return { ...test, events };
}

const transfer = { toolName: 'transfer_funds', input: { amount: 25_000, to: 'ACME' }, requestedBy: 'agent-bob' };

/** The error `promise` rejects with (a resolved promise fails the test). */
const errorOf = (promise: Promise<unknown>): Promise<HitlError> =>
  promise.then(
    () => Promise.reject(new Error('expected a HitlError, but it succeeded')),
    (error: unknown) => (HitlError.is(error) ? error : Promise.reject(error)),
  );

describe('ApprovalPolicy.approvals', () => {
  it.each([0, 11, 1.5, -1, Number.NaN, '2', null])('refuses %s, naming the field and the value', (value) => {
    const manager = createManager();
    managers.push(manager);
    let caught: unknown;
    try {
      manager.addPolicy({ name: 'p', toolPattern: 'x_*', requireExplicit: true, approvals: value as number });
    } catch (error) {
      caught = error;
    }
    expect(HitlError.is(caught, 'invalid_input')).toBe(true);
    expect((caught as HitlError).message).toContain("policy 'p': approvals");
    expect((caught as HitlError).details?.field).toBe("policy 'p': approvals");
    expect(manager.listPolicies()).toEqual([]);
  });

  it('accepts 1 to 10 and lists the policy with it', () => {
    const { manager } = setup(10);
    manager.addPolicy({ name: 'one', toolPattern: 'y_*', requireExplicit: true, approvals: 1 });
    expect(manager.listPolicies().map((policy) => policy.approvals)).toEqual([10, 1]);
  });

  it('is refused on a store without addApproval, where it could not be atomic', () => {
    const memory = createMemoryStore();
    const { addApproval: _dropped, ...withoutApprovals } = memory;
    const store: ApprovalStore = withoutApprovals;
    const error = (() => {
      try {
        createManager({ store, policies: [{ name: 'dual', toolPattern: '*', requireExplicit: true, approvals: 2 }] });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect((error as Error).message).toMatch(/approvals 2 needs a store with addApproval/);
    const single = createManager({ store, policies: [{ name: 'single', toolPattern: '*', requireExplicit: true, approvals: 1 }] });
    managers.push(single);
  });
});

describe('a request that needs two approvals', () => {
  it('stays pending after the first, is approved by the second, and tells reviewers in between', async () => {
    const { manager, notifier, events } = setup();
    const record = await manager.submit(transfer);
    expect(record.evaluation.approvals).toBe(2);
    expect(record).toMatchObject({ status: 'pending', approvalsRequired: 2, approvals: [] });
    const id = record.request.id;
    const waiting = manager.waitFor(id);

    const first = await manager.respond(id, { decision: 'approve', respondedBy: 'alice', feedback: 'checked the invoice' });
    expect(first.status).toBe('pending');
    expect(first.approvals).toEqual([
      { by: 'alice', at: expect.any(String), feedback: 'checked the invoice', decisionId: expect.any(String) },
    ]);
    expect(first.response).toBeUndefined();
    // Notified at creation, then again: one more approver is needed.
    expect(notifier.records.map((notified) => notified.approvals?.length)).toEqual([0, 1]);

    const second = await manager.respond(id, { decision: 'approve', respondedBy: 'carol' });
    expect(second.status).toBe('approved');
    expect(second.approvals?.map((approval) => approval.by)).toEqual(['alice', 'carol']);
    expect(second.response).toMatchObject({ decision: 'approve', respondedBy: 'carol' });
    const response = await waiting;
    expect(response).toEqual(second.response);
    expect(await manager.get(id)).toEqual(second);

    const types = events.map((event) =>
      event.type === 'request-approval-added' ? `${event.type}:${event.approval.by}:${event.remaining}` : event.type,
    );
    expect(types).toEqual(['request-created', 'request-approval-added:alice:1', 'request-approval-added:carol:0', 'request-decided']);
  });

  it('counts Alice and alice (and full-width ＡＬＩＣＥ) as one approver: conflict, with details', async () => {
    const { manager } = setup();
    const { request } = await manager.submit(transfer);
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'Alice' });
    for (const again of ['alice', ' ＡＬＩＣＥ ']) {
      const error = await errorOf(manager.respond(request.id, { decision: 'approve', respondedBy: again }));
      expect(error.code).toBe('conflict');
      expect(error.message).toContain('has already approved request');
      expect(error.details).toMatchObject({ field: 'respondedBy', value: again, ids: [request.id] });
    }
    const current = await manager.get(request.id);
    expect(current?.status).toBe('pending');
    expect(current?.approvals).toHaveLength(1);
  });

  it('never counts the requester, and refuses an anonymous approval', async () => {
    const { manager } = setup();
    const { request } = await manager.submit(transfer);
    expect((await errorOf(manager.respond(request.id, { decision: 'approve', respondedBy: 'Agent-Bob' }))).code).toBe('forbidden');
    const anonymous = await manager.submit({ toolName: 'transfer_funds', input: { amount: 1 } });
    const error = await errorOf(manager.respond(anonymous.request.id, { decision: 'approve' }));
    expect(error.code).toBe('forbidden');
    expect(error.details?.field).toBe('respondedBy');
    expect((await manager.get(request.id))?.approvals).toEqual([]);
  });

  it('refuses modify while approvals are required', async () => {
    const { manager } = setup();
    const { request } = await manager.submit(transfer);
    const error = await errorOf(manager.respond(request.id, { decision: 'modify', modified: { amount: 1 }, respondedBy: 'alice' }));
    expect(error.code).toBe('conflict');
    expect(error.details?.field).toBe('decision');
    expect(error.message).toContain('reject it with feedback instead');
  });

  it('is closed by one reject, keeping the approvals given', async () => {
    const { manager, events } = setup(3);
    const { request } = await manager.submit(transfer);
    const waiting = manager.waitFor(request.id);
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    const rejected = await manager.respond(request.id, { decision: 'reject', respondedBy: 'dave', feedback: 'wrong account' });
    expect(rejected.status).toBe('rejected');
    expect(rejected.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect(await waiting).toMatchObject({ decision: 'reject', respondedBy: 'dave' });
    expect(events.filter((event) => event.type === 'request-approval-added')).toHaveLength(1);
    expect((await errorOf(manager.respond(request.id, { decision: 'approve', respondedBy: 'carol' }))).code).toBe('conflict');
  });

  it('expires with one of two approvals in, keeping the partial approval', async () => {
    const { manager, clock } = setup(2, { timeoutMs: 1_000 });
    const { request } = await manager.submit(transfer);
    const waiting = manager.waitFor(request.id).catch((error: unknown) => error);
    await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice' });
    clock.advance(1_000);
    const error = await waiting;
    expect(HitlError.is(error, 'timeout')).toBe(true);
    const expired = await manager.get(request.id);
    expect(expired?.status).toBe('expired');
    expect(expired?.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect((await errorOf(manager.respond(request.id, { decision: 'approve', respondedBy: 'carol' }))).code).toBe('conflict');
  });

  it('returns the same record to a retried approval with its idempotency key', async () => {
    const { manager } = setup();
    const { request } = await manager.submit(transfer);
    const first = await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice', idempotencyKey: 'click-1' });
    const retry = await manager.respond(request.id, { decision: 'approve', respondedBy: 'alice', idempotencyKey: 'click-1' });
    expect(retry).toEqual(first);
    expect(retry.approvals).toHaveLength(1);
  });

  it('leaves a one-approval request exactly as before: no approvals fields, the same events', async () => {
    const { manager, events, notifier } = setup(1);
    const record = await manager.submit(transfer);
    expect(record).not.toHaveProperty('approvalsRequired');
    expect(record).not.toHaveProperty('approvals');
    expect(record.evaluation).not.toHaveProperty('approvals');
    const decided = await manager.respond(record.request.id, { decision: 'modify', modified: { amount: 1 }, respondedBy: 'alice' });
    expect(decided.status).toBe('modified');
    expect(decided).not.toHaveProperty('approvals');
    expect(events.map((event) => event.type)).toEqual(['request-created', 'request-decided']);
    expect(notifier.records).toHaveLength(1);
  });

  it('applies to approval requests only: an input request needs one answer', async () => {
    const { manager } = setup();
    const record = await manager.submit({ ...transfer, type: 'input' });
    expect(record.approvalsRequired).toBeUndefined();
  });
});

describe('a condition together with approvals', () => {
  function conditional() {
    const test = createTestManager({
      timeoutMs: 60_000,
      policies: [
        { name: 'large-transfers', toolPattern: 'transfer_*', when: 'input.amount > 10000', requireExplicit: true, approvals: 2 },
        { name: 'small-transfers', toolPattern: 'transfer_*', maxRiskLevel: 'irreversible' },
      ],
    });
    managers.push(test.manager);
    return test;
  }

  it('a large amount needs two distinct approvers, none of them the requester', async () => {
    const { manager } = conditional();
    const record = await manager.submit(transfer);
    expect(record).toMatchObject({ status: 'pending', approvalsRequired: 2, approvals: [] });
    expect(record.evaluation).toMatchObject({ outcome: 'review', policy: 'large-transfers', approvals: 2 });
    expect(record.evaluation.reason).toContain('input.amount > 10000');
    const id = record.request.id;
    expect((await errorOf(manager.respond(id, { decision: 'approve', respondedBy: 'Agent-Bob' }))).code).toBe('forbidden');
    expect((await manager.respond(id, { decision: 'approve', respondedBy: 'alice' })).status).toBe('pending');
    expect((await errorOf(manager.respond(id, { decision: 'approve', respondedBy: ' ALICE' }))).code).toBe('conflict');
    const approved = await manager.respond(id, { decision: 'approve', respondedBy: 'carol' });
    expect(approved.status).toBe('approved');
    expect(approved.approvals?.map((approval) => approval.by)).toEqual(['alice', 'carol']);
  });

  it('a small amount is decided by the next policy, with no approvals asked', async () => {
    const { manager, notifier } = conditional();
    const record = await manager.submit({ ...transfer, input: { amount: 10_000, to: 'ACME' } });
    expect(record.status).toBe('approved');
    expect(record.evaluation).toMatchObject({ outcome: 'approve', policy: 'small-transfers' });
    expect(record.approvalsRequired).toBeUndefined();
    expect(record.response).toMatchObject({ automatic: true, metadata: { cause: 'policy' } });
    expect(notifier.records).toHaveLength(0);
  });
});

describe('racing reviewers on the memory store', () => {
  it('10 reviewers on 3 managers sharing a store, 200 rounds: 2 approvals, one approved, every waiter woken once alike', async () => {
    const clock = createManualClock();
    const store = createMemoryStore();
    const policies = [{ name: 'dual', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 }];
    const trio = [0, 1, 2].map(() =>
      createManager({ store, policies, now: clock.now, scheduler: clock, notifiers: [createRecordingNotifier()] }),
    );
    managers.push(...trio);
    const approvedTransitions = new Map<string, number>();
    for (const manager of trio) {
      manager.subscribe((event) => {
        if (event.type === 'request-decided')
          approvedTransitions.set(event.record.request.id, (approvedTransitions.get(event.record.request.id) ?? 0) + 1);
      });
    }
    for (let round = 0; round < 200; round++) {
      const { request } = await (trio[round % 3] as Manager).submit({ ...transfer, id: `race-${round}` });
      const waiters = trio.flatMap((manager) => [manager.waitFor(request.id), manager.waitFor(request.id)]);
      const attempts = await Promise.allSettled(
        Array.from({ length: 10 }, (_, reviewer) =>
          (trio[reviewer % 3] as Manager).respond(request.id, { decision: 'approve', respondedBy: `reviewer-${reviewer}` }),
        ),
      );
      const accepted = attempts.filter((attempt) => attempt.status === 'fulfilled');
      expect(accepted).toHaveLength(2);
      for (const attempt of attempts) if (attempt.status === 'rejected') expect(HitlError.is(attempt.reason, 'conflict')).toBe(true);
      const final = await store.get(request.id);
      expect(final?.status).toBe('approved');
      expect(final?.approvals).toHaveLength(2);
      const responses = await Promise.all(waiters);
      for (const response of responses) expect(response).toEqual(final?.response);
      // Each of the three managers saw the one approved transition once.
      expect(approvedTransitions.get(request.id)).toBe(3);
    }
  });
});

describe('the log notifier on a request that needs several approvals', () => {
  it('says how many approvals are in, by whom, and how many more are needed, as the other notifiers do', async () => {
    const warn = vi.fn();
    const { manager } = setup(2, { notifiers: [createLogNotifier({ warn })] });
    const record = await manager.submit(transfer);
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' });
    // The manager's own notice jobs run before respond returns.
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      'human interaction required: 0 of 2 approvals; needs 2',
      'human interaction required: 1 of 2 approvals (alice); needs 1 more',
    ]);
    expect(warn.mock.calls[1]?.[1]).toMatchObject({
      id: record.request.id,
      toolName: 'transfer_funds',
      approvals: ['alice'],
      approvalsRequired: 2,
      approvalsRemaining: 1,
    });
  });
});
