// Lost-reply trials: a decide PostgreSQL commits while the proxy breaks its reply, and what the caller, the retry and the row then show.
import fc from 'fast-check';
import type pg from 'pg';
import { expect } from 'vitest';
import { HitlError } from '@hitl/core';
import type { InteractionResponse } from '@hitl/core';
import { errorOf } from './postgres-support-instances.js';
import type { Instance } from './postgres-support-instances.js';
import { within } from '@hitl/test-kit';
import type { PostgresProxy, StatementFault } from './postgres-support-proxy.js';

/**
 * `count` faults with different timing: the client's socket dropped before the reply, after 0, some
 * or all but the last byte of it, and (every sixth) a reply that never comes (the client's
 * `query_timeout` gives up). Seeded, so every run uses the same mix.
 */
export function lostReplyFaults(count: number): StatementFault[] {
  const faults = fc.sample(
    fc.oneof(
      fc.constant<StatementFault>({ kind: 'drop-before-reply' }),
      fc.constant<StatementFault>({ kind: 'drop-reply', keepBytes: 0 }),
      fc.integer({ min: 1, max: 400 }).map<StatementFault>((keepBytes) => ({ kind: 'drop-reply', keepBytes })),
      fc.constant<StatementFault>({ kind: 'drop-reply', keepBytes: Number.MAX_SAFE_INTEGER }),
    ),
    { numRuns: count, seed: 42 },
  );
  for (let index = 0; index < count; index += 6) faults[index] = { kind: 'black-hole' };
  return faults;
}

/** How a waiter ended: its response, or the error code it rejected with. */
export interface WaiterOutcome {
  outcome: InteractionResponse | string;
  at: number;
}

export function observeWaiter(waiting: Promise<InteractionResponse>): Promise<WaiterOutcome> {
  return waiting.then(
    (outcome) => ({ outcome, at: Date.now() }),
    (error: unknown) => ({ outcome: HitlError.is(error) ? error.code : String(error), at: Date.now() }),
  );
}

export interface LostDecideTrial {
  id: string;
  fault: StatementFault;
  /** The decision as recorded (and as the retries returned it). */
  response: InteractionResponse;
  /** The waiter on A, the instance whose reply was lost (started before the decision). */
  waiterOnA: Promise<WaiterOutcome>;
  /** When the last retry returned. */
  retriedAt: number;
}

/**
 * Per fault: B submits a request; A and B wait for it; A's `respond(approve, idempotencyKey)` goes
 * out, PostgreSQL commits it and the proxy breaks A's connection as the fault says. Checks what a
 * caller sees: the call rejects with `store_unavailable`, PostgreSQL answered `UPDATE 1`; the retry
 * with the same key (on A once its pool has replaced the connection, then on B) returns the recorded
 * decision, with the first attempt's `respondedAt`; without the key or with another decision it is
 * a `conflict`; the row holds that one decision; B's waiter sees it.
 *
 * A's manager reads `a.clock.now`: the retry runs 60 s later by that clock, so a second write would
 * show in `respondedAt`.
 */
export async function runLostDecideTrials({
  a,
  b,
  admin,
  proxy,
  tableName,
  faults,
}: {
  a: Instance;
  b: Instance;
  admin: pg.Client;
  proxy: PostgresProxy;
  tableName: string;
  faults: StatementFault[];
}): Promise<LostDecideTrial[]> {
  const trials: LostDecideTrial[] = [];
  for (const [trial, fault] of faults.entries()) {
    const { request } = await b.manager.submit({ toolName: 'delete_user', input: { trial }, timeoutMs: Infinity });
    const id = request.id;
    const waiterOnA = observeWaiter(a.manager.waitFor(id));
    const waiterOnB = observeWaiter(b.manager.waitFor(id));
    const key = `decision-${id}`;
    const decision = { decision: 'approve' as const, respondedBy: 'alice', idempotencyKey: key };
    const what = `trial ${trial} (${JSON.stringify(fault)})`;

    const trapped = proxy.trapNext('decide', fault);
    const firstAt = Date.now();
    a.clock.now = firstAt;
    const lost = await within(errorOf(a.manager.respond(id, decision)), 10_000, `the first respond of ${what}`);
    expect(lost.code, what).toBe('store_unavailable');
    expect((await within(trapped, 10_000, `the trapped decide of ${what}`)).outcome, what).toMatch(/^(UPDATE 1|SELECT 1)$/);

    a.clock.now = firstAt + 60_000;
    const retried = await a.manager.respond(id, decision);
    expect(retried.status, what).toBe('approved');
    expect(retried.response, what).toMatchObject({
      decision: 'approve',
      respondedBy: 'alice',
      decisionId: key,
      respondedAt: new Date(firstAt).toISOString(),
    });
    expect(await b.manager.respond(id, decision), what).toEqual(retried);
    const retriedAt = Date.now();
    expect((await errorOf(a.manager.respond(id, { decision: 'approve', respondedBy: 'alice' }))).code, what).toBe('conflict');
    expect((await errorOf(b.manager.respond(id, { decision: 'approve', respondedBy: 'alice' }))).code, what).toBe('conflict');
    expect((await errorOf(a.manager.respond(id, { decision: 'reject', respondedBy: 'alice', idempotencyKey: key }))).code, what).toBe(
      'conflict',
    );

    const row = await admin.query<{ status: string; response: unknown }>(`SELECT status, response FROM ${tableName} WHERE id = $1`, [id]);
    expect(row.rows, what).toEqual([{ status: 'approved', response: retried.response }]);
    const onB = await within(waiterOnB, 5_000, `B's waiter in ${what}`);
    expect(onB.outcome, what).toEqual(retried.response);
    trials.push({ id, fault, response: retried.response as InteractionResponse, waiterOnA, retriedAt });
  }
  return trials;
}
