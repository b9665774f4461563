// The rules of the optional resume claim (claimResume, renewResume, completeResume, listUnresumed), as cases
// of the store conformance suite: a store that has the methods must keep them.
import { HitlError } from './hitl-error.js';
import type { ApprovalRecord, ApprovalStore, DecidePatch } from './types.js';

type Check = (condition: unknown, message: string) => asserts condition;

export interface ResumeClaimCaseTools {
  check: Check;
  /** A fresh pending record; `resumeWith` marks it for a resumer. */
  sampleRecord(resumeWith?: string): ApprovalRecord;
  approval(record: ApprovalRecord): DecidePatch;
}

/** Retries `attempt` until it resolves something, for up to `timeoutMs` (a lease running out by the store's clock). */
async function eventually<T>(attempt: () => Promise<T | undefined>, timeoutMs: number, what: string, check: Check): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; tries < 10_000; tries++) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  check(false, `${what} within ${timeoutMs} ms`);
  throw new Error('unreachable');
}

/** Checks that `action` rejects with `invalid_input`. */
async function refusedAsInvalid(action: () => Promise<unknown>, what: string, check: Check): Promise<void> {
  let failure: unknown;
  try {
    await action();
  } catch (error) {
    failure = error;
  }
  check(HitlError.is(failure, 'invalid_input'), `${what} must throw invalid_input; got ${String(failure)}`);
}

function hasResumeClaims(
  store: ApprovalStore,
): store is ApprovalStore & Required<Pick<ApprovalStore, 'claimResume' | 'completeResume' | 'listUnresumed'>> {
  return typeof store.claimResume === 'function' && typeof store.completeResume === 'function' && typeof store.listUnresumed === 'function';
}

