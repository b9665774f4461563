// The memory store's own rules: create once, frozen records, decide as compare-and-set, expiry, subscribers, closed.
import { describe, expect, it } from 'vitest';
import { createMemoryStore, hashInput, HitlError, type ApprovalRecord, type StoreChange } from './index.js';

function pendingRecord(id: string, expiresAt?: string): ApprovalRecord {
  const record: ApprovalRecord = {
    request: { id, type: 'approval', toolName: 'delete_user', input: { user_id: id } },
    status: 'pending',
    evaluation: { outcome: 'review', reason: 'test' },
    inputHash: hashInput({ user_id: id }),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  if (expiresAt) record.expiresAt = expiresAt;
  return record;
}

describe('createMemoryStore', () => {
  it('creates once, never overwrites, and hands out frozen records', async () => {
    const store = createMemoryStore();
    const first = await store.create(pendingRecord('a'));
    expect(first.created).toBe(true);
    const second = await store.create({ ...pendingRecord('a'), inputHash: 'other' });
    expect(second).toEqual({ record: first.record, created: false });
    expect(Object.isFrozen(first.record)).toBe(true);
    expect(Object.isFrozen(first.record.request.input)).toBe(true);
    expect(await store.get('a')).toBe(first.record);
    expect(await store.get('b')).toBeUndefined();
  });

  it('decide is a compare-and-set that reports not_found and conflict', async () => {
    const store = createMemoryStore();
    await store.create(pendingRecord('a'));
    const patch = { status: 'approved' as const, closedAt: '2026-01-01T00:00:01.000Z' };
    const decided = await store.decide('a', 'pending', patch);
    expect(decided).toMatchObject({ status: 'approved', closedAt: patch.closedAt });
    const conflict = await store.decide('a', 'pending', { ...patch, status: 'rejected' }).catch((error: unknown) => error);
    expect(HitlError.is(conflict, 'conflict')).toBe(true);
    expect((conflict as Error).message).toBe("request 'a' is already approved");
    expect(conflict).toMatchObject({ code: 'conflict', details: { ids: ['a'] } });
    const missing = await store.decide('zzz', 'pending', patch).catch((error: unknown) => error);
    expect(HitlError.is(missing, 'not_found')).toBe(true);
    expect((await store.get('a'))?.status).toBe('approved');
  });

  it('refuses a decision at or after expiresAt, but accepts the expiry', async () => {
    const store = createMemoryStore();
    await store.create(pendingRecord('a', '2026-01-01T00:01:00.000Z'));
    const late = await store
      .decide('a', 'pending', { status: 'approved', closedAt: '2026-01-01T00:01:00.000Z' })
      .catch((error: unknown) => error);
    expect(HitlError.is(late, 'conflict')).toBe(true);
    expect((late as Error).message).toBe("request 'a' expired at 2026-01-01T00:01:00.000Z");
    expect(late).toMatchObject({ code: 'conflict', details: { ids: ['a'] } });
    const expired = await store.decide('a', 'pending', { status: 'expired', closedAt: '2026-01-01T00:01:00.000Z', closedReason: 'late' });
    expect(expired).toMatchObject({ status: 'expired', closedReason: 'late' });
  });

  it('tells subscribers of every change, once', async () => {
    const store = createMemoryStore();
    const changes: string[] = [];
    const unsubscribe = store.subscribe((change: StoreChange) =>
      changes.push(`${change.type}:${change.record.request.id}:${change.record.status}`),
    );
    store.subscribe(() => {
      throw new Error('a broken listener does not stop the others');
    });
    await store.create(pendingRecord('a'));
    await store.decide('a', 'pending', { status: 'cancelled', closedAt: '2026-01-01T00:00:01.000Z' });
    unsubscribe();
    await store.create(pendingRecord('b'));
    expect(changes).toEqual(['created:a:pending', 'decided:a:cancelled']);
  });

  it('is unavailable once closed', async () => {
    const store = createMemoryStore();
    await store.close?.();
    const error = await store.get('a').catch((caught: unknown) => caught);
    expect(HitlError.is(error, 'store_unavailable')).toBe(true);
  });
});
