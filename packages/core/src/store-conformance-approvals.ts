// The conformance cases of ApprovalStore.addApproval (four eyes): part of storeConformanceCases, passed trivially by stores without it.
import { HitlError } from './hitl-error.js';
import { check, expectHitlError, nextChange, sampleRecord, type ConformanceBody } from './store-conformance.js';
import type { AddApprovalInput, ApprovalRecord, ApprovalStore } from './types.js';

/** A pending record that needs `required` approvals. */
function quorumRecord(required = 2, overrides: Parameters<typeof sampleRecord>[0] = {}): ApprovalRecord {
  return { ...sampleRecord(overrides), approvalsRequired: required, approvals: [] };
}

function approvalBy(record: ApprovalRecord, by: string, required = record.approvalsRequired ?? 2): AddApprovalInput {
  const at = new Date().toISOString();
  return {
    approval: { by, at, feedback: `approved by ${by}`, decisionId: `decision-${by}` },
    required,
    response: { requestId: record.request.id, decision: 'approve', respondedBy: by, respondedAt: at, decisionId: `decision-${by}` },
  };
}

/** `body` with the store's `addApproval`, or nothing to check when the store has none. */
const withAddApproval =
  (
    body: (
      store: ApprovalStore & Required<Pick<ApprovalStore, 'addApproval'>>,
      peer: ApprovalStore & Required<Pick<ApprovalStore, 'addApproval'>>,
    ) => Promise<void>,
  ): ConformanceBody =>
  async (store, peer) => {
    if (typeof store.addApproval !== 'function' || typeof peer.addApproval !== 'function') return;
    await body(store as never, peer as never);
  };

