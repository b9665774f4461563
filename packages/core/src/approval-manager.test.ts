// The approval manager's lifecycle: requestInteraction, submit and waitFor, input hashes, respond, expiry, abort and cancel,
// listing and events, hooks, notifiers that fail or hang, bad input, isolation and close().
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLogNotifier,
  createManager,
  createMemoryStore,
  hashInput,
  HitlError,
  type ApprovalRecord,
  type InteractionType,
  type Manager,
  type ManagerEvent,
  type Notifier,
} from './index.js';
import { createManualClock, createRecordingNotifier, createTestManager } from './testing.js';

const managers: Manager[] = [];
function track<T extends { manager: Manager }>(value: T): T {
  managers.push(value.manager);
  return value;
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function setup(options: Parameters<typeof createTestManager>[0] = {}) {
  const test = track(createTestManager({ timeoutMs: 60_000, ...options }));
  test.manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' });
  test.manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
  return test;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (HitlError.is(error)) return error.code;
    throw error;
  }
  return undefined;
}

const deleteRequest = {
  type: 'approval' as const,
  toolName: 'delete_user',
  description: 'Delete user account 12345 and all associated data',
  input: { user_id: '12345' },
  riskLevel: 'irreversible' as const,
  confidence: 0.85,
};

describe('requestInteraction (blocking), as in the tutorial', () => {
  it.each(['approve', 'reject', 'modify'] as const)('blocks until a reviewer answers %s from elsewhere', async (decision) => {
    const { manager, notifier } = setup();
    let settled = false;
    const waiting = manager.requestInteraction(deleteRequest).finally(() => {
      settled = true;
    });
    const record = await notifier.next();
    expect(record.status).toBe('pending');
    expect(record.request).toMatchObject({
      toolName: 'delete_user',
      input: { user_id: '12345' },
      riskLevel: 'irreversible',
      confidence: 0.85,
    });
    await Promise.resolve();
    expect(settled).toBe(false);

    const answer =
      decision === 'modify'
        ? { decision, modified: { user_id: '12345', soft_delete: true }, feedback: 'soft delete only', respondedBy: 'alice' }
        : { decision, feedback: `${decision}d by alice`, respondedBy: 'alice' };
    const decided = await manager.respond(record.request.id, answer);
    const response = await waiting;
    expect(response).toMatchObject({ requestId: record.request.id, decision, feedback: answer.feedback, respondedBy: 'alice' });
    expect(response.automatic).toBeUndefined();
    expect(decided.status).toBe({ approve: 'approved', reject: 'rejected', modify: 'modified' }[decision]);
    if (decision === 'modify') expect(response.modified).toEqual({ user_id: '12345', soft_delete: true });
    expect((await manager.get(record.request.id))?.status).toBe(decided.status);
  });

  it.each(['approval', 'feedback', 'input', 'annotation'] as InteractionType[])('supports %s interactions', async (type) => {
    const { manager, notifier } = setup();
    const waiting = manager.requestInteraction({ type, toolName: 'get_weather', confidence: 1, riskLevel: 'read_only', description: 'x' });
    if (type === 'approval') {
      // A confident read-only approval needs nobody.
      expect(await waiting).toMatchObject({ decision: 'approve', automatic: true });
      expect(notifier.records).toHaveLength(0);
      return;
    }
    // Other interaction types always ask a human, even when a policy would auto-approve.
    const record = await notifier.next();
    expect(record.request.type).toBe(type);
    expect(record.evaluation).toMatchObject({ outcome: 'review', policy: 'read-only-auto' });
    await manager.respond(record.request.id, { decision: 'modify', modified: { answer: 42 } });
    expect(await waiting).toMatchObject({ decision: 'modify', modified: { answer: 42 } });
  });

  it('returns at once for auto-approved and auto-denied calls, storing them for the audit trail', async () => {
    const { manager, notifier } = setup({ policies: [{ name: 'no-drops', toolPattern: 'drop_*', deny: true }] });
    const approved = await manager.requestInteraction({
      toolName: 'get_weather',
      confidence: 0.95,
      riskLevel: 'read_only',
      input: { city: 'Oslo' },
    });
    expect(approved).toMatchObject({ decision: 'approve', automatic: true });
    const denied = await manager.requestInteraction({ toolName: 'drop_table', confidence: 1, riskLevel: 'read_only' });
    expect(denied).toMatchObject({
      decision: 'reject',
      automatic: true,
      feedback: "'drop_table' is denied by policy 'no-drops'",
      metadata: { cause: 'policy' },
    });
    expect(approved.metadata).toEqual({ cause: 'policy' });
    const { items } = await manager.list();
    expect(items.map((record) => record.status)).toEqual(['rejected', 'approved']);
    expect(notifier.records).toHaveLength(0);
  });
});

