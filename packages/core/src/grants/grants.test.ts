// Grants (remembered decisions): respond with remember, evaluation order, uses, expiry and revocation, shared stores, respondMany.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManager, createMemoryStore, HitlError, type ApprovalStore, type Manager, type PolicyCall } from '../index.js';
import { createTestManager } from '../testing.js';

const managers: Manager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function setup(options: Parameters<typeof createTestManager>[0] = {}) {
  const test = createTestManager({ timeoutMs: 60_000, ...options });
  managers.push(test.manager);
  test.manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
  return test;
}

async function errorOf(promise: Promise<unknown>): Promise<HitlError> {
  try {
    await promise;
  } catch (error) {
    if (HitlError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a HitlError, but it succeeded');
}

const email = (threadId?: string, extra: Record<string, unknown> = {}) => ({
  toolName: 'send_email',
  input: { to: 'bob@example.com' },
  riskLevel: 'data_modification' as const,
  ...(threadId === undefined ? {} : { threadId }),
  ...extra,
});

const call = (threadId?: string, extra: Partial<PolicyCall> = {}): PolicyCall => ({
  toolName: 'send_email',
  input: { to: 'bob@example.com' },
  confidence: 1,
  riskLevel: 'data_modification',
  ...(threadId === undefined ? {} : { threadId }),
  ...extra,
});

describe('respond with remember', () => {
  it('approving once for the thread lets the next email in that thread run, recorded as decided by the grant', async () => {
    const { manager } = setup();
    const first = await manager.submit(email('thread-a'));
    expect(first.status).toBe('pending');
    const decided = await manager.respond(first.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'thread' } });
    expect(decided.status).toBe('approved');
    const grantId = decided.response?.grantId;
    expect(grantId).toMatch(/^grant-/);

    const second = await manager.submit(email('thread-a'));
    expect(second.status).toBe('approved');
    expect(second.evaluation.grant).toBe(grantId);
    expect(second.response?.automatic).toBe(true);
    expect(second.response?.metadata).toEqual({ cause: 'grant', grant: grantId });

    const { items } = await manager.listGrants({ active: true });
    expect(items.map((grant) => [grant.id, grant.uses, grant.scope.threadId, grant.sourceRequestId])).toEqual([
      [grantId, 1, 'thread-a', first.request.id],
    ]);
  });

  it('a thread-A grant never applies in thread B or to a call without a thread', async () => {
    const { manager } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', scope: { threadId: 'thread-a' }, grantedBy: 'alice' });
    expect((await manager.submit(email('thread-b'))).status).toBe('pending');
    expect((await manager.submit(email())).status).toBe('pending');
    expect(manager.evaluate(call('thread-b')).outcome).toBe('review');
    expect(manager.evaluate(call()).outcome).toBe('review');
    expect(manager.evaluate(call('thread-a')).grant).toBeDefined();
  });

  it('a scope the request lacks is invalid_input and nothing is decided', async () => {
    const { manager } = setup();
    const record = await manager.submit(email());
    const error = await errorOf(
      manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'thread' } }),
    );
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(/threadId/);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    expect((await manager.listGrants()).items).toEqual([]);
  });

  it('a reject with remember makes a deny grant ("never")', async () => {
    const { manager } = setup();
    const record = await manager.submit(email('t'));
    const decided = await manager.respond(record.request.id, { decision: 'reject', respondedBy: 'alice', remember: { scope: 'global' } });
    const next = await manager.submit(email('other'));
    expect(next.status).toBe('rejected');
    expect(next.evaluation.grant).toBe(decided.response?.grantId);
    expect(manager.evaluate(call('x')).outcome).toBe('deny');
  });

  it('a new approve grant decides the pending requests it covers (parallel calls of the turn)', async () => {
    const { manager } = setup();
    const first = await manager.submit(email('t', { runId: 'run-1' }));
    const second = await manager.submit(email('t', { runId: 'run-1' }));
    const elsewhere = await manager.submit(email('other', { runId: 'run-2' }));
    await manager.respond(first.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'run' } });
    const after = await manager.get(second.request.id);
    expect(after?.status).toBe('approved');
    expect(after?.response?.metadata?.cause).toBe('grant');
    expect((await manager.get(elsewhere.request.id))?.status).toBe('pending');
  });
});