/** The resume-claim cases; each passes at once for a store without the methods (they are optional). */
export function resumeClaimCases(tools: ResumeClaimCaseTools): [string, (store: ApprovalStore, peer: ApprovalStore) => Promise<void>][] {
  const check: Check = tools.check;
  const { sampleRecord, approval } = tools;
  const decided = async (store: ApprovalStore, resumeWith = 'conformance') => {
    const record = sampleRecord(resumeWith);
    await store.create(record);
    await store.decide(record.request.id, 'pending', approval(record));
    return record.request.id;
  };
  return [
    [
      'resume claim: only a decided request can be claimed, and only by one of many concurrent claimers',
      async (store, peer) => {
        if (!hasResumeClaims(store) || !hasResumeClaims(peer)) return;
        const pending = sampleRecord('conformance');
        await store.create(pending);
        check((await store.claimResume(pending.request.id, 'a', 60_000)) === undefined, 'a pending request must not be claimable');
        check((await store.claimResume('conformance-no-such-id', 'a', 60_000)) === undefined, 'an unknown request must not be claimable');
        const id = await decided(store);
        const attempts = await Promise.all(
          Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? store : peer).claimResume(id, `owner-${index}`, 60_000)),
        );
        const winners = attempts.filter((claim) => claim !== undefined);
        check(winners.length === 1, `exactly one concurrent claim must win; ${winners.length} did`);
        const [claim] = winners;
        check(
          claim !== undefined && claim.requestId === id && claim.attempt === 1 && Date.parse(claim.leaseExpiresAt) > Date.now(),
          `the claim must name the request, attempt 1 and a future lease; got ${JSON.stringify(claim)}`,
        );
        check((await peer.claimResume(id, claim.owner, 60_000)) === undefined, 'a held claim must not be taken again, even by its owner');
      },
    ],
    [
      'resume claim: a completed resume is never claimed again; only the holder completes it',
      async (store, peer) => {
        if (!hasResumeClaims(store) || !hasResumeClaims(peer)) return;
        const id = await decided(store);
        const claim = await store.claimResume(id, 'holder', 60_000);
        check(claim !== undefined, 'the first claim of a decided request must succeed');
        check((await peer.completeResume(id, 'someone-else')) === false, 'completeResume by another owner must return false');
        check((await peer.completeResume(id, 'holder')) === true, 'completeResume by the holder must return true');
        check((await store.completeResume(id, 'holder')) === false, 'a second completeResume must return false');
        check((await store.claimResume(id, 'late', 1)) === undefined, 'a completed resume must not be claimable');
        check(
          (await store.completeResume('conformance-no-such-id', 'holder')) === false,
          'completeResume of an unknown request must return false',
        );
      },
    ],
    [
      'resume claim: a claim whose lease ran out is taken by another resumer, and its holder can no longer complete it',
      async (store, peer) => {
        if (!hasResumeClaims(store) || !hasResumeClaims(peer)) return;
        const id = await decided(store);
        const first = await store.claimResume(id, 'crashed', 1);
        check(first?.attempt === 1, 'the first claim must be attempt 1');
        const second = await eventually(
          () => peer.claimResume(id, 'survivor', 60_000),
          5_000,
          'a claim whose 1 ms lease ran out must be claimable',
          check,
        );
        check(
          second.owner === 'survivor' && second.attempt === 2,
          `the takeover must be attempt 2 by its new owner; got ${JSON.stringify(second)}`,
        );
        check((await store.completeResume(id, 'crashed')) === false, 'the former holder must not complete a claim taken over');
        check((await peer.completeResume(id, 'survivor')) === true, 'the new holder completes it');
      },
    ],
    [
      'resume claim: only the holder renews its claim, which then outlives the first lease; a completed or taken-over claim is not renewed',
      async (store, peer) => {
        if (
          !hasResumeClaims(store) ||
          !hasResumeClaims(peer) ||
          typeof store.renewResume !== 'function' ||
          typeof peer.renewResume !== 'function'
        )
          return;
        const id = await decided(store);
        const claim = await store.claimResume(id, 'holder', 60_000);
        check(claim !== undefined, 'the first claim of a decided request must succeed');
        check((await peer.renewResume(id, 'someone-else', 60_000)) === undefined, 'renewResume by another owner must resolve undefined');
        const renewed = await peer.renewResume(id, 'holder', 120_000);
        check(
          renewed !== undefined &&
            renewed.owner === 'holder' &&
            renewed.attempt === 1 &&
            Date.parse(renewed.leaseExpiresAt) > Date.parse(claim.leaseExpiresAt),
          `renewResume by the holder must keep attempt 1 and move the lease later; got ${JSON.stringify(renewed)} after ${JSON.stringify(claim)}`,
        );
        check((await peer.claimResume(id, 'intruder', 60_000)) === undefined, 'a renewed claim must not be taken');
        check((await store.completeResume(id, 'holder')) === true, 'the holder completes a renewed claim');
        check((await store.renewResume(id, 'holder', 60_000)) === undefined, 'a completed claim must not be renewed');
        const other = await decided(store);
        await store.claimResume(other, 'crashed', 1);
        const takeover = await eventually(
          () => peer.claimResume(other, 'survivor', 60_000),
          5_000,
          'a claim whose 1 ms lease ran out must be claimable',
          check,
        );
        check(takeover.owner === 'survivor', 'the takeover must belong to its new owner');
        check(
          (await store.renewResume(other, 'crashed', 60_000)) === undefined,
          'a claim taken over must not be renewed by its former holder',
        );
        await refusedAsInvalid(() => peer.renewResume?.(other, 'survivor', 0) ?? Promise.resolve(), 'renewResume with leaseMs 0', check);
      },
    ],
    [
      'resume claim: listUnresumed lists decided, marked, not completed requests, oldest decision first, in pages',
      async (store, peer) => {
        if (!hasResumeClaims(store) || !hasResumeClaims(peer)) return;
        const kind = `kind-${Math.random().toString(36).slice(2, 8)}`;
        const ids: string[] = [];
        for (let index = 0; index < 5; index++) ids.push(await decided(store, kind));
        await decided(store, `${kind}-other`);
        const unmarked = sampleRecord();
        await store.create(unmarked);
        await store.decide(unmarked.request.id, 'pending', approval(unmarked));
        const stillPending = sampleRecord(kind);
        await store.create(stillPending);
        // A held claim stays listed (its holder may die); a completed one does not.
        await store.claimResume(ids[1] as string, 'holder', 60_000);
        await store.claimResume(ids[3] as string, 'holder', 60_000);
        await store.completeResume(ids[3] as string, 'holder');
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await peer.listUnresumed(
            cursor === undefined ? { resumeWith: kind, limit: 2 } : { resumeWith: kind, limit: 2, cursor },
          );
          check(result.items.length <= 2, `a page must hold at most limit items; got ${result.items.length}`);
          seen.push(...result.items.map((item) => item.request.id));
          cursor = result.nextCursor;
          if (cursor === undefined) break;
        }
        const expected = ids.filter((_, index) => index !== 3);
        check(JSON.stringify(seen) === JSON.stringify(expected), `expected ${expected.join(', ')}; got ${seen.join(', ')}`);
      },
    ],
  ];
}
