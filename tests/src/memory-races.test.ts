// Races on the memory store: 1,000 random interleavings and 1,000 decisions at the expiry instant, one final status seen by all.
import fc from 'fast-check';
import { createManager, createMemoryStore, HitlError, type ManagerEvent } from '@hitl/core';
import { createManualClock } from '@hitl/core/testing';
import { describe, expect, it } from 'vitest';
import { runScenario, scenarioArbitrary } from './interleavings.js';

describe('races on the memory store', () => {
  it('random interleavings of submit, respond, cancel, expiry, waitFor and close: one final status, seen by all (1,000 runs)', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArbitrary, async (scheduler, scenario) => {
        runs++;
        await runScenario(scheduler, scenario, async () => {
          const store = createMemoryStore();
          return { store, ids: (index) => `r${index}`, cleanup: async () => store.close?.() };
        });
      }),
      { numRuns: Number(process.env.RUNS ?? 1_000), timeout: 5_000 },
    );
    expect(runs).toBeGreaterThanOrEqual(1_000);
  });

  it('a decision exactly at the expiry instant, 1,000 times: store, waiter and events agree', async () => {
    // Four orders around a 1,000 ms deadline: a decision 1 ms early (it wins); the timer fires,
    // then the decision arrives at the instant; the decision arrives at the instant before the
    // timer has fired; the clock reaches the instant between respond's read and its write.
    const tally = new Map<string, number>();
    for (let trial = 0; trial < 1_000; trial++) {
      const variant = (['early', 'timer-first', 'decision-first', 'between'] as const)[trial % 4]!;
      const clock = createManualClock();
      let skew = 0;
      const manager = createManager({ now: () => clock.now() + skew, scheduler: clock, timeoutMs: 1_000 });
      const events: ManagerEvent['type'][] = [];
      manager.subscribe((event) => events.push(event.type));
      const record = await manager.submit({ toolName: 'delete_user', input: { trial } });
      const waiter = manager.waitFor(record.request.id).then(
        (response) => response.decision,
        (error: unknown) => (HitlError.is(error) ? error.code : 'unexpected'),
      );
      const approve = () =>
        manager.respond(record.request.id, { decision: 'approve' }).then(
          () => 'approved',
          (error: unknown) => (HitlError.is(error) ? error.code : 'unexpected'),
        );
      let answer: string;
      if (variant === 'early') {
        clock.advance(999);
        answer = await approve();
        clock.advance(1);
      } else if (variant === 'timer-first') {
        clock.advance(1_000);
        answer = await approve();
      } else if (variant === 'decision-first') {
        clock.advance(999);
        skew = 1; // the manager's clock reads the deadline; the timer has not fired yet
        answer = await approve();
        clock.advance(1);
      } else {
        clock.advance(999);
        const responding = approve();
        clock.advance(1);
        answer = await responding;
      }
      const seen = await waiter;
      const stored = await manager.get(record.request.id);
      const finals = events.filter((type) => type !== 'request-created');
      expect(finals).toHaveLength(1);
      expect(clock.pendingTimers()).toBe(0);
      if (stored?.status === 'approved') {
        expect([answer, seen, finals[0]]).toEqual(['approved', 'approve', 'request-decided']);
      } else {
        expect(stored?.status).toBe('expired');
        expect([answer, seen, finals[0]]).toEqual(['conflict', 'timeout', 'request-expired']);
      }
      const key = `${variant}:${stored?.status}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      await manager.close();
    }
    // At the instant the deadline has passed: only the early decision wins.
    expect(Object.fromEntries(tally)).toEqual({
      'early:approved': 250,
      'timer-first:expired': 250,
      'decision-first:expired': 250,
      'between:expired': 250,
    });
  });
});
