// The conformance cases of ApprovalStore.getMany (one read for many ids): part of storeConformanceCases, passed trivially by stores without it.
import { check, expectHitlError, sampleRecord, type ConformanceBody } from './store-conformance.js';
import type { ApprovalStore } from './types.js';

/** `body` with the store's `getMany`, or nothing to check when the store has none. */
const withGetMany =
  (body: (getMany: NonNullable<ApprovalStore['getMany']>, store: ApprovalStore, peer: ApprovalStore) => Promise<void>): ConformanceBody =>
  async (store, peer) => {
    if (typeof store.getMany !== 'function') return;
    await body(store.getMany.bind(store), store, peer);
  };

/** The getMany cases, as `[name, body]` pairs run by `storeConformanceCases` with a fresh store each. */
export function getManyConformanceCases(): [string, ConformanceBody][] {
  return [
    [
      'getMany returns the records of the ids it knows, each once, as get returns them',
      withGetMany(async (getMany, store, peer) => {
        const first = sampleRecord();
        const second = sampleRecord();
        await store.create(first);
        await peer.create(second);
        const ids = [second.request.id, 'conformance-no-such-id', first.request.id, second.request.id];
        const found = await getMany(ids);
        const byId = new Map(found.map((record) => [record.request.id, record]));
        check(found.length === 2, `getMany of two known ids (one repeated) and one unknown must return 2 records; got ${found.length}`);
        for (const record of [first, second]) {
          const expected = await store.get(record.request.id);
          check(
            JSON.stringify(byId.get(record.request.id)) === JSON.stringify(expected),
            `getMany must return '${record.request.id}' as get does`,
          );
        }
        check((await getMany([])).length === 0, 'getMany of no ids must return no records');
      }),
    ],
    [
      'getMany refuses what is not a list of ids, naming the field',
      withGetMany(async (getMany) => {
        await expectHitlError(() => getMany('not-a-list' as never), 'invalid_input', 'getMany of a string');
        await expectHitlError(() => getMany(['ok', ''] as never), 'invalid_input', 'getMany with an empty id');
        await expectHitlError(() => getMany([42] as never), 'invalid_input', 'getMany with a number');
        await expectHitlError(
          () => getMany(Array.from({ length: 1_001 }, (_, index) => `id-${index}`)),
          'invalid_input',
          'getMany of 1,001 ids',
        );
      }),
    ],
  ];
}