describe('submit and waitFor (non-blocking)', () => {
  it('stores a pending record, notifies, and starts the expiry clock at once', async () => {
    const { manager, notifier, clock } = setup();
    const record = await manager.submit(deleteRequest);
    expect(record).toMatchObject({
      status: 'pending',
      evaluation: { outcome: 'review', policy: 'destructive' },
      inputHash: hashInput({ user_id: '12345' }),
      createdAt: new Date(clock.now()).toISOString(),
      expiresAt: new Date(clock.now() + 60_000).toISOString(),
    });
    expect(record.request.id).toMatch(/^hitl-[0-9a-f-]{36}$/);
    expect(notifier.records.map((item) => item.request.id)).toEqual([record.request.id]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('waitFor resolves when decided, and at once when already decided', async () => {
    const { manager } = setup();
    const record = await manager.submit(deleteRequest);
    const first = manager.waitFor(record.request.id);
    const second = manager.waitFor(record.request.id);
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    expect(await first).toMatchObject({ decision: 'approve', respondedBy: 'bob' });
    expect(await second).toMatchObject({ decision: 'approve', respondedBy: 'bob' });
    expect(await manager.waitFor(record.request.id)).toMatchObject({ decision: 'approve' });
  });

  it('waitFor with an aborted signal stops waiting and leaves the record pending for others', async () => {
    const { manager } = setup();
    const record = await manager.submit(deleteRequest);
    const controller = new AbortController();
    const mine = manager.waitFor(record.request.id, { signal: controller.signal });
    const theirs = manager.waitFor(record.request.id);
    controller.abort();
    expect(await codeOf(mine)).toBe('cancelled');
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    await manager.respond(record.request.id, { decision: 'reject' });
    expect(await theirs).toMatchObject({ decision: 'reject' });
  });

  it('waitFor with its own timeoutMs stops waiting without expiring the record', async () => {
    const { manager, clock } = setup();
    const record = await manager.submit(deleteRequest);
    const waiting = manager.waitFor(record.request.id, { timeoutMs: 1_000 });
    clock.advance(1_000);
    expect(await codeOf(waiting)).toBe('timeout');
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('waitFor of an unknown id is not_found', async () => {
    const { manager } = setup();
    expect(await codeOf(manager.waitFor('nope'))).toBe('not_found');
  });

  it('re-submitting the same id and input returns the existing record (idempotent retry)', async () => {
    const { manager, notifier } = setup();
    const first = await manager.submit({ ...deleteRequest, id: 'call-1' });
    const again = await manager.submit({ ...deleteRequest, id: 'call-1', input: { user_id: '12345' } });
    expect(again).toBe(first);
    expect(notifier.records).toHaveLength(1);
    expect((await manager.list()).items).toHaveLength(1);
  });

  it('re-submitting an id with different input is a conflict and changes nothing', async () => {
    const { manager } = setup();
    await manager.submit({ ...deleteRequest, id: 'call-1' });
    const error = await manager.submit({ ...deleteRequest, id: 'call-1', input: { user_id: '99999' } }).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'conflict')).toBe(true);
    expect((error as Error).message).toBe("request 'call-1' already exists with different input");
    expect((await manager.get('call-1'))?.request.input).toEqual({ user_id: '12345' });
  });

  it("re-submitting an id for another tool, type or risk is a conflict, never the other call's decision", async () => {
    const { manager } = setup();
    const read = await manager.submit({
      id: 'call_1',
      toolName: 'get_user',
      input: { user_id: '42' },
      riskLevel: 'read_only',
      confidence: 1,
    });
    expect(read.status).toBe('approved');
    for (const [retry, message] of [
      [{ toolName: 'delete_user', riskLevel: 'read_only' }, "request 'call_1' already exists for tool 'get_user', not 'delete_user'"],
      [
        { toolName: 'get_user', riskLevel: 'read_only', type: 'feedback' },
        "request 'call_1' already exists as a 'approval' request, not 'feedback'",
      ],
      [{ toolName: 'get_user', riskLevel: 'irreversible' }, "request 'call_1' already exists with risk level 'read_only'"],
      [{ toolName: 'get_user' }, "request 'call_1' already exists with risk level 'read_only'"],
    ] as const) {
      const error = await manager
        .requestInteraction({ id: 'call_1', input: { user_id: '42' }, confidence: 1, ...retry })
        .catch((caught: unknown) => caught);
      expect(HitlError.is(error, 'conflict')).toBe(true);
      expect((error as Error).message).toBe(message);
    }
    expect(
      await manager.submit({ id: 'call_1', toolName: 'get_user', input: { user_id: '42' }, riskLevel: 'read_only', confidence: 0.5 }),
    ).toBe(read);
  });

  it('concurrent submits of one id store one record', async () => {
    const { manager, notifier } = setup();
    const records = await Promise.all(Array.from({ length: 20 }, () => manager.submit({ ...deleteRequest, id: 'same' })));
    expect(new Set(records.map((record) => record.createdAt)).size).toBe(1);
    expect((await manager.list()).items).toHaveLength(1);
    expect(notifier.records).toHaveLength(1);
  });
});

describe('inputHash binds an approval to its exact arguments', () => {
  it('is the same for the same data in any key order, and differs for other data', async () => {
    const { manager } = setup();
    const a = await manager.submit({ toolName: 'delete_user', input: { user_id: '1', options: { hard: true, notify: false } } });
    const b = await manager.submit({ toolName: 'delete_user', input: { options: { notify: false, hard: true }, user_id: '1' } });
    const c = await manager.submit({ toolName: 'delete_user', input: { user_id: '2', options: { hard: true, notify: false } } });
    expect(a.inputHash).toBe(b.inputHash);
    expect(a.inputHash).not.toBe(c.inputHash);
    expect(a.inputHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps the stored input safe from later changes by the caller', async () => {
    const { manager } = setup();
    const input = { user_id: '1', tags: ['a'] };
    const record = await manager.submit({ toolName: 'delete_user', input });
    input.user_id = '2';
    input.tags.push('b');
    const stored = await manager.get(record.request.id);
    expect(stored?.request.input).toEqual({ user_id: '1', tags: ['a'] });
    expect(stored?.inputHash).toBe(hashInput({ user_id: '1', tags: ['a'] }));
    expect(Object.isFrozen(stored?.request.input)).toBe(true);
  });
});

describe('respond', () => {
  it('exactly one of 100 concurrent decisions wins; 99 get conflict', async () => {
    const { manager } = setup();
    const record = await manager.submit(deleteRequest);
    const decisions = ['approve', 'reject', 'modify'] as const;
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, index) => {
        const decision = decisions[index % 3]!;
        return manager.respond(record.request.id, {
          decision,
          respondedBy: `reviewer-${index}`,
          ...(decision === 'modify' ? { modified: { user_id: String(index) } } : {}),
        });
      }),
    );
    const won = results.filter((result) => result.status === 'fulfilled');
    const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(99);
    expect(lost.every((result) => HitlError.is(result.reason, 'conflict'))).toBe(true);
    const final = await manager.get(record.request.id);
    expect(final?.response?.respondedBy).toBe((won[0] as PromiseFulfilledResult<ApprovalRecord>).value.response?.respondedBy);
  });

  it('a retry with the same idempotencyKey returns the recorded decision, never a second one', async () => {
    const approvals: string[] = [];
    const { manager } = setup({ hooks: { onApprove: (record) => void approvals.push(record.request.id) } });
    const record = await manager.submit(deleteRequest);
    const first = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice', idempotencyKey: 'click-1' });
    expect(first.response?.decisionId).toBe('click-1');
    const retry = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice', idempotencyKey: 'click-1' });
    expect(retry).toEqual(first);
    expect(await codeOf(manager.respond(record.request.id, { decision: 'reject', idempotencyKey: 'click-1' }))).toBe('conflict');
    expect(await codeOf(manager.respond(record.request.id, { decision: 'approve', idempotencyKey: 'click-2' }))).toBe('conflict');
    expect(await codeOf(manager.respond(record.request.id, { decision: 'approve' }))).toBe('conflict');
    expect(approvals).toEqual([record.request.id]);
    expect(await codeOf(manager.respond(record.request.id, { decision: 'approve', idempotencyKey: '' }))).toBe('invalid_input');
  });

  it('when the store records a decision but the reply is lost, the retry gets that record', async () => {
    const store = createMemoryStore();
    let loseNextReply = true;
    const flaky: typeof store = {
      ...store,
      async decide(id, expected, patch) {
        const record = await store.decide(id, expected, patch);
        if (loseNextReply && patch.status !== 'expired') {
          loseNextReply = false;
          throw new Error('connection reset by peer');
        }
        return record;
      },
    };
    const manager = track({ manager: createManager({ store: flaky }) }).manager;
    const record = await manager.submit(deleteRequest);
    const lost = await manager
      .respond(record.request.id, { decision: 'approve', respondedBy: 'alice', idempotencyKey: 'k1' })
      .catch((error: unknown) => error);
    expect(HitlError.is(lost, 'store_unavailable')).toBe(true);
    const retried = await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice', idempotencyKey: 'k1' });
    expect(retried).toMatchObject({ status: 'approved', response: { decisionId: 'k1', respondedBy: 'alice' } });
    expect(await codeOf(manager.respond(record.request.id, { decision: 'approve', respondedBy: 'alice' }))).toBe('conflict');
    await store.close?.();
  });

  it('refuses an unknown id, a decided request, and self-approval', async () => {
    const { manager } = setup();
    expect(await codeOf(manager.respond('missing', { decision: 'approve' }))).toBe('not_found');
    const record = await manager.submit({ ...deleteRequest, requestedBy: 'mallory' });
    const selfApproval = await manager
      .respond(record.request.id, { decision: 'approve', respondedBy: 'mallory' })
      .catch((error: unknown) => error);
    expect(HitlError.is(selfApproval, 'forbidden')).toBe(true);
    expect((selfApproval as Error).message).toContain("respondedBy 'mallory'");
    expect(selfApproval).toMatchObject({ code: 'forbidden', details: { field: 'respondedBy' } });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    await manager.respond(record.request.id, { decision: 'reject', respondedBy: 'alice' });
    const again = await manager.respond(record.request.id, { decision: 'approve' }).catch((error: unknown) => error);
    expect(HitlError.is(again, 'conflict')).toBe(true);
    expect((again as Error).message).toBe(`request '${record.request.id}' is already rejected`);
    expect(again).toMatchObject({ code: 'conflict', details: { ids: [record.request.id] } });
  });

  it.each([
    [{ decision: 'maybe' }, "decision 'maybe' is not a decision ('approve', 'reject' or 'modify')"],
    [{ decision: 'modify' }, "modified undefined is required when decision is 'modify'"],
    [{ decision: 'modify', modified: [1] }, 'modified an array must be a plain object'],
    [{ decision: 'approve', modified: { a: 1 } }, "modified a object is only allowed when decision is 'modify'"],
    [{ decision: 'approve', feedback: 42 }, 'feedback 42 must be a string'],
    [{ decision: 'approve', respondedBy: {} }, 'respondedBy a object must be a non-empty string'],
  ])('refuses %j with invalid_input and decides nothing', async (answer, message) => {
    const { manager } = setup();
    const record = await manager.submit(deleteRequest);
    const error = await manager.respond(record.request.id, answer as never).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect((error as Error).message).toBe(message);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('refuses a malformed id', async () => {
    const { manager } = setup();
    for (const id of ['', '../etc/passwd', 'a b', 'x'.repeat(200), 7 as unknown as string]) {
      expect(await codeOf(manager.respond(id, { decision: 'approve' }))).toBe('invalid_input');
    }
  });
});

describe('expiry', () => {
  it("with onTimeout 'error' (default) throws HitlError timeout and the record becomes expired", async () => {
    const { manager, clock, notifier } = setup({ timeoutMs: 5_000 });
    const events: string[] = [];
    manager.subscribe((event) => events.push(event.type));
    const waiting = manager.requestInteraction(deleteRequest);
    const outcome = waiting.catch((error: unknown) => error);
    await notifier.next();
    clock.advance(4_999);
    const record = (await manager.list()).items[0]!;
    expect(record.status).toBe('pending');
    clock.advance(1);
    const error = await outcome;
    expect(HitlError.is(error, 'timeout')).toBe(true);
    expect((error as Error).message).toContain(`request '${record.request.id}' expired at`);
    expect(error).toMatchObject({ code: 'timeout', details: { ids: [record.request.id] } });
    expect(await manager.get(record.request.id)).toMatchObject({
      status: 'expired',
      closedReason: `no decision before ${record.expiresAt}`,
    });
    expect(events).toEqual(['request-created', 'request-expired']);
  });

  it("with onTimeout 'reject' resolves with an automatic reject", async () => {
    const { manager, clock, notifier } = setup({ timeoutMs: 5_000, onTimeout: 'reject' });
    const waiting = manager.requestInteraction(deleteRequest);
    await notifier.next();
    clock.advance(5_000);
    const response = await waiting;
    expect(response).toMatchObject({ decision: 'reject', automatic: true, metadata: { cause: 'expiry' } });
    expect(response.feedback).toContain('expired');
    expect((await manager.get(response.requestId))?.status).toBe('expired');
  });

  it('uses the request timeout over the policy timeout over the manager timeout', async () => {
    const { manager, clock } = setup({ timeoutMs: 10_000 });
    manager.addPolicy({ name: 'outbound', toolPattern: 'send_*', requireExplicit: true, timeoutMs: 2_000 });
    const start = clock.now();
    const byManager = await manager.submit({ toolName: 'delete_user' });
    const byPolicy = await manager.submit({ toolName: 'send_email' });
    const byRequest = await manager.submit({ toolName: 'send_email', timeoutMs: 500 });
    const forever = await manager.submit({ toolName: 'send_email', timeoutMs: Infinity });
    expect(Date.parse(byManager.expiresAt!) - start).toBe(10_000);
    expect(Date.parse(byPolicy.expiresAt!) - start).toBe(2_000);
    expect(Date.parse(byRequest.expiresAt!) - start).toBe(500);
    expect(forever.expiresAt).toBeUndefined();
    clock.advance(1_000_000);
    expect((await manager.get(forever.request.id))?.status).toBe('pending');
    expect((await manager.get(byManager.request.id))?.status).toBe('expired');
  });

  it('a respond that races the expiry ends in exactly one final status', async () => {
    // Three interleavings: the decision lands first; the expiry instant arrives first; the clock
    // reaches the instant while respond is between its read and its write.
    const seenStatuses = new Set<string>();
    for (let trial = 0; trial < 60; trial++) {
      const { manager, clock } = setup({ timeoutMs: 1_000 });
      const events: ManagerEvent[] = [];
      manager.subscribe((event) => events.push(event));
      const record = await manager.submit(deleteRequest);
      const waiting = manager.waitFor(record.request.id).then(
        (response) => response.decision,
        (error: unknown) => (HitlError.is(error) ? error.code : 'other'),
      );
      const respondNow = () =>
        manager.respond(record.request.id, { decision: 'approve' }).then(
          () => 'approved',
          (error: unknown) => (HitlError.is(error) ? error.code : 'other'),
        );
      let answer: string;
      const kind = trial % 3;
      if (kind === 0) {
        clock.advance(999);
        answer = await respondNow();
        clock.advance(1);
      } else if (kind === 1) {
        clock.advance(1_000);
        answer = await respondNow();
      } else {
        clock.advance(999);
        const responded = respondNow();
        clock.advance(1);
        answer = await responded;
      }
      const seen = await waiting;
      const final = await manager.get(record.request.id);
      const finals = events.filter((event) => event.type !== 'request-created');
      expect(finals).toHaveLength(1);
      expect(clock.pendingTimers()).toBe(0);
      if (kind === 0) expect(final?.status).toBe('approved');
      if (kind === 1) expect(final?.status).toBe('expired');
      if (final?.status === 'approved') {
        expect([answer, seen, finals[0]!.type]).toEqual(['approved', 'approve', 'request-decided']);
      } else {
        expect(final?.status).toBe('expired');
        expect([answer, seen, finals[0]!.type]).toEqual(['conflict', 'timeout', 'request-expired']);
      }
      seenStatuses.add(`${kind}:${final?.status}`);
      await manager.close();
    }
    expect(seenStatuses.has('0:approved') && seenStatuses.has('1:expired')).toBe(true);
  });

  it('a decision or cancel past the deadline records the expiry even when no timer is running', async () => {
    // The creating manager is gone, so nobody holds a timer for the request.
    const clock = createManualClock();
    const store = createMemoryStore();
    const creator = createManager({ store, now: clock.now, scheduler: clock, timeoutMs: 1_000 });
    const first = await creator.submit(deleteRequest);
    const second = await creator.submit(deleteRequest);
    await creator.close();
    clock.advance(5_000);
    const reviewer = track({ manager: createManager({ store, now: clock.now, scheduler: clock }) }).manager;
    const lateApproval = await reviewer.respond(first.request.id, { decision: 'approve' }).catch((error: unknown) => error);
    expect(HitlError.is(lateApproval, 'conflict')).toBe(true);
    expect((lateApproval as Error).message).toBe(`request '${first.request.id}' expired at ${first.expiresAt}`);
    expect(await codeOf(reviewer.cancel(second.request.id))).toBe('conflict');
    expect((await reviewer.get(first.request.id))?.status).toBe('expired');
    expect((await reviewer.get(second.request.id))?.status).toBe('expired');
    await store.close?.();
  });

  it('retries an expiry the store refuses because its own clock is behind', async () => {
    const clock = createManualClock();
    const inner = createMemoryStore();
    let refusals = 0;
    const skewed: typeof inner = {
      ...inner,
      async decide(id, expected, patch) {
        if (patch.status === 'expired' && refusals < 2) {
          refusals++;
          throw new HitlError('conflict', `request '${id}' has not expired yet by the store's clock`);
        }
        return inner.decide(id, expected, patch);
      },
    };
    const manager = track({ manager: createManager({ store: skewed, now: clock.now, scheduler: clock, timeoutMs: 1_000 }) }).manager;
    const record = await manager.submit(deleteRequest);
    const outcome = manager.waitFor(record.request.id).catch((error: unknown) => error);
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    clock.advance(1_000);
    await settle();
    expect(refusals).toBe(1);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    clock.advance(100);
    await settle();
    clock.advance(100);
    await settle();
    expect(refusals).toBe(2);
    expect(HitlError.is(await outcome, 'timeout')).toBe(true);
    expect((await manager.get(record.request.id))?.status).toBe('expired');
    await inner.close?.();
  });

  it('expires requests whose timeout is longer than one setTimeout can wait', async () => {
    const { manager, clock } = setup({ timeoutMs: 30 * 24 * 3600 * 1000 });
    const record = await manager.submit(deleteRequest);
    clock.advance(25 * 24 * 3600 * 1000);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    clock.advance(5 * 24 * 3600 * 1000);
    expect((await manager.get(record.request.id))?.status).toBe('expired');
  });

  it('waitFor picks up the expiry of a record created by another manager on the same store', async () => {
    const clock = createManualClock();
    const store = createMemoryStore();
    const creator = createManager({ store, now: clock.now, scheduler: clock, timeoutMs: 1_000 });
    const record = await creator.submit(deleteRequest);
    await creator.close();
    const waiter = track({ manager: createManager({ store, now: clock.now, scheduler: clock }) }).manager;
    const outcome = waiter.waitFor(record.request.id).catch((error: unknown) => error);
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(1));
    clock.advance(1_000);
    expect(HitlError.is(await outcome, 'timeout')).toBe(true);
    await store.close?.();
  });
});

describe('abort and cancel', () => {
  it('aborting requestInteraction cancels the record and throws cancelled', async () => {
    const { manager, notifier } = setup();
    const controller = new AbortController();
    const waiting = manager.requestInteraction(deleteRequest, { signal: controller.signal });
    const record = await notifier.next();
    controller.abort();
    expect(await codeOf(waiting)).toBe('cancelled');
    await vi.waitFor(async () => expect((await manager.get(record.request.id))?.status).toBe('cancelled'));
    expect(await codeOf(manager.respond(record.request.id, { decision: 'approve' }))).toBe('conflict');
  });

  it('an already aborted signal submits nothing', async () => {
    const { manager } = setup();
    expect(await codeOf(manager.requestInteraction(deleteRequest, { signal: AbortSignal.abort() }))).toBe('cancelled');
    expect((await manager.list()).items).toHaveLength(0);
  });

  it('cancel wakes waiters with cancelled and records the reason', async () => {
    const { manager } = setup();
    const record = await manager.submit(deleteRequest);
    const waiting = manager.waitFor(record.request.id).catch((error: unknown) => error);
    const cancelled = await manager.cancel(record.request.id, 'customer withdrew the request');
    expect(cancelled).toMatchObject({ status: 'cancelled', closedReason: 'customer withdrew the request' });
    const error = await waiting;
    expect(HitlError.is(error, 'cancelled')).toBe(true);
    expect((error as Error).message).toContain('customer withdrew the request');
    expect(error).toMatchObject({ code: 'cancelled', details: { ids: [record.request.id] } });
    expect(await codeOf(manager.cancel(record.request.id))).toBe('conflict');
    expect(await codeOf(manager.cancel('missing'))).toBe('not_found');
  });
});

describe('get, list and events', () => {
  it('lists newest first with filters and a stable cursor', async () => {
    const { manager, clock } = setup();
    const ids: string[] = [];
    for (let index = 0; index < 7; index++) {
      clock.advance(1);
      const tool = index % 2 === 0 ? 'delete_user' : 'get_weather';
      ids.push((await manager.submit({ toolName: tool, confidence: 1, riskLevel: 'read_only', input: { index } })).request.id);
    }
    const all = await manager.list({ limit: 3 });
    expect(all.items.map((record) => record.request.id)).toEqual([ids[6], ids[5], ids[4]]);
    // New records arriving between pages do not shift the next page.
    await manager.submit({ toolName: 'delete_user', input: { index: 99 } });
    const page2 = await manager.list({ limit: 3, cursor: all.nextCursor! });
    expect(page2.items.map((record) => record.request.id)).toEqual([ids[3], ids[2], ids[1]]);
    const page3 = await manager.list({ limit: 3, cursor: page2.nextCursor! });
    expect(page3.items.map((record) => record.request.id)).toEqual([ids[0]]);
    expect(page3.nextCursor).toBeUndefined();

    const pending = await manager.list({ status: 'pending', toolName: 'delete_user' });
    expect(pending.items.map((record) => record.request.input)).toEqual([
      { index: 99 },
      { index: 6 },
      { index: 4 },
      { index: 2 },
      { index: 0 },
    ]);
    const approved = await manager.list({ status: 'approved' });
    expect(approved.items).toHaveLength(3);
  });

  it.each([
    [{ limit: 0 }, 'limit 0 must be an integer from 1 to 1000'],
    [{ limit: 1001 }, 'limit 1001'],
    [{ limit: 2.5 }, 'limit 2.5'],
    [{ status: 'done' }, "status 'done' is not a request status"],
    [{ cursor: 'garbage' }, "cursor 'garbage' is not a cursor returned by list"],
  ])('list refuses %j', async (query, message) => {
    const { manager } = setup();
    const error = await manager.list(query as never).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect((error as Error).message).toContain(message);
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: Object.keys(query)[0] } });
  });

  it('get returns undefined for an unknown id', async () => {
    const { manager } = setup();
    expect(await manager.get('unknown-id')).toBeUndefined();
  });

  it('emits each transition once, noun then verb', async () => {
    const { manager } = setup();
    const events: string[] = [];
    const unsubscribe = manager.subscribe((event) => events.push(`${event.type}:${event.record.status}`));
    const a = await manager.submit(deleteRequest);
    const b = await manager.submit(deleteRequest);
    const c = await manager.submit(deleteRequest);
    await manager.submit({ toolName: 'get_weather', confidence: 1, riskLevel: 'read_only' });
    await manager.respond(a.request.id, { decision: 'approve' });
    await manager.cancel(b.request.id);
    unsubscribe();
    await manager.respond(c.request.id, { decision: 'reject' });
    expect(events).toEqual([
      'request-created:pending',
      'request-created:pending',
      'request-created:pending',
      'request-created:approved',
      'request-decided:approved',
      'request-decided:approved',
      'request-cancelled:cancelled',
    ]);
  });
});

