// The store conformance cases for grants and decideMany: run by storeConformanceCases for every store that has those methods.
import { randomUUID } from 'node:crypto';
import { HitlError } from '../hitl-error.js';
import type { ApprovalRecord, ApprovalStore, DecidePatch } from '../types.js';
import type { Grant, GrantChange } from './grant-types.js';

type Body = (store: ApprovalStore, peer: ApprovalStore) => Promise<void>;

export interface GrantCaseHelpers {
  sampleRecord(overrides?: { threadId?: string; runId?: string }): ApprovalRecord;
  approval(record: ApprovalRecord): DecidePatch;
  check(condition: unknown, message: string): asserts condition;
  changeTimeoutMs: number;
}

function sampleGrant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: `grant-${randomUUID()}`,
    effect: 'approve',
    toolPattern: 'send_email',
    scope: { threadId: 'thread-conformance' },
    uses: 0,
    grantedBy: 'reviewer-conformance',
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

function nextGrantChange(store: ApprovalStore, matches: (change: GrantChange) => boolean, timeoutMs: number): Promise<GrantChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching grant change reached the subscriber within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe =
      store.subscribeGrants?.((change) => {
        if (!matches(change)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(change);
      }) ?? (() => clearTimeout(timer));
  });
}

/** The grant cases; each passes trivially for a store without grant methods (they are optional). */
export function grantConformanceCases(helpers: GrantCaseHelpers): [string, Body][] {
  const { sampleRecord, approval, changeTimeoutMs } = helpers;
  const check: (condition: unknown, message: string) => asserts condition = helpers.check;
  const needs =
    (methods: (keyof ApprovalStore)[], body: Body): Body =>
    async (store, peer) => {
      if (methods.some((method) => typeof store[method] !== 'function')) return;
      await body(store, peer);
    };
  const failureCode = async (action: () => Promise<unknown>): Promise<string> => {
    try {
      await action();
      return 'none';
    } catch (error) {
      return HitlError.is(error) ? error.code : String(error);
    }
  };
  const now = () => new Date().toISOString();

  return [
    [
      'grants: createGrant stores a grant, getGrant and listGrants return it, uses starting at 0',
      needs(['createGrant', 'getGrant', 'listGrants'], async (store) => {
        const grant = sampleGrant({ maxUses: 2, reason: 'conformance', when: 'input.to != ""' });
        const created = await store.createGrant!(grant);
        check(created.id === grant.id && created.uses === 0, 'createGrant must return the grant with uses 0');
        const read = await store.getGrant!(grant.id);
        check(read !== undefined, 'getGrant must find the grant');
        check(
          read.toolPattern === 'send_email' && read.scope.threadId === 'thread-conformance' && read.maxUses === 2,
          'getGrant must return the stored fields',
        );
        check(read.when === 'input.to != ""' && read.reason === 'conformance', 'getGrant must keep when and reason');
        const listed = await store.listGrants!({ active: true, threadId: 'thread-conformance', at: now() });
        check(
          listed.some((item) => item.id === grant.id),
          'listGrants must list an active grant',
        );
        check((await store.getGrant!('grant-missing')) === undefined, 'getGrant of an unknown id must be undefined');
      }),
    ],
    [
      'grants: useGrant counts atomically, never past maxUses',
      needs(['createGrant', 'useGrant', 'getGrant'], async (store, peer) => {
        const grant = await store.createGrant!(sampleGrant({ maxUses: 3 }));
        const handles = [store, peer];
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, index) => (handles[index % 2] as ApprovalStore).useGrant!(grant.id, now())),
        );
        const used = results.filter((result) => result !== undefined);
        check(used.length === 3, `maxUses 3 must allow exactly 3 uses; ${used.length} succeeded`);
        check((await store.getGrant!(grant.id))?.uses === 3, 'uses must be 3 after the grant is used up');
      }),
    ],
    [
      'grants: releaseGrantUse gives one use back atomically, never below 0 and never past maxUses',
      needs(['createGrant', 'useGrant', 'releaseGrantUse', 'getGrant'], async (store, peer) => {
        const grant = await store.createGrant!(sampleGrant({ maxUses: 2 }));
        check((await store.releaseGrantUse!(grant.id)) === undefined, 'a grant with no use counted has none to give back');
        check((await store.getGrant!(grant.id))?.uses === 0, 'uses must stay 0');
        await store.useGrant!(grant.id, now());
        await store.useGrant!(grant.id, now());
        check((await peer.useGrant!(grant.id, now())) === undefined, 'a used-up grant must not be usable');
        const released = await peer.releaseGrantUse!(grant.id);
        check(released?.uses === 1, `releaseGrantUse must return the grant with uses 1; got ${String(released?.uses)}`);
        check((await store.useGrant!(grant.id, now()))?.uses === 2, 'a use given back must be usable again');
        // A use given back while others race for the grant, through two handles: never past maxUses.
        const handles = [store, peer];
        const [, ...results] = await Promise.all([
          store.releaseGrantUse!(grant.id),
          ...Array.from({ length: 12 }, (_, index) => (handles[index % 2] as ApprovalStore).useGrant!(grant.id, now())),
        ]);
        const counted = results.filter((result) => result !== undefined).length;
        const uses = (await store.getGrant!(grant.id))?.uses;
        check(counted <= 1 && uses === 1 + counted, `one use given back allows at most one more; ${counted} counted, uses ${String(uses)}`);
        check((await store.releaseGrantUse!('grant-unknown')) === undefined, 'an unknown grant has no use to give back');
      }),
    ],
    [
      'grants: a revoked or expired grant cannot be used',
      needs(['createGrant', 'useGrant', 'revokeGrant'], async (store, peer) => {
        const grant = await store.createGrant!(sampleGrant());
        check((await peer.useGrant!(grant.id, now())) !== undefined, 'a live grant must be usable');
        const revoked = await store.revokeGrant!(grant.id, { revokedBy: 'alice', revokedAt: now() });
        check(revoked.revokedBy === 'alice' && revoked.revokedAt !== undefined, 'revokeGrant must record who and when');
        check((await peer.useGrant!(grant.id, now())) === undefined, 'a revoked grant must not be usable (through any handle)');
        const again = await store.revokeGrant!(grant.id, { revokedBy: 'bob', revokedAt: now() });
        check(again.revokedBy === 'alice', 'revoking twice must keep the first revocation');
        check(
          (await failureCode(() => store.revokeGrant!('grant-unknown', { revokedBy: 'a', revokedAt: now() }))) === 'not_found',
          'revoking an unknown grant must be not_found',
        );
        const expired = await store.createGrant!(sampleGrant({ expiresAt: new Date(Date.now() - 60_000).toISOString() }));
        check((await store.useGrant!(expired.id, now())) === undefined, 'an expired grant must not be usable');
      }),
    ],
    [
      'grants: decideMany decides all or nothing and names the ids it refused',
      needs(['decideMany'], async (store) => {
        const records = [sampleRecord(), sampleRecord(), sampleRecord()];
        for (const record of records) await store.create(record);
        const [first, second, third] = records as [ApprovalRecord, ApprovalRecord, ApprovalRecord];
        await store.decide(second.request.id, 'pending', approval(second));
        const items = records.map((record) => ({ id: record.request.id, expectedStatus: 'pending' as const, patch: approval(record) }));
        let refused: unknown;
        try {
          await store.decideMany!(items);
        } catch (error) {
          refused = error;
        }
        check(HitlError.is(refused, 'conflict'), `decideMany with a decided record must be conflict; got ${String(refused)}`);
        const error = refused as HitlError;
        check(
          JSON.stringify(error.details?.ids) === JSON.stringify([second.request.id]),
          `the conflict must name ${second.request.id}; got ${JSON.stringify(error.details?.ids)}`,
        );
        check(
          (await store.get(first.request.id))?.status === 'pending' && (await store.get(third.request.id))?.status === 'pending',
          'nothing may be decided',
        );
        const decided = await store.decideMany!([items[0]!, items[2]!]);
        check(
          decided.every((record) => record.status === 'approved') && decided.length === 2,
          'decideMany must return the decided records',
        );
      }),
    ],
    [
      'grants: decideMany stores its grant with the decision',
      needs(['decideMany', 'getGrant'], async (store) => {
        const record = sampleRecord();
        await store.create(record);
        const grant = sampleGrant({ sourceRequestId: record.request.id });
        const patch = approval(record);
        patch.response = { ...patch.response!, grantId: grant.id };
        const [decided] = await store.decideMany!([{ id: record.request.id, expectedStatus: 'pending', patch }], { grant });
        check(decided?.response?.grantId === grant.id, 'the decided record must keep response.grantId');
        check((await store.getGrant!(grant.id))?.sourceRequestId === record.request.id, 'the grant must be stored with the decision');
      }),
    ],
    [
      'grants: created and revoked grants reach grant subscribers, also from another handle',
      needs(['createGrant', 'revokeGrant', 'subscribeGrants'], async (store, peer) => {
        await store.listGrants?.({ at: now(), limit: 1 });
        const grant = sampleGrant();
        const created = nextGrantChange(
          store,
          (change) => change.type === 'grant-created' && change.grant.id === grant.id,
          changeTimeoutMs,
        );
        await peer.createGrant!(grant);
        check((await created).grant.toolPattern === 'send_email', 'the grant-created change must carry the grant');
        const revoked = nextGrantChange(
          store,
          (change) => change.type === 'grant-revoked' && change.grant.id === grant.id,
          changeTimeoutMs,
        );
        await peer.revokeGrant!(grant.id, { revokedBy: 'alice', revokedAt: now() });
        check((await revoked).grant.revokedBy === 'alice', 'the grant-revoked change must carry the revoked grant');
      }),
    ],
  ];
}
