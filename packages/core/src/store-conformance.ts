// The rules every ApprovalStore keeps, as runnable cases: one suite for the memory store, the
// PostgreSQL store and any store a user writes (run each case in the test runner of your choice).
// Over 450 lines because it is one table of independent cases that a store author reads together.
import { grantConformanceCases } from './grants/grant-conformance.js';
import { HitlError, type HitlErrorCode } from './hitl-error.js';
import { approvalConformanceCases } from './store-conformance-approvals.js';
import { getManyConformanceCases } from './store-conformance-get-many.js';
import { resumeClaimCases } from './resume-claim-conformance.js';
import type { ApprovalRecord, ApprovalStore, DecidePatch, InteractionResponse, StoreChange } from './types.js';
import { outboxCaseBodies } from './outbox/outbox-conformance.js';

/** How the suite gets stores to test. */
export interface StoreConformanceOptions {
  /** A new, empty store. Called once per case. */
  createStore(): ApprovalStore | Promise<ApprovalStore>;
  /**
   * A second handle on the same records as `store` (another process or instance sharing them), for
   * the cases about changes made elsewhere. Omit it for a store that lives in one process: the
   * cases then use `store` itself as its own peer.
   */
  createPeer?(store: ApprovalStore): ApprovalStore | Promise<ApprovalStore>;
  /** Releases a store or peer after a case; default `store.close?.()`. */
  disposeStore?(store: ApprovalStore): void | Promise<void>;
  /** How long a case waits for a change to reach a subscriber (default 5,000 ms). */
  changeTimeoutMs?: number;
}

/** One named check; `run` resolves when the store keeps the rule and rejects with what it broke. */
export interface StoreConformanceCase {
  name: string;
  run(): Promise<void>;
}

/** A case's body: a fresh store and its peer (the same store when there is no peer). */
export type ConformanceBody = (store: ApprovalStore, peer: ApprovalStore) => Promise<void>;