describe('hooks', () => {
  it('runs onApprove, onReject, onModify, onTimeout and onCancel once each', async () => {
    const calls: string[] = [];
    const hook = (name: string) => (record: ApprovalRecord) => void calls.push(`${name}:${record.request.toolName}`);
    const { manager, clock } = setup({
      timeoutMs: 1_000,
      hooks: {
        onApprove: hook('approve'),
        onReject: hook('reject'),
        onModify: hook('modify'),
        onTimeout: hook('timeout'),
        onCancel: hook('cancel'),
      },
    });
    const a = await manager.submit({ toolName: 'delete_a' });
    const b = await manager.submit({ toolName: 'delete_b' });
    const c = await manager.submit({ toolName: 'delete_c' });
    const d = await manager.submit({ toolName: 'delete_d' });
    await manager.submit({ toolName: 'delete_e' });
    await manager.submit({ toolName: 'get_weather', confidence: 1, riskLevel: 'read_only' });
    await manager.respond(a.request.id, { decision: 'approve' });
    await manager.respond(b.request.id, { decision: 'reject' });
    await manager.respond(c.request.id, { decision: 'modify', modified: { x: 1 } });
    await manager.cancel(d.request.id);
    clock.advance(1_000);
    await vi.waitFor(() => expect(calls).toHaveLength(6));
    expect(calls.sort()).toEqual([
      'approve:delete_a',
      'approve:get_weather',
      'cancel:delete_d',
      'modify:delete_c',
      'reject:delete_b',
      'timeout:delete_e',
    ]);
  });

  it('onRequest can veto a request: submit throws forbidden and nothing is stored or notified', async () => {
    const { manager, notifier } = setup({ hooks: { onRequest: (request) => request.toolName !== 'delete_everything' } });
    const error = await manager.submit({ toolName: 'delete_everything' }).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'forbidden')).toBe(true);
    expect((error as Error).message).toContain('vetoed by the onRequest hook');
    expect(error).toMatchObject({ code: 'forbidden', details: { ids: [expect.any(String)] } });
    expect((await manager.list()).items).toHaveLength(0);
    expect(notifier.records).toHaveLength(0);
    expect((await manager.submit({ toolName: 'delete_user' })).status).toBe('pending');
  });

  it('a hook that throws changes no outcome; its error goes to onError', async () => {
    const errors: string[] = [];
    const { manager } = setup({
      hooks: {
        onApprove: () => {
          throw new Error('audit log is down');
        },
        onError: (error) => void errors.push(error.message),
      },
    });
    const record = await manager.submit(deleteRequest);
    const waiting = manager.waitFor(record.request.id);
    const decided = await manager.respond(record.request.id, { decision: 'approve' });
    expect(decided.status).toBe('approved');
    expect(await waiting).toMatchObject({ decision: 'approve' });
    expect(errors).toEqual(['audit log is down']);
  });
});

