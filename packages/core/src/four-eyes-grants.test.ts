// Four eyes with grants and respondMany: a grant or a bulk decision gives at most one approval, never the whole quorum.
import { afterEach, describe, expect, it } from 'vitest';
import { HitlError, type Manager } from './index.js';
import { createTestManager } from './testing.js';

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function setup() {
  const test = createTestManager({
    timeoutMs: 60_000,
    policies: [
      { name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 },
      { name: 'emails', toolPattern: 'send_email', requireExplicit: true },
    ],
  });
  managers.push(test.manager);
  return test;
}

const transfer = (threadId = 'chat-1', amount = 25_000) => ({
  toolName: 'transfer_funds',
  input: { amount },
  threadId,
  requestedBy: 'agent-7',
});

/** The error `promise` rejects with (a resolved promise fails the test). */
const errorOf = (promise: Promise<unknown>): Promise<HitlError> =>
  promise.then(
    () => Promise.reject(new Error('expected a HitlError, but it succeeded')),
    (error: unknown) => (HitlError.is(error) ? error : Promise.reject(error)),
  );

describe('four eyes with grants: a grant is at most one approval, never the whole quorum', () => {
  it("a covering approve grant gives a new call its first approval, as the grant's maker; a human must add the second", async () => {
    const { manager } = setup();
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'transfer_*', scope: { threadId: 'chat-1' }, grantedBy: 'alice' });
    const record = await manager.submit(transfer());
    expect(record.status).toBe('pending');
    expect(record.evaluation).toMatchObject({ outcome: 'review', policy: 'dual-control', approvals: 2, grant: grant.id });
    expect(record.approvals).toEqual([{ by: 'alice', at: expect.any(String), feedback: expect.stringContaining(grant.id) }]);
    // Alice made the grant: she cannot also be the second approver.
    const again = await errorOf(manager.respond(record.request.id, { decision: 'approve', respondedBy: 'ALICE' }));
    expect(again.code).toBe('conflict');
    const approved = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    expect(approved.status).toBe('approved');
    expect(approved.approvals?.map((approval) => approval.by)).toEqual(['alice', 'bob']);
  });

  it('the synchronous evaluate never approves such a call by a grant, and counts no use', async () => {
    const { manager } = setup();
    const grant = await manager.grant({ effect: 'approve', toolPattern: '*', scope: { threadId: 'chat-1' }, grantedBy: 'alice' });
    const call = {
      toolName: 'transfer_funds',
      input: { amount: 1 },
      confidence: 1,
      riskLevel: 'irreversible' as const,
      threadId: 'chat-1',
    };
    expect(manager.evaluate(call).outcome).toBe('review');
    expect((await manager.getGrant(grant.id))?.uses).toBe(0);
    // The same grant still approves a call whose policy needs one approval.
    expect(manager.evaluate({ ...call, toolName: 'send_email' })).toMatchObject({ outcome: 'approve', grant: grant.id });
  });

  it('a grant made by the requester counts for nothing', async () => {
    const { manager } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'transfer_*', scope: { threadId: 'chat-1' }, grantedBy: 'Agent-7' });
    const record = await manager.submit(transfer());
    expect(record.status).toBe('pending');
    expect(record.approvals).toEqual([]);
  });

  it('a new grant adds one approval to the pending requests it covers, and decides those that need one', async () => {
    const { manager } = setup();
    const dual = await manager.submit(transfer());
    const single = await manager.submit({
      toolName: 'send_email',
      input: { to: 'a@example.com' },
      threadId: 'chat-1',
      requestedBy: 'agent-7',
    });
    await manager.grant({ effect: 'approve', toolPattern: '*', scope: { threadId: 'chat-1' }, grantedBy: 'alice' });
    const afterDual = await manager.get(dual.request.id);
    expect(afterDual?.status).toBe('pending');
    expect(afterDual?.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect((await manager.get(single.request.id))?.status).toBe('approved');
  });

  it('respond with remember on such a request records one approval and the grant, which then gives other calls one approval each', async () => {
    const { manager } = setup();
    const first = await manager.submit(transfer());
    const sibling = await manager.submit(transfer('chat-1', 10));
    const answered = await manager.respond(first.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'thread' } });
    expect(answered.status).toBe('pending');
    expect(answered.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect(answered.response).toBeUndefined();
    const grants = await manager.listGrants({ active: true });
    expect(grants.items).toHaveLength(1);
    // The sibling of the same thread got one approval from the new grant, by alice; still pending.
    const siblingNow = await manager.get(sibling.request.id);
    expect(siblingNow?.status).toBe('pending');
    expect(siblingNow?.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect((await errorOf(manager.respond(sibling.request.id, { decision: 'approve', respondedBy: 'alice' }))).code).toBe('conflict');
  });
});

