/** The outbox rules of the store conformance suite: atomic writes with a change, leases, claim exclusivity, follow-ups, dead and redelivered jobs. */
import { HitlError } from '../hitl-error.js';
import type { AddApprovalInput, ApprovalRecord, ApprovalStore, DecidePatch } from '../types.js';
import type { OutboxJobInput, OutboxStore } from './types.js';

type Body = (store: ApprovalStore, peer: ApprovalStore) => Promise<void>;

class OutboxConformanceFailure extends Error {
  override name = 'ConformanceFailure';
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new OutboxConformanceFailure(message);
}

const iso = (ms: number) => new Date(ms).toISOString();

function job(id: string, requestId: string, overrides: Partial<OutboxJobInput> = {}): OutboxJobInput {
  return {
    id,
    kind: 'conformance',
    requestId,
    topic: 'request.created',
    target: 'pager',
    dueAt: iso(Date.now() - 1_000),
    maxAttempts: 3,
    ...overrides,
  };
}

/** One approval by `by` of a request that needs `required`. */
function approvalOf(record: ApprovalRecord, by: string, required = 2): AddApprovalInput {
  const at = new Date().toISOString();
  return {
    approval: { by, at },
    required,
    response: { requestId: record.request.id, decision: 'approve', respondedBy: by, respondedAt: at },
  };
}

/** Runs `body` with the store's outbox, or passes at once for a store without one. */
const withOutbox =
  (body: (outbox: OutboxStore, store: ApprovalStore, peerOutbox: OutboxStore) => Promise<void>): Body =>
  async (store, peer) => {
    if (!store.outbox) return;
    await body(store.outbox, store, peer.outbox ?? store.outbox);
  };