describe('evaluation order', () => {
  it('a grant never overrides a deny policy', async () => {
    const { manager } = setup();
    manager.addPolicy({ name: 'no-drops', toolPattern: 'drop_*', deny: true });
    await manager.grant({ effect: 'approve', toolPattern: '*', grantedBy: 'alice' });
    expect(manager.evaluate({ ...call(), toolName: 'drop_table' }).outcome).toBe('deny');
    expect((await manager.submit({ toolName: 'drop_table', input: {} })).status).toBe('rejected');
    expect((await manager.submit({ toolName: 'drop_table', input: {} })).evaluation.policy).toBe('no-drops');
  });

  it("with defaultOutcome: 'deny', no approve grant applies to a tool no policy matches", async () => {
    const { manager } = setup({ defaultOutcome: 'deny' });
    const grant = await manager.grant({ effect: 'approve', toolPattern: '*', grantedBy: 'alice' });
    expect(manager.evaluate({ ...call(), toolName: 'send_report' }).outcome).toBe('deny');
    const record = await manager.submit({ toolName: 'send_report', input: {} });
    expect(record.status).toBe('rejected');
    expect(record.evaluation.grant).toBeUndefined();
    // A tool a policy matches is covered as usual.
    expect(manager.evaluate(call())).toMatchObject({ outcome: 'approve', grant: grant.id });
    expect((await manager.getGrant(grant.id))?.uses).toBe(1);
  });

  it('a grants: false policy is never satisfied by a grant', async () => {
    const { manager } = setup();
    manager.addPolicy({ name: 'transfers', toolPattern: 'transfer_*', requireExplicit: true, grants: false });
    await manager.grant({ effect: 'approve', toolPattern: 'transfer_money', grantedBy: 'alice' });
    expect(manager.evaluate({ ...call(), toolName: 'transfer_money' }).outcome).toBe('review');
    expect((await manager.submit({ toolName: 'transfer_money', input: {} })).status).toBe('pending');
  });

  it('a deny grant wins over an approve grant', async () => {
    const { manager } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    const deny = await manager.grant({ effect: 'deny', toolPattern: 'send_*', scope: { threadId: 't' }, grantedBy: 'alice' });
    expect(manager.evaluate(call('t'))).toMatchObject({ outcome: 'deny', grant: deny.id });
    expect(manager.evaluate(call('u')).outcome).toBe('approve');
  });

  it('a grant with a CEL condition covers only calls where it holds', async () => {
    const { manager } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', when: 'input.to.endsWith("@example.com")', grantedBy: 'alice' });
    expect(manager.evaluate(call()).outcome).toBe('approve');
    expect(manager.evaluate(call(undefined, { input: { to: 'eve@evil.test' } })).outcome).toBe('review');
  });

  it('a requester-scoped grant compares identities folded', async () => {
    const { manager } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', scope: { requestedBy: 'Bob' }, grantedBy: 'alice' });
    expect(manager.evaluate(call(undefined, { requestedBy: ' bob' })).outcome).toBe('approve');
    expect(manager.evaluate(call(undefined, { requestedBy: 'carol' })).outcome).toBe('review');
    expect(manager.evaluate(call()).outcome).toBe('review');
  });

  it('an invalid grant is invalid_input naming the field', async () => {
    const { manager } = setup();
    expect((await errorOf(manager.grant({ effect: 'approve', toolPattern: '@(a)', grantedBy: 'a' }))).message).toMatch(/toolPattern/);
    expect((await errorOf(manager.grant({ effect: 'approve', toolPattern: 'a', maxUses: 0, grantedBy: 'a' }))).message).toMatch(/maxUses/);
    expect((await errorOf(manager.grant({ effect: 'approve', toolPattern: 'a', ttlMs: -1, grantedBy: 'a' }))).message).toMatch(/ttlMs/);
    expect((await errorOf(manager.grant({ effect: 'approve', toolPattern: 'a', when: 'input.x >', grantedBy: 'a' }))).message).toMatch(
      /when/,
    );
    expect((await errorOf(manager.grant({ effect: 'maybe' as 'approve', toolPattern: 'a', grantedBy: 'a' }))).message).toMatch(/effect/);
  });
});