describe('notifiers never fail or delay a request', () => {
  it('a notifier that throws or rejects: the request is pending, the failure is an event and reaches onError', async () => {
    const errors: Error[] = [];
    const throwing: Notifier = {
      name: 'throwing',
      notify() {
        throw new Error('sync boom');
      },
    };
    const rejecting = createRecordingNotifier({ name: 'rejecting', fail: new Error('503 from Slack') });
    const { manager } = setup({ notifiers: [throwing, rejecting], hooks: { onError: (error) => void errors.push(error) } });
    const failures = new Promise<ManagerEvent[]>((resolve) => {
      const seen: ManagerEvent[] = [];
      manager.subscribe((event) => {
        if (event.type === 'notify-failed') seen.push(event);
        if (seen.length === 2) resolve(seen);
      });
    });
    const record = await manager.submit(deleteRequest);
    expect(record.status).toBe('pending');
    const events = await failures;
    expect(events.map((event) => (event.type === 'notify-failed' ? event.notifier : '')).sort()).toEqual(['rejecting', 'throwing']);
    for (const event of events) {
      if (event.type !== 'notify-failed') continue;
      expect(event.error.code).toBe('notify_failed');
      expect(event.record.request.id).toBe(record.request.id);
    }
    expect(errors.map((error) => error.message).sort()).toEqual([
      `notifier 'rejecting' failed for request '${record.request.id}': 503 from Slack`,
      `notifier 'throwing' failed for request '${record.request.id}': sync boom`,
    ]);
    await manager.respond(record.request.id, { decision: 'approve' });
    expect((await manager.get(record.request.id))?.status).toBe('approved');
  });

  it('a notifier that hangs: submit returns, the expiry clock runs, the request expires on time', async () => {
    let signal: AbortSignal | undefined;
    const hanging: Notifier = {
      name: 'hanging',
      notify: (_record, context) => {
        signal = context.signal;
        return new Promise(() => undefined);
      },
    };
    const { manager, clock } = setup({ notifiers: [hanging], timeoutMs: 2_000 });
    const record = await manager.submit(deleteRequest);
    expect(record.status).toBe('pending');
    clock.advance(2_000);
    expect((await manager.get(record.request.id))?.status).toBe('expired');
    await manager.close();
    expect(signal?.aborted).toBe(true);
  });

  it('a delivery cut short by close() is not reported as a failure', async () => {
    const errors: Error[] = [];
    const failures: ManagerEvent[] = [];
    const polite: Notifier = {
      name: 'polite',
      notify: (_record, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    };
    const manager = createManager({ notifiers: [polite], hooks: { onError: (error) => void errors.push(error) } });
    manager.subscribe((event) => event.type === 'notify-failed' && failures.push(event));
    await manager.submit(deleteRequest);
    await manager.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('createLogNotifier logs "human interaction required" at warn with the request details', async () => {
    const warn = vi.fn();
    const manager = track({ manager: createManager({ notifiers: [createLogNotifier({ warn })] }) }).manager;
    const record = await manager.submit(deleteRequest);
    expect(warn).toHaveBeenCalledWith('human interaction required', {
      id: record.request.id,
      type: 'approval',
      toolName: 'delete_user',
      description: 'Delete user account 12345 and all associated data',
      confidence: 0.85,
      riskLevel: 'irreversible',
      expiresAt: record.expiresAt,
    });
  });
});

describe('bad input', () => {
  it.each([
    [{ toolName: '' }, "request.toolName '' is not a valid tool name: it is empty"],
    [{ toolName: 'x', type: 'poll' }, "request.type 'poll' is not an interaction type"],
    [{ toolName: 'x', riskLevel: 'scary' }, "request.riskLevel 'scary' is not a risk level"],
    [{ toolName: 'x', confidence: 1.2 }, 'request.confidence 1.2 must be a number between 0 and 1'],
    [{ toolName: 'x', confidence: Number.NaN }, 'request.confidence NaN'],
    [{ toolName: 'x', timeoutMs: 0 }, 'request.timeoutMs 0 must be a positive number of milliseconds (or Infinity)'],
    [{ toolName: 'x', timeoutMs: -5 }, 'request.timeoutMs -5'],
    [{ toolName: 'x', input: 'rm -rf' }, "request.input 'rm -rf' must be a plain object"],
    [{ toolName: 'x', id: 'has spaces' }, "request.id 'has spaces' is not a valid request id"],
    [{ toolName: 'x', metadata: [] }, 'request.metadata an array must be a plain object'],
  ])('submit refuses %j and stores nothing', async (request, message) => {
    const { manager, notifier } = setup();
    const error = await manager.submit(request as never).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'invalid_input'), String(error)).toBe(true);
    expect((error as Error).message).toContain(message);
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: message.split(' ')[0] } });
    expect((await manager.list()).items).toHaveLength(0);
    expect(notifier.records).toHaveLength(0);
  });

  it('refuses input JSON cannot carry', async () => {
    const { manager } = setup();
    const error = await manager.submit({ toolName: 'x', input: { n: 10n } }).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect((error as Error).message).toBe('request.input.n holds a BigInt, which JSON cannot represent');
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: 'request.input', path: 'request.input.n' } });
  });

  it('refuses circular input', async () => {
    const { manager } = setup();
    const input: Record<string, unknown> = { a: 1 };
    input.self = input;
    const error = await manager.submit({ toolName: 'x', input }).catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect((error as Error).message).toBe('request.input.self contains a circular reference');
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: 'request.input', path: 'request.input.self' } });
  });

  it.each([
    [{ timeoutMs: 0 }, 'options.timeoutMs 0 must be a positive number'],
    [{ timeoutMs: Number.NaN }, 'options.timeoutMs NaN'],
    [{ onTimeout: 'ignore' }, "options.onTimeout 'ignore' must be 'error' or 'reject'"],
    [{ defaultOutcome: 'approve' }, "options.defaultOutcome 'approve' must be 'review' or 'deny'"],
    [{ notifiers: [{ name: 'x' }] }, 'options.notifiers[0] a object must be an object with a notify function'],
    [{ store: {} }, 'options.store.create undefined must be a function'],
  ])('createManager refuses %j', (options, message) => {
    let error: unknown;
    try {
      createManager(options as never);
    } catch (caught) {
      error = caught;
    }
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    expect((error as Error).message).toContain(message);
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: message.split(' ')[0] } });
  });
});

