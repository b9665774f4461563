// A grant's use counts only when it decides (or is one approval of) a call: vetoed, unstored and
// already-decided calls give it back, and grants that cannot count are skipped before counting.
import { afterEach, describe, expect, it } from 'vitest';
import { createManager, createMemoryStore, HitlError, type ApprovalStore, type Manager, type ManagerOptions } from '../index.js';
import { createTestManager } from '../testing.js';

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

const policies: NonNullable<ManagerOptions['policies']> = [
  { name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 },
  { name: 'email', toolPattern: 'send_email', requireExplicit: true },
];

function setup(options: Omit<ManagerOptions, 'now' | 'scheduler'> = {}) {
  const test = createTestManager({ timeoutMs: 60_000, policies, ...options });
  managers.push(test.manager);
  return test;
}

const email = (threadId = 'chat-1', to = 'ann@example.com') => ({
  toolName: 'send_email',
  input: { to },
  threadId,
  requestedBy: 'agent-7',
});
const transfer = (threadId = 'chat-1', requestedBy = 'agent-7') => ({
  toolName: 'transfer_funds',
  input: { amount: 25_000 },
  threadId,
  requestedBy,
});

async function errorOf(promise: Promise<unknown>): Promise<HitlError> {
  try {
    await promise;
  } catch (error) {
    if (HitlError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a HitlError, but it succeeded');
}

async function usesOf(manager: Manager, id: string): Promise<number | undefined> {
  return (await manager.getGrant(id))?.uses;
}

describe('submit: a use counts only when the grant decides the call', () => {
  it("a grant never approves its maker's own calls (no self-approval through a grant), in evaluate and in submit; a deny grant still refuses them", async () => {
    const { manager } = setup();
    const own = await manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'Ａgent-7 ' });
    const call = { toolName: 'send_email', input: { to: 'ann@example.com' }, confidence: 0.9, riskLevel: 'data_modification' as const };
    expect(manager.evaluate({ ...call, requestedBy: 'agent-7' }).outcome).toBe('review');
    const record = await manager.submit(email());
    expect(record.status).toBe('pending');
    expect(record.evaluation.grant).toBeUndefined();
    expect(await usesOf(manager, own.id)).toBe(0);
    // Someone else's call is approved by it.
    expect(manager.evaluate({ ...call, requestedBy: 'agent-8' })).toMatchObject({ outcome: 'approve', grant: own.id });
    // Restricting oneself is allowed: a deny grant by the requester applies to the requester's calls.
    const never = await manager.grant({ effect: 'deny', toolPattern: 'send_email', grantedBy: 'agent-7' });
    expect(manager.evaluate({ ...call, requestedBy: 'agent-7' })).toMatchObject({ outcome: 'deny', grant: never.id });
  });

  it('a maxUses 1 grant made by the requester, on a 2-approval policy, is skipped: no approval, no use', async () => {
    const { manager } = setup();
    const grant = await manager.grant({
      effect: 'approve',
      toolPattern: 'transfer_*',
      scope: { threadId: 'chat-1' },
      maxUses: 1,
      grantedBy: ' AGENT-7',
    });
    const own = await manager.submit(transfer());
    expect(own.approvals).toEqual([]);
    expect(own.evaluation.grant).toBeUndefined();
    expect(await usesOf(manager, grant.id)).toBe(0);
    // Its one use still goes to a call it can count for: another requester's.
    const other = await manager.submit(transfer('chat-1', 'agent-8'));
    expect(other.approvals?.map((approval) => approval.by)).toEqual([' AGENT-7']);
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('a call the onRequest hook vetoes gives its use back', async () => {
    const { manager } = setup({ hooks: { onRequest: (request) => request.input?.to !== 'eve@evil.test' } });
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 1, grantedBy: 'alice' });
    expect((await errorOf(manager.submit(email('chat-1', 'eve@evil.test')))).code).toBe('forbidden');
    expect(await usesOf(manager, grant.id)).toBe(0);
    const next = await manager.submit(email());
    expect(next).toMatchObject({ status: 'approved', evaluation: { grant: grant.id } });
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('a call the store failed to create gives its use back', async () => {
    const inner = createMemoryStore();
    let failures = 1;
    const store: ApprovalStore = {
      ...inner,
      async create(record, options) {
        if (failures-- > 0) throw new Error('disk full');
        return inner.create(record, options);
      },
    };
    const manager = createManager({ store, policies, logger: { warn() {}, error() {} } });
    managers.push(manager);
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 1, grantedBy: 'alice' });
    expect((await errorOf(manager.submit(email()))).code).toBe('store_unavailable');
    expect(await usesOf(manager, grant.id)).toBe(0);
    expect(await manager.submit(email())).toMatchObject({ status: 'approved', evaluation: { grant: grant.id } });
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('two submits of one id at once: the one stored counts the use, the other gives it back', async () => {
    const { manager } = setup();
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 2, grantedBy: 'alice' });
    const [first, second] = await Promise.all([manager.submit({ ...email(), id: 'call-1' }), manager.submit({ ...email(), id: 'call-1' })]);
    expect(first).toEqual(second);
    expect(first?.evaluation.grant).toBe(grant.id);
    expect(await usesOf(manager, grant.id)).toBe(1);
  });
});