/** The outbox cases; `sampleRecord` makes a pending record with a fresh id, `approval` a decision of it. */
export function outboxCaseBodies(sampleRecord: () => ApprovalRecord, approval: (record: ApprovalRecord) => DecidePatch): [string, Body][] {
  const claimAll = (outbox: OutboxStore, owner: string, nowMs = Date.now()) =>
    outbox.claim({ owner, limit: 1000, leaseMs: 60_000, now: iso(nowMs), kinds: ['conformance'] });

  return [
    [
      'outbox: jobs are written with the create and the decide that carry them, and only when the change is made',
      withOutbox(async (outbox, store) => {
        const record = sampleRecord();
        const id = record.request.id;
        await store.create(record, { jobs: [job(`${id}:a`, id)] });
        await store.create(record, { jobs: [job(`${id}:ignored`, id)] });
        await store.decide(id, 'pending', approval(record), { jobs: [job(`${id}:b`, id)] });
        let refused = false;
        try {
          await store.decide(id, 'pending', approval(record), { jobs: [job(`${id}:c`, id)] });
        } catch (error) {
          refused = HitlError.is(error, 'conflict');
        }
        check(refused, 'a second decision must be refused with conflict');
        const ids = (await outbox.list({ requestId: id })).items.map((item) => item.id).sort();
        check(
          JSON.stringify(ids) === JSON.stringify([`${id}:a`, `${id}:b`]),
          `the outbox must hold exactly the jobs of the changes made; got ${JSON.stringify(ids)}`,
        );
      }),
    ],
    [
      "outbox: decideMany writes each item's jobs with the decisions, and none when it decides nothing",
      withOutbox(async (outbox, store) => {
        if (!store.decideMany) return;
        const [first, second] = [sampleRecord(), sampleRecord()];
        for (const record of [first, second]) await store.create(record);
        const items = [first, second].map((record) => ({
          id: record.request.id,
          expectedStatus: 'pending' as const,
          patch: approval(record),
          jobs: [job(`${record.request.id}:many`, record.request.id)],
        }));
        await store.decideMany(items);
        let refused = false;
        try {
          await store.decideMany(items.map((item) => ({ ...item, jobs: [job(`${item.id}:again`, item.id)] })));
        } catch (error) {
          refused = HitlError.is(error, 'conflict');
        }
        check(refused, 'deciding decided requests again must be refused with conflict');
        for (const record of [first, second]) {
          const id = record.request.id;
          const ids = (await outbox.list({ requestId: id })).items.map((item) => item.id);
          check(
            JSON.stringify(ids) === JSON.stringify([`${id}:many`]),
            `decideMany must write exactly the jobs of the decisions it made; got ${JSON.stringify(ids)}`,
          );
        }
      }),
    ],
    [
      'outbox: addApproval writes its partialJobs when the request stays pending and its jobs when it is approved, never both',
      withOutbox(async (outbox, store) => {
        if (!store.addApproval) return;
        const record: ApprovalRecord = { ...sampleRecord(), approvalsRequired: 2, approvals: [] };
        const id = record.request.id;
        await store.create(record);
        const written = (suffix: string) => ({
          jobs: [job(`${id}:decided-${suffix}`, id)],
          partialJobs: [job(`${id}:partial-${suffix}`, id)],
        });
        const first = await store.addApproval(id, approvalOf(record, 'alice'), written('alice'));
        check(first.status === 'pending', `one approval of two must leave the request pending; got ${first.status}`);
        const second = await store.addApproval(id, approvalOf(record, 'bob'), written('bob'));
        check(second.status === 'approved', `the second approval of two must approve the request; got ${second.status}`);
        let refused = false;
        try {
          await store.addApproval(id, approvalOf(record, 'carol'), written('carol'));
        } catch (error) {
          refused = HitlError.is(error, 'conflict');
        }
        check(refused, 'an approval of an approved request must be refused with conflict');
        const ids = (await outbox.list({ requestId: id })).items.map((item) => item.id).sort();
        check(
          JSON.stringify(ids) === JSON.stringify([`${id}:decided-bob`, `${id}:partial-alice`]),
          `the outbox must hold alice's partial job and bob's decision job only; got ${JSON.stringify(ids)}`,
        );
      }),
    ],
    [
      "outbox: decideMany writes an approval item's partialJobs when it leaves the request pending, its jobs when it approves it",
      withOutbox(async (outbox, store) => {
        if (!store.decideMany || !store.addApproval) return;
        const done: ApprovalRecord = { ...sampleRecord(), approvalsRequired: 2, approvals: [] };
        const waiting: ApprovalRecord = { ...sampleRecord(), approvalsRequired: 2, approvals: [] };
        for (const record of [done, waiting]) await store.create(record);
        await store.addApproval(done.request.id, approvalOf(done, 'alice'));
        const records = await store.decideMany(
          [done, waiting].map((record) => ({
            id: record.request.id,
            approval: approvalOf(record, 'bob'),
            jobs: [job(`${record.request.id}:decided`, record.request.id)],
            partialJobs: [job(`${record.request.id}:partial`, record.request.id)],
          })),
        );
        check(
          records.map((record) => record.status).join() === 'approved,pending',
          `bob's approvals must approve the first request and leave the second pending; got ${records.map((record) => record.status).join()}`,
        );
        for (const [record, expected] of [
          [done, `${done.request.id}:decided`],
          [waiting, `${waiting.request.id}:partial`],
        ] as const) {
          const ids = (await outbox.list({ requestId: record.request.id })).items.map((item) => item.id);
          check(
            JSON.stringify(ids) === JSON.stringify([expected]),
            `expected exactly ${expected} in the outbox; got ${JSON.stringify(ids)}`,
          );
        }
      }),
    ],
    [
      'outbox: a claim holds a job for its lease; another claimer skips it, then takes it once the lease has ended',
      withOutbox(async (outbox, store, peerOutbox) => {
        const record = sampleRecord();
        const id = record.request.id;
        await store.create(record, { jobs: [job(`${id}:lease`, id)] });
        const first = (await claimAll(outbox, 'owner-a')).filter((item) => item.id === `${id}:lease`);
        check(
          first.length === 1 && first[0]?.state === 'claimed' && first[0].attempts === 1,
          `the first claim must take the job with attempt 1; got ${JSON.stringify(first)}`,
        );
        const second = (await claimAll(peerOutbox, 'owner-b')).filter((item) => item.id === `${id}:lease`);
        check(second.length === 0, 'a job under a live lease must not be claimed again');
        const later = (await claimAll(peerOutbox, 'owner-b', Date.now() + 120_000)).filter((item) => item.id === `${id}:lease`);
        check(
          later.length === 1 && later[0]?.attempts === 2 && later[0].owner === 'owner-b',
          `after the lease the job must be claimable, attempt 2; got ${JSON.stringify(later)}`,
        );
        check(!(await outbox.complete(`${id}:lease`, 'owner-a')), 'complete by a claimer whose lease was taken over must report false');
        check(await peerOutbox.complete(`${id}:lease`, 'owner-b'), 'complete by the current claimer must report true');
        const [done] = (await outbox.list({ requestId: id, state: 'done' })).items;
        check(done?.id === `${id}:lease`, 'a completed job must be listed as done');
      }),
    ],
    [
      'outbox: a job written claimed is not claimable before its lease ends',
      withOutbox(async (outbox, store) => {
        const record = sampleRecord();
        const id = record.request.id;
        const leaseUntil = iso(Date.now() + 60_000);
        await store.create(record, { jobs: [job(`${id}:mine`, id, { claim: { owner: 'writer', leaseUntil } })] });
        check(
          (await claimAll(outbox, 'other')).every((item) => item.id !== `${id}:mine`),
          'a job written claimed must not be claimed by another before its lease ends',
        );
        check(await outbox.complete(`${id}:mine`, 'writer'), 'the writer must be able to complete the job it wrote claimed');
      }),
    ],
    [
      'outbox: concurrent claims take disjoint jobs',
      withOutbox(async (outbox, store, peerOutbox) => {
        const record = sampleRecord();
        const id = record.request.id;
        await store.create(record, { jobs: Array.from({ length: 20 }, (_, index) => job(`${id}:many-${index}`, id)) });
        const [left, right] = await Promise.all([
          outbox.claim({ owner: 'left', limit: 10, leaseMs: 60_000, now: iso(Date.now()), kinds: ['conformance'] }),
          peerOutbox.claim({ owner: 'right', limit: 10, leaseMs: 60_000, now: iso(Date.now()), kinds: ['conformance'] }),
        ]);
        const mine = [...left, ...right].map((item) => item.id).filter((jobId) => jobId.startsWith(`${id}:many-`));
        check(new Set(mine).size === mine.length, `no job may be claimed twice; got ${JSON.stringify(mine)}`);
        for (const item of [...left, ...right])
          await (left.includes(item) ? outbox : peerOutbox).complete(item.id, left.includes(item) ? 'left' : 'right');
      }),
    ],
    [
      'outbox: complete writes follow-ups; reschedule sets the next due time; dead jobs are listed and can be redelivered',
      withOutbox(async (outbox, store) => {
        const record = sampleRecord();
        const id = record.request.id;
        await store.create(record, { jobs: [job(`${id}:first`, id)] });
        const [first] = (await claimAll(outbox, 'worker')).filter((item) => item.id === `${id}:first`);
        check(first, 'the job must be claimable');
        check(await outbox.complete(first.id, 'worker', { jobs: [job(`${id}:next`, id)] }), 'complete must report true');
        const [next] = (await claimAll(outbox, 'worker')).filter((item) => item.id === `${id}:next`);
        check(next, 'a follow-up written by complete must be claimable');
        const retryAt = Date.now() + 30_000;
        check(await outbox.reschedule(next.id, 'worker', { dueAt: iso(retryAt), error: 'HTTP 503' }), 'reschedule must report true');
        check(
          (await claimAll(outbox, 'worker')).every((item) => item.id !== next.id),
          'a rescheduled job must not be claimable before its due time',
        );
        const due = await outbox.nextDue();
        check(due !== undefined && Date.parse(due) <= retryAt, `nextDue must be no later than the rescheduled job; got ${String(due)}`);
        const [again] = (await claimAll(outbox, 'worker', retryAt)).filter((item) => item.id === next.id);
        check(
          again?.attempts === 2 && again.lastError === 'HTTP 503',
          `the retry must be attempt 2 with the last error; got ${JSON.stringify(again)}`,
        );
        check(await outbox.dead(next.id, 'worker', 'HTTP 500'), 'dead must report true');
        const dead = (await outbox.list({ state: 'dead', requestId: id })).items;
        check(
          dead.length === 1 && dead[0]?.lastError === 'HTTP 500',
          `the dead job must be listed with its error; got ${JSON.stringify(dead)}`,
        );
        const redelivered = await outbox.redeliver(next.id, iso(Date.now()));
        check(
          redelivered.state === 'pending' && redelivered.attempts === 0,
          `a redelivered job must be pending with no attempts; got ${JSON.stringify(redelivered)}`,
        );
        check(
          (await claimAll(outbox, 'worker')).some((item) => item.id === next.id),
          'a redelivered job must be claimable',
        );
        let missing: unknown;
        try {
          await outbox.redeliver(`${id}:unknown`, iso(Date.now()));
        } catch (error) {
          missing = error;
        }
        check(HitlError.is(missing, 'not_found'), 'redeliver of an unknown id must throw not_found');
      }),
    ],
    [
      'outbox: a claim with targets takes only jobs without a target or with a listed one, and nextDue agrees',
      withOutbox(async (outbox, store) => {
        const record = sampleRecord();
        const id = record.request.id;
        const kind = `conformance-targets-${id}`;
        const dueAt = iso(Date.now() - 60_000);
        const untargeted = job(`${id}:none`, id, { kind, dueAt });
        delete untargeted.target;
        const jobs = [job(`${id}:pager`, id, { kind, dueAt }), job(`${id}:mail`, id, { kind, target: 'mail', dueAt }), untargeted];
        await store.create(record, { jobs });
        const nextForMail = await outbox.nextDue({ kinds: [kind], targets: ['mail'] });
        check(nextForMail !== undefined, 'nextDue with a target that has due jobs must not be undefined');
        check((await outbox.nextDue({ kinds: [kind], targets: ['sms'] })) !== undefined, 'nextDue must count a due job without a target');
        const claimed = await outbox.claim({
          owner: 'worker',
          limit: 10,
          leaseMs: 60_000,
          now: iso(Date.now()),
          kinds: [kind],
          targets: ['pager', 'sms'],
        });
        const ids = claimed.map((item) => item.id).sort();
        check(
          JSON.stringify(ids) === JSON.stringify([`${id}:none`, `${id}:pager`].sort()),
          `a claim for pager and sms must take the pager job and the one without a target; got ${JSON.stringify(ids)}`,
        );
        check(
          (await outbox.nextDue({ exceptOwner: 'worker', kinds: [kind], targets: ['pager'] })) === undefined,
          'nextDue must leave out a job for a target the claimer does not run',
        );
        const rest = await outbox.claim({ owner: 'other', limit: 10, leaseMs: 60_000, now: iso(Date.now()), kinds: [kind] });
        check(
          rest.length === 1 && rest[0]?.id === `${id}:mail`,
          `a claim without targets must take the mail job left; got ${JSON.stringify(rest.map((item) => item.id))}`,
        );
        let refused: unknown;
        try {
          await outbox.claim({ owner: 'worker', limit: 10, leaseMs: 60_000, now: iso(Date.now()), targets: 'mail' as never });
        } catch (error) {
          refused = error;
        }
        check(
          HitlError.is(refused, 'invalid_input') && refused.message.includes('targets'),
          `targets that is not an array must be refused naming targets; got ${String(refused)}`,
        );
      }),
    ],
  ];
}