describe('uses, expiry and revocation', () => {
  it('maxUses 3 approves exactly 3 calls, however they arrive', async () => {
    const { manager } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 3, grantedBy: 'alice' });
    const fast = [manager.evaluate(call()).outcome, manager.evaluate(call()).outcome];
    const submitted = await Promise.all(Array.from({ length: 10 }, () => manager.submit(email())));
    const approved =
      fast.filter((outcome) => outcome === 'approve').length + submitted.filter((record) => record.status === 'approved').length;
    expect(approved).toBe(3);
    expect((await manager.listGrants({ active: false })).items[0]?.uses).toBe(3);
  });

  it('an expired grant never applies (injected clock)', async () => {
    const { manager, clock } = setup();
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', ttlMs: 1_000, grantedBy: 'alice' });
    expect(manager.evaluate(call()).outcome).toBe('approve');
    clock.advance(1_000);
    expect(manager.evaluate(call()).outcome).toBe('review');
    expect((await manager.submit(email())).status).toBe('pending');
    expect((await manager.listGrants({ active: true })).items).toEqual([]);
  });

  it('once revokeGrant returns, no manager on the store approves by it', async () => {
    const store = createMemoryStore();
    const one = createManager({ store });
    const two = createManager({ store });
    managers.push(one, two);
    for (const manager of [one, two]) manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
    const grant = await one.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    expect(two.evaluate(call()).outcome).toBe('approve');
    const revoked = await one.revokeGrant(grant.id, { revokedBy: 'alice' });
    expect(revoked.revokedBy).toBe('alice');
    expect(two.evaluate(call()).outcome).toBe('review');
    expect((await two.submit(email())).status).toBe('pending');
    expect((await errorOf(one.revokeGrant('grant-nope', { revokedBy: 'a' }))).code).toBe('not_found');
  });

  it('a grant lookup that throws falls through to the policies, never approving', async () => {
    const inner = createMemoryStore();
    const store: ApprovalStore = {
      ...inner,
      useGrantNow() {
        throw new Error('disk on fire');
      },
    };
    const manager = createManager({ store, logger: { warn() {}, error() {} } });
    managers.push(manager);
    manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    expect(manager.evaluate(call()).outcome).toBe('review');
    expect((await manager.submit(email())).status).toBe('pending');
  });
});

describe('a store shared across processes (no useGrantNow)', () => {
  function sharedLike(useGrant: ApprovalStore['useGrant']): ApprovalStore {
    const inner = createMemoryStore();
    const { useGrantNow: _inProcessOnly, ...rest } = inner;
    return { ...rest, useGrant };
  }

  it('evaluate leaves a covered call to submit, which confirms the use with the store', async () => {
    const inner = createMemoryStore();
    const store = sharedLike((id, at) => inner.useGrant!(id, at));
    const manager = createManager({
      store: {
        ...store,
        createGrant: inner.createGrant,
        getGrant: inner.getGrant,
        listGrants: inner.listGrants,
        subscribeGrants: inner.subscribeGrants,
      },
    });
    managers.push(manager);
    manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', maxUses: 1, grantedBy: 'alice' });
    expect(manager.evaluate(call()).outcome).toBe('review');
    expect((await manager.submit(email())).evaluation.grant).toBe(grant.id);
    expect((await manager.submit(email())).status).toBe('pending');
  });

  it('a use the store cannot confirm (it fails) falls through to the policies, never approving', async () => {
    const inner = createMemoryStore();
    const failing = sharedLike(async () => Promise.reject(new Error('connection reset')));
    const manager = createManager({
      store: {
        ...failing,
        createGrant: inner.createGrant,
        getGrant: inner.getGrant,
        listGrants: inner.listGrants,
        subscribeGrants: inner.subscribeGrants,
      },
      logger: { warn() {}, error() {} },
    });
    managers.push(manager);
    manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
    await manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    expect((await manager.submit(email())).status).toBe('pending');
  });
});

