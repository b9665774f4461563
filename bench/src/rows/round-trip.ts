// Round-trip row: submit, wait, respond and resolve in memory, in batches of 100, against a bare Promise resolved the same way.
import { createManager } from '@hitl/core';
import { formatNumber, median, percentile, type BenchContext, type Row } from '../harness.js';

const BATCH = 100;

/** Requests per second of `run(batch)` completing `batch` round trips, over several rounds. */
async function throughput(run: (batch: number) => Promise<void>, total: number, rounds: number): Promise<number[]> {
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = process.hrtime.bigint();
    for (let done = 0; done < total; done += BATCH) await run(BATCH);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rates.push(total / seconds);
  }
  return rates;
}

/**
 * A full in-memory round trip — submit, a waiter, a reviewer's respond, the waiter resolving — in
 * batches of 100 concurrent requests, against a bare Promise resolved the same way.
 */
export async function roundTrip(context: BenchContext): Promise<Row[]> {
  const total = context.smoke ? 1_000 : 50_000;
  const rounds = context.smoke ? 1 : 7;

  const hitlRun = async (batch: number) => {
    // A fresh manager per batch keeps the memory store small, as a long-running service that
    // prunes decided records would.
    const manager = createManager({ policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }] });
    await Promise.all(
      Array.from({ length: batch }, async (_, index) => {
        const record = await manager.submit({ toolName: 'delete_user', input: { user_id: String(index) }, riskLevel: 'irreversible' });
        const waiting = manager.waitFor(record.request.id);
        await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'reviewer' });
        const response = await waiting;
        if (response.decision !== 'approve') throw new Error('round trip lost its decision');
      }),
    );
    await manager.close();
  };
  const promiseRun = async (batch: number) => {
    await Promise.all(
      Array.from({ length: batch }, async () => {
        let resolve!: (value: string) => void;
        const waiting = new Promise<string>((done) => (resolve = done));
        await Promise.resolve();
        resolve('approve');
        if ((await waiting) !== 'approve') throw new Error('unreachable');
      }),
    );
  };

  await throughput(hitlRun, Math.min(total, 5_000), 1);
  await throughput(promiseRun, Math.min(total, 5_000), 1);
  const hitlRates: number[] = [];
  const promiseRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    hitlRates.push(...(await throughput(hitlRun, total, 1)));
    promiseRates.push(...(await throughput(promiseRun, total, 1)));
  }
  const hitl = median(hitlRates);
  const bare = median(promiseRates);
  const slowest = percentile(hitlRates, 1);
  return [
    {
      row: 'in-memory round trip',
      measured: `${formatNumber(hitl)} requests/s median (slowest round ${formatNumber(slowest)}/s)`,
      baseline: `bare Promise round trip ${formatNumber(bare)}/s`,
      result: `${formatNumber(hitl)}/s, ${formatNumber((hitl / bare) * 100, 2)}% of a bare Promise`,
      target: '≥ 50,000 requests/s',
      pass: hitl >= 50_000,
      figures: { requestsPerSecond: hitl, slowestRoundPerSecond: slowest, bareRoundTripsPerSecond: bare, ratio: hitl / bare },
    },
  ];
}