class ConformanceFailure extends Error {
  override name = 'ConformanceFailure';
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

export async function expectHitlError(action: () => Promise<unknown>, code: HitlErrorCode, what: string): Promise<void> {
  try {
    await action();
  } catch (error) {
    check(
      HitlError.is(error, code),
      `${what}: expected HitlError '${code}', got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return;
  }
  throw new ConformanceFailure(`${what}: expected HitlError '${code}', but it succeeded`);
}

let sequence = 0;

/** A pending record with a fresh id, created `createdAtMs` (default now). */
export function sampleRecord(
  overrides: { toolName?: string; expiresAt?: string; createdAtMs?: number; threadId?: string; runId?: string; requestedBy?: string } = {},
): ApprovalRecord {
  sequence += 1;
  const id = `conformance-${Date.now().toString(36)}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
  const record: ApprovalRecord = {
    request: {
      id,
      type: 'approval',
      toolName: overrides.toolName ?? 'delete_user',
      input: { user_id: `u-${sequence}`, nested: { list: [1, 'two', null, true] } },
      riskLevel: 'irreversible',
      confidence: 0.5,
      requestedBy: 'agent-conformance',
      metadata: { note: 'conformance' },
    },
    status: 'pending',
    evaluation: { outcome: 'review', policy: 'destructive', reason: "policy 'destructive' requires explicit approval for 'delete_user'" },
    inputHash: 'a'.repeat(64),
    createdAt: new Date(overrides.createdAtMs ?? Date.now()).toISOString(),
  };
  if (overrides.expiresAt !== undefined) record.expiresAt = overrides.expiresAt;
  if (overrides.threadId !== undefined) record.request.threadId = overrides.threadId;
  if (overrides.runId !== undefined) record.request.runId = overrides.runId;
  if (overrides.requestedBy !== undefined) record.request.requestedBy = overrides.requestedBy;
  return record;
}

/** A pending record marked for a resumer (`metadata.resumeWith`), or unmarked. */
function markedRecord(resumeWith: string | undefined): ApprovalRecord {
  const record = sampleRecord();
  if (resumeWith !== undefined) record.request.metadata = { ...record.request.metadata, resumeWith };
  return record;
}

function approval(record: ApprovalRecord, respondedBy = 'reviewer-conformance'): DecidePatch {
  const respondedAt = new Date().toISOString();
  const response: InteractionResponse = {
    requestId: record.request.id,
    decision: 'approve',
    feedback: 'looks right',
    respondedBy,
    respondedAt,
  };
  return { status: 'approved', response, closedAt: respondedAt };
}

/** Compares what a store hands back with what it was given, as JSON (stores may drop `undefined`). */
function sameJson(actual: unknown, expected: unknown): boolean {
  return JSON.stringify(sortKeys(actual)) === JSON.stringify(sortKeys(expected));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** Resolves with the first change `listener` sees that satisfies `matches`, or rejects after `timeoutMs`. */
export function nextChange(
  store: ApprovalStore,
  matches: (change: StoreChange) => boolean,
  timeoutMs: number,
): { promise: Promise<StoreChange>; stop(): void } {
  let stop = (): void => undefined;
  const promise = new Promise<StoreChange>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new ConformanceFailure(`no matching change reached the subscriber within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = store.subscribe((change) => {
      if (!matches(change)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(change);
    });
    stop = () => {
      clearTimeout(timer);
      unsubscribe();
    };
  });
  return { promise, stop };
}

/**
 * The cases every {@link ApprovalStore} must pass: create never overwrites, `decide` is an atomic
 * compare-and-set that refuses a decision after expiry, `list` pages newest first with a stable
 * cursor, and every change made after the store's first completed call reaches subscribers (also changes
 * made through another handle).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { createMemoryStore } from '@hitl/core';
 * import { storeConformanceCases } from '@hitl/core/testing';
 *
 * describe('my store', () => {
 *   for (const testCase of storeConformanceCases({ createStore: () => createMemoryStore() })) {
 *     it(testCase.name, testCase.run);
 *   }
 * });
 * ```
 */
export function storeConformanceCases(options: StoreConformanceOptions): StoreConformanceCase[] {
  const changeTimeoutMs = options.changeTimeoutMs ?? 5_000;
  const dispose = async (store: ApprovalStore) => {
    if (options.disposeStore) await options.disposeStore(store);
    else await store.close?.();
  };

  /** Runs `body` with a fresh store (and its peer), then disposes of both. */
  const withStores = (body: (store: ApprovalStore, peer: ApprovalStore) => Promise<void>) => async (): Promise<void> => {
    const store = await options.createStore();
    let peer = store;
    try {
      if (options.createPeer) peer = await options.createPeer(store);
      await body(store, peer);
    } finally {
      if (peer !== store) await dispose(peer);
      await dispose(store);
    }
  };

  const cases: [string, ConformanceBody][] = [
    [
      'create stores a record and get returns it unchanged',
      async (store) => {
        const record = sampleRecord();
        const result = await store.create(record);
        check(result.created, 'create of a new id must report created: true');
        check(sameJson(result.record, record), 'create must return the record it stored');
        const found = await store.get(record.request.id);
        check(found !== undefined, 'get must find a created record');
        check(sameJson(found, record), `get must return the record as created; got ${JSON.stringify(found)}`);
      },
    ],
    [
      'get of an unknown id resolves undefined',
      async (store) => {
        check((await store.get('conformance-no-such-id')) === undefined, 'get of an unknown id must resolve undefined');
      },
    ],
    [
      'create never overwrites: the same id returns the existing record',
      async (store) => {
        const record = sampleRecord();
        await store.create(record);
        const other = { ...sampleRecord(), request: { ...record.request, toolName: 'get_user' } };
        const again = await store.create(other);
        check(!again.created, 'create of an existing id must report created: false');
        check(again.record.request.toolName === 'delete_user', 'create of an existing id must return the existing record');
        check((await store.get(record.request.id))?.request.toolName === 'delete_user', 'create must not overwrite an existing record');
      },
    ],
    [
      'decide moves pending to a final status with its response',
      async (store) => {
        const record = sampleRecord();
        await store.create(record);
        const patch = approval(record);
        const decided = await store.decide(record.request.id, 'pending', patch);
        check(decided.status === 'approved', `decide must return the new status; got ${decided.status}`);
        check(sameJson(decided.response, patch.response), 'decide must store the response as given');
        check(decided.closedAt !== undefined, 'decide must set closedAt');
        const found = await store.get(record.request.id);
        check(found?.status === 'approved' && sameJson(found.response, patch.response), 'get must see the decision');
        check(sameJson(found.request, record.request), 'decide must not change the request');
      },
    ],
    [
      'decide of an unknown id throws not_found',
      async (store) => {
        const record = sampleRecord();
        await expectHitlError(() => store.decide(record.request.id, 'pending', approval(record)), 'not_found', 'decide of an unknown id');
      },
    ],
    [
      'decide is a compare-and-set: a second decision throws conflict and changes nothing',
      async (store) => {
        const record = sampleRecord();
        await store.create(record);
        await store.decide(record.request.id, 'pending', approval(record, 'first'));
        const reject: DecidePatch = { status: 'rejected', closedAt: new Date().toISOString() };
        await expectHitlError(() => store.decide(record.request.id, 'pending', reject), 'conflict', 'a second decision');
        const found = await store.get(record.request.id);
        check(found?.status === 'approved' && found.response?.respondedBy === 'first', 'the first decision must stand');
      },
    ],
    [
      'decide refuses a decision after expiry but allows the expiry itself',
      async (store) => {
        const expiresAt = new Date(Date.now() - 60 * 60_000).toISOString();
        const record = sampleRecord({ expiresAt, createdAtMs: Date.now() - 2 * 60 * 60_000 });
        await store.create(record);
        await expectHitlError(() => store.decide(record.request.id, 'pending', approval(record)), 'conflict', 'a decision after expiresAt');
        const expired = await store.decide(record.request.id, 'pending', {
          status: 'expired',
          closedAt: new Date().toISOString(),
          closedReason: `no decision before ${expiresAt}`,
        });
        check(expired.status === 'expired', `the expiry must be recorded; got ${expired.status}`);
      },
    ],
    [
      'concurrent decisions on one request: exactly one wins, through any handle',
      async (store, peer) => {
        const record = sampleRecord();
        await store.create(record);
        const attempts = Array.from({ length: 20 }, (_, index) =>
          (index % 2 === 0 ? store : peer).decide(record.request.id, 'pending', approval(record, `reviewer-${index}`)),
        );
        const results = await Promise.allSettled(attempts);
        const winners = results.filter((result) => result.status === 'fulfilled');
        check(winners.length === 1, `exactly one decision must win; ${winners.length} did`);
        for (const result of results) {
          if (result.status === 'rejected')
            check(HitlError.is(result.reason, 'conflict'), `a losing decision must throw conflict; got ${String(result.reason)}`);
        }
        const winner = (winners[0] as PromiseFulfilledResult<ApprovalRecord>).value;
        const found = await peer.get(record.request.id);
        check(found?.response?.respondedBy === winner.response?.respondedBy, 'every handle must see the winning decision');
      },
    ],
    [
      'a returned record is a snapshot: a later decision does not change it',
      async (store) => {
        const record = sampleRecord();
        const { record: created } = await store.create(record);
        const before = await store.get(record.request.id);
        await store.decide(record.request.id, 'pending', approval(record));
        check(created.status === 'pending' && before?.status === 'pending', 'records handed out earlier must keep their status');
      },
    ],
    [
      'list pages newest first with a stable cursor, and filters by status and tool',
      async (store) => {
        const base = Date.now() - 60_000;
        const records: ApprovalRecord[] = [];
        for (let index = 0; index < 7; index++) {
          const record = sampleRecord({ toolName: index % 3 === 0 ? 'send_email' : 'delete_user', createdAtMs: base + index });
          await store.create(record);
          records.push(record);
        }
        const decidedRecord = records[2] as ApprovalRecord;
        await store.decide(decidedRecord.request.id, 'pending', approval(decidedRecord));
        const newestFirst = records.map((record) => record.request.id).reverse();

        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await store.list(cursor === undefined ? { limit: 3 } : { limit: 3, cursor });
          check(result.items.length <= 3, `a page must hold at most limit items; got ${result.items.length}`);
          seen.push(...result.items.map((item) => item.request.id));
          cursor = result.nextCursor;
          if (cursor === undefined) break;
        }
        check(cursor === undefined, 'paging must end');
        check(sameJson(seen, newestFirst), `pages must list every record once, newest first; got ${seen.join(', ')}`);

        const pending = await store.list({ status: 'pending', limit: 50 });
        check(
          pending.items.every((item) => item.status === 'pending') && pending.items.length === 6,
          `status filter must keep only pending records; got ${pending.items.length}`,
        );
        const emails = await store.list({ toolName: 'send_email', limit: 50 });
        check(
          emails.items.length === 3 && emails.items.every((item) => item.request.toolName === 'send_email'),
          `toolName filter must keep only that tool; got ${emails.items.length}`,
        );
      },
    ],
    [
      'list filters by thread, run, requester and creation time, alone and together, across pages',
      async (store) => {
        const base = Date.parse('2026-03-01T10:00:00.000Z');
        const records: ApprovalRecord[] = [];
        for (let index = 0; index < 12; index++) {
          const record = sampleRecord({
            createdAtMs: base + index * 60_000,
            threadId: index % 2 === 0 ? 'thread-even' : 'thread-odd',
            runId: `run-${Math.floor(index / 4)}`,
            requestedBy: index % 3 === 0 ? 'alice' : 'bob',
          });
          await store.create(record);
          records.push(record);
        }
        const expect = async (query: Record<string, string>, wanted: (record: ApprovalRecord, index: number) => boolean, what: string) => {
          const expected = records
            .filter(wanted)
            .map((record) => record.request.id)
            .reverse();
          const seen: string[] = [];
          let cursor: string | undefined;
          for (let page = 0; page < 20; page++) {
            const result = await store.list({ ...query, limit: 2, ...(cursor === undefined ? {} : { cursor }) });
            seen.push(...result.items.map((item) => item.request.id));
            cursor = result.nextCursor;
            if (cursor === undefined) break;
          }
          check(
            sameJson(seen, expected),
            `${what}: expected ${expected.length} records newest first, got ${seen.length}: ${seen.join(', ')}`,
          );
        };
        await expect({ threadId: 'thread-even' }, (_, index) => index % 2 === 0, 'threadId filter');
        await expect({ runId: 'run-1' }, (_, index) => Math.floor(index / 4) === 1, 'runId filter');
        await expect({ requestedBy: 'alice' }, (_, index) => index % 3 === 0, 'requestedBy filter');
        await expect({ threadId: 'thread-none' }, () => false, 'a threadId nobody has');
        const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
        await expect({ createdAfter: at(5) }, (_, index) => index >= 5, 'createdAfter is inclusive');
        await expect({ createdBefore: at(5) }, (_, index) => index < 5, 'createdBefore is exclusive');
        await expect({ createdAfter: at(3), createdBefore: at(9) }, (_, index) => index >= 3 && index < 9, 'a creation window');
        // The same instant written with an offset means the same thing.
        await expect({ createdAfter: '2026-03-01T12:05:00+02:00' }, (_, index) => index >= 5, 'createdAfter with a time zone offset');
        await expect(
          { threadId: 'thread-odd', runId: 'run-2', requestedBy: 'bob', createdAfter: at(8), createdBefore: at(11) },
          (_, index) => index % 2 === 1 && Math.floor(index / 4) === 2 && index % 3 !== 0 && index >= 8 && index < 11,
          'all filters together',
        );
        const found = await store.list({ runId: 'run-0', limit: 1 });
        check(
          found.items[0]?.request.threadId === 'thread-odd' && found.items[0].request.runId === 'run-0',
          'records must carry their threadId and runId',
        );
      },
    ],
    [
      'list refuses createdAfter and createdBefore that are not ISO 8601, naming the field',
      async (store) => {
        for (const [field, value] of [
          ['createdAfter', 'yesterday'],
          ['createdBefore', '2026-13-01T00:00:00Z'],
          ['createdAfter', '2026-03-01T10:00:00'],
          ['createdBefore', 1_700_000_000_000],
        ] as const) {
          try {
            await store.list({ limit: 10, [field]: value } as never);
          } catch (error) {
            check(
              HitlError.is(error, 'invalid_input'),
              `list with ${field} ${String(value)}: expected invalid_input, got ${String(error)}`,
            );
            check((error as Error).message.includes(field), `the error must name ${field}; got ${(error as Error).message}`);
            continue;
          }
          throw new ConformanceFailure(`list with ${field} ${String(value)} must throw invalid_input, but it succeeded`);
        }
      },
    ],
    [
      'list refuses a limit out of range and a cursor it did not make',
      async (store) => {
        await expectHitlError(() => store.list({ limit: 0 }), 'invalid_input', 'list with limit 0');
        await expectHitlError(() => store.list({ limit: 1001 }), 'invalid_input', 'list with limit 1001');
        await expectHitlError(() => store.list({ limit: 10, cursor: 'not-a-cursor' }), 'invalid_input', 'list with a foreign cursor');
      },
    ],
    [
      'subscribers see creations and decisions, including those made through another handle',
      async (store, peer) => {
        // A store may connect lazily: changes count from its first completed call on.
        await store.list({ limit: 1 });
        const record = sampleRecord();
        const created = nextChange(
          store,
          (change) => change.type === 'created' && change.record.request.id === record.request.id,
          changeTimeoutMs,
        );
        await peer.create(record);
        check((await created.promise).record.status === 'pending', 'the created change must carry the pending record');
        const decided = nextChange(
          store,
          (change) => change.type === 'decided' && change.record.request.id === record.request.id,
          changeTimeoutMs,
        );
        await peer.decide(record.request.id, 'pending', approval(record));
        const change = await decided.promise;
        check(change.record.status === 'approved', `the decided change must carry the new status; got ${change.record.status}`);
      },
    ],
    [
      'an unsubscribed listener hears nothing more',
      async (store) => {
        await store.list({ limit: 1 });
        const heard: StoreChange[] = [];
        const unsubscribe = store.subscribe((change) => heard.push(change));
        unsubscribe();
        const record = sampleRecord();
        // A listener that stays subscribed tells us when the change has been delivered.
        const delivered = nextChange(store, (change) => change.record.request.id === record.request.id, changeTimeoutMs);
        await store.create(record);
        await delivered.promise;
        check(heard.length === 0, `an unsubscribed listener must not be called; it was called ${heard.length} times`);
      },
    ],
  ];
  cases.push(...grantConformanceCases({ sampleRecord, approval, check, changeTimeoutMs }));

  cases.push(...approvalConformanceCases(changeTimeoutMs));
  cases.push(...getManyConformanceCases());
  cases.push(...outboxCaseBodies(() => sampleRecord(), approval));
  cases.push(...resumeClaimCases({ check, approval, sampleRecord: (resumeWith) => markedRecord(resumeWith) }));
  return cases.map(([name, body]) => ({ name, run: withStores(body) }));
}