describe('a new grant deciding the pending requests it covers: a use counts only when it decides one', () => {
  it('a request someone else decided first gives its use back, so the grant decides the next one', async () => {
    const inner = createMemoryStore();
    let decideFirst: string | undefined;
    const store: ApprovalStore = {
      ...inner,
      async list(query) {
        const page = await inner.list(query);
        // Another reviewer decides this request between the grant's listing and its decision.
        if (decideFirst !== undefined) {
          const id = decideFirst;
          decideFirst = undefined;
          await inner.decide(id, 'pending', { status: 'rejected', closedAt: new Date(0).toISOString() });
        }
        return page;
      },
    };
    const manager = createManager({ store, policies });
    managers.push(manager);
    const older = await manager.submit(email());
    const newer = await manager.submit(email());
    decideFirst = newer.request.id;
    const grant = await manager.grant({
      effect: 'approve',
      toolPattern: 'send_email',
      scope: { threadId: 'chat-1' },
      maxUses: 1,
      grantedBy: 'alice',
    });
    expect((await manager.get(newer.request.id))?.status).toBe('rejected');
    expect(await manager.get(older.request.id)).toMatchObject({ status: 'approved', evaluation: { outcome: 'review' } });
    expect((await manager.get(older.request.id))?.response?.metadata).toEqual({ cause: 'grant', grant: grant.id });
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('a request its maker approved already is skipped before counting, so the use goes to one it can count for', async () => {
    const { manager } = setup();
    const older = await manager.submit(transfer());
    const approvedByAlice = await manager.submit(transfer());
    await manager.respond(approvedByAlice.request.id, { decision: 'approve', respondedBy: 'alice' });
    const grant = await manager.grant({
      effect: 'approve',
      toolPattern: 'transfer_*',
      scope: { threadId: 'chat-1' },
      maxUses: 1,
      grantedBy: 'Alice',
    });
    expect((await manager.get(approvedByAlice.request.id))?.approvals?.map((approval) => approval.by)).toEqual(['alice']);
    expect((await manager.get(older.request.id))?.approvals?.map((approval) => approval.by)).toEqual(['Alice']);
    expect(await usesOf(manager, grant.id)).toBe(1);
  });

  it('a grant made by the requester gives pending requests no approval and counts no use', async () => {
    const { manager } = setup();
    const pending = await manager.submit(transfer());
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'transfer_*', maxUses: 1, grantedBy: 'agent-7' });
    expect((await manager.get(pending.request.id))?.approvals).toEqual([]);
    expect(await usesOf(manager, grant.id)).toBe(0);
  });

  it('decides every covered pending request, more than one page of 500', async () => {
    const { manager } = setup();
    const count = 520;
    for (let index = 0; index < count; index++) await manager.submit(email('chat-big'));
    await manager.submit(email('chat-other'));
    const grant = await manager.grant({
      effect: 'approve',
      toolPattern: 'send_email',
      scope: { threadId: 'chat-big' },
      grantedBy: 'alice',
    });
    expect((await manager.list({ status: 'pending', threadId: 'chat-big', limit: 1000 })).items).toEqual([]);
    expect((await manager.list({ status: 'approved', threadId: 'chat-big', limit: 1000 })).items).toHaveLength(count);
    expect((await manager.list({ status: 'pending', threadId: 'chat-other' })).items).toHaveLength(1);
    expect(await usesOf(manager, grant.id)).toBe(count);
  });
});