describe('isolation and shutdown', () => {
  it('two managers share nothing', async () => {
    const one = track({ manager: createManager({ generateId: () => 'fixed-id' }) }).manager;
    const two = track({ manager: createManager({ generateId: () => 'fixed-id' }) }).manager;
    one.addPolicy({ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' });
    expect(two.listPolicies()).toEqual([]);
    const a = await one.submit({ toolName: 'delete_user', input: { user_id: '1' } });
    const b = await two.submit({ toolName: 'delete_user', input: { user_id: '2' } });
    expect(a.request.id).toBe(b.request.id);
    await one.respond('fixed-id', { decision: 'approve' });
    expect((await two.get('fixed-id'))?.status).toBe('pending');
    expect((await two.list()).items).toHaveLength(1);
  });

  it('close rejects pending waiters with cancelled, stops timers, and refuses later calls', async () => {
    const { manager, clock } = setup();
    const record = await manager.submit(deleteRequest);
    const waiting = manager.waitFor(record.request.id).catch((error: unknown) => error);
    expect(clock.pendingTimers()).toBe(1);
    await manager.close();
    const error = await waiting;
    expect(HitlError.is(error, 'cancelled')).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    expect(await codeOf(manager.submit(deleteRequest))).toBe('cancelled');
    await manager.close();
  });
});