describe('respondMany', () => {
  it('decides every pending request of a run together', async () => {
    const { manager } = setup();
    const records = await Promise.all([1, 2, 3].map(() => manager.submit(email('t', { runId: 'run-9' }))));
    const decided = await manager.respondMany({ runId: 'run-9' }, { decision: 'approve', respondedBy: 'alice', feedback: 'ok' });
    expect(decided.map((record) => record.status)).toEqual(['approved', 'approved', 'approved']);
    expect(new Set(decided.map((record) => record.request.id))).toEqual(new Set(records.map((record) => record.request.id)));
  });

  it('with one non-pending id decides nothing and names that id', async () => {
    const { manager } = setup();
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => manager.submit(email('t'))));
    await manager.respond(b!.request.id, { decision: 'reject', respondedBy: 'alice' });
    const error = await errorOf(
      manager.respondMany({ ids: [a!.request.id, b!.request.id, c!.request.id] }, { decision: 'approve', respondedBy: 'alice' }),
    );
    expect(error.code).toBe('conflict');
    expect(error.details?.ids).toEqual([b!.request.id]);
    expect((await manager.get(a!.request.id))?.status).toBe('pending');
    expect((await manager.get(c!.request.id))?.status).toBe('pending');
  });

  it('refuses a self-approval naming the ids, more than 500 ids, and modify', async () => {
    const { manager } = setup();
    const own = await manager.submit(email('t', { requestedBy: 'alice' }));
    const other = await manager.submit(email('t'));
    const error = await errorOf(manager.respondMany({ threadId: 't' }, { decision: 'approve', respondedBy: 'Alice' }));
    expect(error.code).toBe('forbidden');
    expect(error.details?.ids).toEqual([own.request.id]);
    expect((await manager.get(other.request.id))?.status).toBe('pending');
    const many = Array.from({ length: 501 }, (_, index) => `id-${index}`);
    expect((await errorOf(manager.respondMany({ ids: many }, { decision: 'approve' }))).code).toBe('invalid_input');
    expect((await errorOf(manager.respondMany({ ids: [other.request.id] }, { decision: 'modify', modified: {} }))).code).toBe(
      'invalid_input',
    );
  });
});

describe('a stored grant this version cannot compile', () => {
  const stored = (effect: 'approve' | 'deny') => ({
    id: `grant-stored-${effect}`,
    effect,
    toolPattern: 'send_email',
    when: 'input.to ==', // not CEL: a record written by another version, or edited by hand
    scope: {},
    uses: 0,
    grantedBy: 'alice',
    createdAt: new Date().toISOString(),
  });

  async function managerOver(effect: 'approve' | 'deny') {
    const store = createMemoryStore();
    await store.createGrant!(stored(effect));
    const manager = createManager({ store, policies: [{ name: 'email', toolPattern: 'send_email', maxRiskLevel: 'irreversible' }] });
    managers.push(manager);
    return manager;
  }

  it('a deny grant sends the calls it may cover to a human instead of letting them through', async () => {
    const manager = await managerOver('deny');
    const record = await manager.submit(email());
    expect(record.status).toBe('pending');
    expect(record.evaluation).toMatchObject({ outcome: 'review', reason: expect.stringContaining('could not be compiled') });
  });

  it('an approve grant approves nothing (the policies decide, here to approve without it)', async () => {
    const manager = await managerOver('approve');
    const record = await manager.submit(email());
    expect(record.status).toBe('approved');
    expect(record.evaluation.grant).toBeUndefined();
  });
});

describe('decisions made through grants and respondMany run their hooks (the store has an outbox)', () => {
  it('respondMany, remember and the requests a new grant covers each run onApprove once', async () => {
    const approved: string[] = [];
    const { manager } = setup({ hooks: { onApprove: (record) => void approved.push(record.request.id) } });
    expect(createMemoryStore().outbox).toBeDefined();

    const batch = [await manager.submit(email('t-1')), await manager.submit(email('t-1'))];
    await manager.respondMany({ ids: batch.map((record) => record.request.id) }, { decision: 'approve', respondedBy: 'alice' });

    const [remembered, covered] = [await manager.submit(email('t-2')), await manager.submit(email('t-2'))];
    await manager.respond(remembered.request.id, { decision: 'approve', respondedBy: 'alice', remember: { scope: 'thread' } });

    const expected = [...batch, remembered, covered].map((record) => record.request.id).sort();
    await vi.waitFor(() => expect([...approved].sort()).toEqual(expected), { timeout: 5_000 });
    expect((await manager.get(covered.request.id))?.status).toBe('approved');
    const { items } = await manager.listDeliveries({});
    const hookJobs = items.filter((job) => job.kind === 'hook' && expected.includes(job.requestId ?? ''));
    expect(hookJobs).toHaveLength(4);
  });
});
