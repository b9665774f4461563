// The resume loop keeps the claim of a run that outlasts its lease: renewals on an injected
// scheduler, stopped when the run settles, and a lost claim is reported.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from './memory-store.js';
import { createResumeLoop, type ResumeLoop } from './resume-loop.js';
import { sampleRecord } from './store-conformance.js';
import type { ApprovalStore, ResumeClaim, Scheduler } from './index.js';

/** Timers that fire only when the test advances them. */
function manualScheduler() {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const scheduler: Scheduler = {
    setTimeout(callback, delayMs) {
      const id = ++nextId;
      timers.set(id, { at: now + delayMs, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
  };
  /** Moves the clock `ms` forward, firing what falls due, and lets their promises settle. */
  const advance = async (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, timer]) => timer.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = due[1].at;
      due[1].callback();
      // The renewal is a store call: let it resolve before the next timer.
      for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    }
    now = until;
  };
  return { scheduler, advance, pending: () => timers.size };
}

const loops: ResumeLoop[] = [];
afterEach(async () => {
  await Promise.all(loops.splice(0).map((loop) => loop.close()));
});

async function decidedRequest(store: ApprovalStore): Promise<string> {
  const record = sampleRecord();
  record.request.metadata = { resumeWith: 'renewal-test' };
  await store.create(record);
  await store.decide(record.request.id, 'pending', {
    status: 'approved',
    response: { requestId: record.request.id, decision: 'approve', respondedBy: 'alice', respondedAt: new Date().toISOString() },
    closedAt: new Date().toISOString(),
  });
  return record.request.id;
}

/**
 * A loop on `store` whose one resume runs until `finish()`: `started` resolves once it runs, with
 * the claim it holds and the id of the request.
 */
async function startLongRun(
  store: ApprovalStore,
  options: { leaseMs: number; owner?: string; logger?: { warn(...args: unknown[]): void; error(...args: unknown[]): void } },
) {
  const { scheduler, advance } = manualScheduler();
  let finish!: () => void;
  const running = new Promise<void>((resolve) => (finish = resolve));
  let started!: (claim: ResumeClaim) => void;
  const hasStarted = new Promise<ResumeClaim>((resolve) => (started = resolve));
  const loop = createResumeLoop({
    store,
    resumeWith: 'renewal-test',
    scheduler,
    ...options,
    async handle(record, claims) {
      const claim = await claims.claim(record.request.id);
      if (!claim) return 'done';
      await claims.runClaimed(claim, [], async () => {
        started(claim);
        await running;
      });
      return 'done';
    },
  });
  loops.push(loop);
  const id = await decidedRequest(store);
  await loop.start();
  const claim = await hasStarted;
  return {
    id,
    claim,
    advance,
    finish: async () => {
      finish();
      await loop.idle();
    },
  };
}

describe('createResumeLoop renews the claim of a long run', () => {
  it('renews every third of the lease while the run goes on, keeps others out, and stops when it returns', async () => {
    const store = createMemoryStore();
    const renewals: string[] = [];
    const renewResume = store.renewResume?.bind(store);
    if (!renewResume) throw new Error('the memory store must have renewResume');
    store.renewResume = async (requestId, owner, leaseMs) => {
      renewals.push(`${requestId}:${owner}:${leaseMs}`);
      return renewResume(requestId, owner, leaseMs);
    };
    const { id, claim, advance, finish } = await startLongRun(store, { leaseMs: 30_000, owner: 'resumer-a' });
    expect(claim.owner).toBe('resumer-a');

    await advance(9_999);
    expect(renewals).toEqual([]);
    await advance(1);
    expect(renewals).toEqual([`${id}:resumer-a:30000`]);
    await advance(20_000);
    expect(renewals).toHaveLength(3);
    expect(await store.claimResume?.(id, 'resumer-b', 30_000)).toBeUndefined();

    await finish();
    await advance(100_000);
    expect(renewals).toHaveLength(3);
    // Completed: nobody can take it again.
    expect(await store.claimResume?.(id, 'resumer-b', 30_000)).toBeUndefined();
  });

  it('says so when the claim was lost while the run went on, and renews no more', async () => {
    const store = createMemoryStore();
    store.renewResume = vi.fn(async () => undefined);
    const logger = { warn: vi.fn(), error: vi.fn() };
    const { id, advance, finish } = await startLongRun(store, { leaseMs: 3_000, logger });
    await advance(1_000);
    expect(store.renewResume).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(`request '${id}' lost its claim while running`));
    await advance(10_000);
    expect(store.renewResume).toHaveBeenCalledTimes(1);
    await finish();
  });
});