describe('ApprovalPolicy.grantCoversQuorum: a grant decides a request that needs several approvals when the policy says so', () => {
  function coveredSetup() {
    const test = createTestManager({
      timeoutMs: 60_000,
      policies: [{ name: 'payouts', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2, grantCoversQuorum: true }],
    });
    managers.push(test.manager);
    return test;
  }

  it.each([['yes'], [1], [null]])('refuses %s, naming the policy, the field and the value', (value) => {
    const { manager } = setup();
    let caught: unknown;
    try {
      manager.addPolicy({ name: 'p', toolPattern: 'x_*', requireExplicit: true, approvals: 2, grantCoversQuorum: value as never });
    } catch (error) {
      caught = error;
    }
    expect(HitlError.is(caught, 'invalid_input')).toBe(true);
    expect((caught as HitlError).details?.field).toBe("policy 'p': grantCoversQuorum");
    expect((caught as HitlError).message).toContain("policy 'p': grantCoversQuorum");
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(['dual-control', 'emails']);
  });

  it('refuses it with grants: false, which no grant can satisfy', () => {
    const { manager } = setup();
    const refusal = (() => {
      try {
        manager.addPolicy({ name: 'p', toolPattern: 'x_*', requireExplicit: true, approvals: 2, grants: false, grantCoversQuorum: true });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(HitlError.is(refusal, 'invalid_input')).toBe(true);
    expect((refusal as HitlError).details?.field).toBe("policy 'p': grantCoversQuorum");
  });

  it('a covering approve grant approves a new call outright, naming the grant, and counts one use', async () => {
    const { manager } = coveredSetup();
    expect(manager.listPolicies()[0]).toMatchObject({ approvals: 2, grantCoversQuorum: true });
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'transfer_*', scope: { threadId: 'chat-1' }, grantedBy: 'alice' });
    const record = await manager.submit(transfer());
    expect(record.status).toBe('approved');
    expect(record.evaluation).toMatchObject({ outcome: 'approve', grant: grant.id });
    expect(record.response).toMatchObject({ decision: 'approve', automatic: true, metadata: { cause: 'grant', grant: grant.id } });
    expect((await manager.getGrant(grant.id))?.uses).toBe(1);
    // Without a grant the call still needs two distinct approvers.
    const other = await manager.submit(transfer('chat-2'));
    expect(other).toMatchObject({ status: 'pending', approvalsRequired: 2, evaluation: { approvals: 2, grantCoversQuorum: true } });
  });

  it('a new grant decides the pending requests it covers, even one with an approval already', async () => {
    const { manager } = coveredSetup();
    const fresh = await manager.submit(transfer('chat-3', 1));
    const halfway = await manager.submit(transfer('chat-3', 2));
    await manager.respond(halfway.request.id, { decision: 'approve', respondedBy: 'bob' });
    const grant = await manager.grant({ effect: 'approve', toolPattern: '*', scope: { threadId: 'chat-3' }, grantedBy: 'alice' });
    for (const id of [fresh.request.id, halfway.request.id]) {
      expect(await manager.get(id)).toMatchObject({ status: 'approved', response: { metadata: { cause: 'grant', grant: grant.id } } });
    }
  });

  it("a human's approval is still one of the quorum, in respond and respondMany", async () => {
    const { manager } = coveredSetup();
    const one = await manager.submit(transfer('chat-4', 1));
    const two = await manager.submit(transfer('chat-4', 2));
    expect((await manager.respond(one.request.id, { decision: 'approve', respondedBy: 'alice' })).status).toBe('pending');
    const [bulk] = await manager.respondMany({ ids: [two.request.id] }, { decision: 'approve', respondedBy: 'alice' });
    expect(bulk).toMatchObject({ status: 'pending', approvals: [{ by: 'alice' }] });
  });
});

describe('four eyes with respondMany: each request gets one approval from the reviewer, all or nothing', () => {
  it('approves the one-approval requests and adds one approval to the others', async () => {
    const { manager } = setup();
    const a = await manager.submit(transfer('chat-2', 1));
    const b = await manager.submit(transfer('chat-2', 2));
    const c = await manager.submit({ toolName: 'send_email', input: { to: 'x@example.com' }, threadId: 'chat-2', requestedBy: 'agent-7' });
    const records = await manager.respondMany({ threadId: 'chat-2' }, { decision: 'approve', respondedBy: 'alice' });
    const byId = new Map(records.map((record) => [record.request.id, record]));
    expect(byId.get(a.request.id)).toMatchObject({ status: 'pending', approvals: [{ by: 'alice' }] });
    expect(byId.get(b.request.id)).toMatchObject({ status: 'pending', approvals: [{ by: 'alice' }] });
    expect(byId.get(c.request.id)?.status).toBe('approved');

    // Alice again, with a new request in the batch: nothing is decided, and the error names the requests she approved.
    const d = await manager.submit({ toolName: 'send_email', input: { to: 'y@example.com' }, threadId: 'chat-2', requestedBy: 'agent-7' });
    const refused = await errorOf(
      manager.respondMany({ ids: [a.request.id, b.request.id, d.request.id] }, { decision: 'approve', respondedBy: 'Alice' }),
    );
    expect(refused.code).toBe('conflict');
    expect(refused.details?.ids).toEqual([a.request.id, b.request.id]);
    expect(refused.message).toMatch(/^nothing was decided: 'Alice' has already approved request/);
    expect((await manager.get(d.request.id))?.status).toBe('pending');

    const second = await manager.respondMany({ ids: [a.request.id, b.request.id] }, { decision: 'approve', respondedBy: 'bob' });
    expect(second.map((record) => record.status)).toEqual(['approved', 'approved']);
    expect(second.map((record) => record.approvals?.length)).toEqual([2, 2]);
  });

  it('a reject in bulk closes such requests at once', async () => {
    const { manager } = setup();
    const a = await manager.submit(transfer('chat-3', 1));
    await manager.respond(a.request.id, { decision: 'approve', respondedBy: 'alice' });
    const [rejected] = await manager.respondMany({ ids: [a.request.id] }, { decision: 'reject', respondedBy: 'bob', feedback: 'no' });
    expect(rejected).toMatchObject({ status: 'rejected', approvals: [{ by: 'alice' }] });
  });
});