/** The addApproval cases, as `[name, body]` pairs run by `storeConformanceCases` with a fresh store each. */
export function approvalConformanceCases(changeTimeoutMs: number): [string, ConformanceBody][] {
  return [
    [
      'addApproval keeps the request pending below its quorum and approves it at the quorum',
      withAddApproval(async (store) => {
        const record = quorumRecord(3);
        const created = await store.create(record);
        check(
          created.record.approvalsRequired === 3 && created.record.approvals?.length === 0,
          'create must keep approvalsRequired and approvals',
        );
        const first = await store.addApproval(record.request.id, approvalBy(record, 'alice'));
        check(
          first.status === 'pending' && first.approvals?.length === 1,
          `one approval of three must leave it pending; got ${first.status}`,
        );
        check(
          first.approvals?.[0]?.by === 'alice' && first.approvals[0].feedback === 'approved by alice',
          'the approval must be stored as given',
        );
        check(first.response === undefined && first.closedAt === undefined, 'a pending request must have no response and no closedAt');
        await store.addApproval(record.request.id, approvalBy(record, 'bob'));
        const input = approvalBy(record, 'carol');
        const last = await store.addApproval(record.request.id, input);
        check(last.status === 'approved', `the third approval must approve it; got ${last.status}`);
        check(last.approvals?.map((approval) => approval.by).join() === 'alice,bob,carol', 'approvals must be kept in order');
        check(
          last.response?.respondedBy === 'carol' && last.closedAt !== undefined,
          'the final approval must store its response and closedAt',
        );
        const found = await store.get(record.request.id);
        check(found?.status === 'approved' && found.approvals?.length === 3 && found.approvalsRequired === 3, 'get must see the approvals');
      }),
    ],
    [
      'addApproval refuses the same reviewer twice, after identity normalisation',
      withAddApproval(async (store, peer) => {
        const record = quorumRecord(2);
        await store.create(record);
        await store.addApproval(record.request.id, approvalBy(record, 'Alice'));
        for (const again of ['alice', ' ALICE ', 'ａｌｉｃｅ']) {
          await expectHitlError(
            () => peer.addApproval(record.request.id, approvalBy(record, again)),
            'conflict',
            `a second approval by '${again}'`,
          );
        }
        const found = await store.get(record.request.id);
        check(found?.status === 'pending' && found.approvals?.length === 1, 'a refused approval must change nothing');
      }),
    ],
    [
      'addApproval refuses unknown, decided and expired requests; decisions keep the approvals given',
      withAddApproval(async (store) => {
        const unknown = quorumRecord();
        await expectHitlError(
          () => store.addApproval(unknown.request.id, approvalBy(unknown, 'alice')),
          'not_found',
          'addApproval on an unknown id',
        );
        const rejected = quorumRecord();
        await store.create(rejected);
        await store.addApproval(rejected.request.id, approvalBy(rejected, 'alice'));
        await store.decide(rejected.request.id, 'pending', { status: 'rejected', closedAt: new Date().toISOString() });
        await expectHitlError(
          () => store.addApproval(rejected.request.id, approvalBy(rejected, 'bob')),
          'conflict',
          'addApproval on a rejected request',
        );
        check((await store.get(rejected.request.id))?.approvals?.length === 1, 'a reject must keep the approvals given');

        const expiresAt = new Date(Date.now() - 60_000).toISOString();
        const late = quorumRecord(2, { expiresAt, createdAtMs: Date.now() - 120_000 });
        await store.create(late);
        await expectHitlError(
          () => store.addApproval(late.request.id, approvalBy(late, 'alice')),
          'conflict',
          'addApproval after expiresAt',
        );

        const soon = quorumRecord(2, { expiresAt: new Date(Date.now() + 60 * 60_000).toISOString() });
        await store.create(soon);
        await store.addApproval(soon.request.id, approvalBy(soon, 'alice'));
        const cancelled = await store.decide(soon.request.id, 'pending', {
          status: 'cancelled',
          closedAt: new Date().toISOString(),
          closedReason: 'test',
        });
        check(cancelled.approvals?.[0]?.by === 'alice', 'a decision must keep the partial approvals');
      }),
    ],
    [
      'concurrent approvals by 10 reviewers on a 2-approval request, through any handle: exactly 2 recorded, one approved',
      withAddApproval(async (store, peer) => {
        const record = quorumRecord(2);
        await store.create(record);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 === 0 ? store : peer).addApproval(record.request.id, approvalBy(record, `reviewer-${index}`)),
          ),
        );
        const accepted = results
          .filter((result) => result.status === 'fulfilled')
          .map((result) => (result as PromiseFulfilledResult<ApprovalRecord>).value);
        check(accepted.length === 2, `exactly 2 approvals must be accepted; ${accepted.length} were`);
        check(accepted.filter((result) => result.status === 'approved').length === 1, 'exactly one approval must approve the request');
        for (const result of results) {
          if (result.status === 'rejected')
            check(HitlError.is(result.reason, 'conflict'), `a refused approval must throw conflict; got ${String(result.reason)}`);
        }
        const found = await peer.get(record.request.id);
        check(found?.status === 'approved' && found.approvals?.length === 2, `2 approvals must be stored; got ${found?.approvals?.length}`);
      }),
    ],
    [
      'subscribers see each approval, and the last one as the decision, including those added through another handle',
      withAddApproval(async (store, peer) => {
        await store.list({ limit: 1 });
        const record = quorumRecord(2);
        const id = record.request.id;
        const created = nextChange(store, (change) => change.type === 'created' && change.record.request.id === id, changeTimeoutMs);
        await peer.create(record);
        await created.promise;
        const added = nextChange(store, (change) => change.type === 'approval-added' && change.record.request.id === id, changeTimeoutMs);
        await peer.addApproval(id, approvalBy(record, 'alice'));
        const change = await added.promise;
        check(
          change.record.status === 'pending' && change.record.approvals?.length === 1,
          'approval-added must carry the pending record with its approval',
        );
        const decided = nextChange(store, (change) => change.type === 'decided' && change.record.request.id === id, changeTimeoutMs);
        await peer.addApproval(id, approvalBy(record, 'bob'));
        const final = await decided.promise;
        check(
          final.record.status === 'approved' && final.record.approvals?.length === 2,
          'the final approval must reach subscribers as decided',
        );
      }),
    ],
    [
      'decideMany takes approval items: one approval each, with the decisions, all or nothing',
      withAddApproval(async (store) => {
        if (typeof store.decideMany !== 'function') return;
        const first = quorumRecord(2);
        const second = quorumRecord(2);
        const single = sampleRecord();
        for (const record of [first, second, single]) await store.create(record);
        await store.addApproval(second.request.id, approvalBy(second, 'alice'));
        const at = new Date().toISOString();
        const decide = {
          id: single.request.id,
          expectedStatus: 'pending' as const,
          patch: {
            status: 'approved' as const,
            closedAt: at,
            response: { requestId: single.request.id, decision: 'approve' as const, respondedBy: 'alice', respondedAt: at },
          },
        };
        await expectHitlError(
          () =>
            store.decideMany!([
              { id: first.request.id, approval: approvalBy(first, 'alice') },
              { id: second.request.id, approval: approvalBy(second, 'ALICE') },
              decide,
            ]),
          'conflict',
          'decideMany with an approval by a reviewer who approved already',
        );
        check((await store.get(first.request.id))?.approvals?.length === 0, 'a refused decideMany must add no approval');
        check((await store.get(single.request.id))?.status === 'pending', 'a refused decideMany must decide nothing');
        const done = await store.decideMany([{ id: first.request.id, approval: approvalBy(first, 'alice') }, decide]);
        check(
          done[0]?.status === 'pending' && done[0].approvals?.[0]?.by === 'alice',
          'an approval item must add one approval and leave the request pending below its quorum',
        );
        check(done[1]?.status === 'approved', 'a decision item must decide');
      }),
    ],
    [
      'addApproval and decideMany approval items write their outbox jobs only with the approval that completes the quorum',
      withAddApproval(async (store) => {
        const outbox = store.outbox;
        if (outbox === undefined) return;
        const jobsFor = (id: string, by: string) => ({
          jobs: [
            {
              id: `${id}:${by}:decided`,
              kind: 'audit',
              requestId: id,
              topic: 'request.decided',
              dueAt: new Date().toISOString(),
              maxAttempts: 3,
            },
          ],
        });
        const written = async (id: string) => (await outbox.list({ requestId: id, limit: 100 })).items.map((job) => job.id);
        const record = quorumRecord(2);
        await store.create(record);
        const id = record.request.id;
        await store.addApproval(id, approvalBy(record, 'alice'), jobsFor(id, 'alice'));
        check((await written(id)).length === 0, 'an approval below the quorum must write no jobs');
        await store.addApproval(id, approvalBy(record, 'bob'), jobsFor(id, 'bob'));
        const jobs = await written(id);
        check(jobs.length === 1 && jobs[0] === `${id}:bob:decided`, `the final approval must write its jobs; got ${jobs.join()}`);
        if (typeof store.decideMany !== 'function') return;
        const other = quorumRecord(2);
        await store.create(other);
        const otherId = other.request.id;
        await store.decideMany([{ id: otherId, approval: approvalBy(other, 'alice'), ...jobsFor(otherId, 'alice') }]);
        check((await written(otherId)).length === 0, 'a decideMany approval item below the quorum must write no jobs');
        await store.decideMany([{ id: otherId, approval: approvalBy(other, 'bob'), ...jobsFor(otherId, 'bob') }]);
        check(
          (await written(otherId)).join() === `${otherId}:bob:decided`,
          'a decideMany approval item completing the quorum must write its jobs',
        );
      }),
    ],
  ];
}
