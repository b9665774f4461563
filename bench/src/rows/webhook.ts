// Webhook rows: signed deliveries to a local receiver against a bare unsigned fetch, and the heap while the receiver is down.
import { createManager, type ApprovalRecord } from '@hitl/core';
import { createWebhookNotifier, generateWebhookSecret, toWebhookPayload } from '@hitl/notifier-webhook';
import { formatNumber, median, settledHeap, type BenchContext, type Row } from '../harness.js';
import { startWorkerServer } from '../workers.js';

const CONCURRENCY = 8;

async function sampleRecord(): Promise<ApprovalRecord> {
  const manager = createManager();
  const record = await manager.submit({
    toolName: 'delete_user',
    description: 'Delete user account 12345 and all associated data',
    input: { user_id: '12345', reason: 'requested by the account owner' },
    riskLevel: 'irreversible',
    confidence: 0.85,
  });
  await manager.close();
  return record;
}

/** Deliveries per second of `deliver`, `count` of them, at most `CONCURRENCY` in flight. */
async function rate(count: number, deliver: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  let begun = 0;
  const lane = async () => {
    while (begun < count) {
      begun++;
      await deliver();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return count / (Number(process.hrtime.bigint() - started) / 1e9);
}

/**
 * Webhook delivery to a local receiver (in a worker thread): signed deliveries through the notifier
 * against a bare `fetch` POST of the same JSON, unsigned, at the same concurrency; and the heap while
 * 100,000 notifications meet a receiver that is down.
 */
export async function webhookDelivery(context: BenchContext): Promise<Row[]> {
  const count = context.smoke ? 200 : 3_000;
  const rounds = context.smoke ? 1 : 5;
  const record = await sampleRecord();
  const body = JSON.stringify(toWebhookPayload(record));
  const receiver = await startWorkerServer('receiver.js', {});
  const url = `http://127.0.0.1:${receiver.port}/hitl`;
  const signed = createWebhookNotifier({ url, secret: generateWebhookSecret(), concurrency: CONCURRENCY, maxQueue: 10_000 });
  const unsigned = createWebhookNotifier({ url, concurrency: CONCURRENCY, maxQueue: 10_000 });
  const signal = new AbortController().signal;
  const bareFetch = async () => {
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await response.arrayBuffer();
    if (response.status !== 204) throw new Error(`receiver answered ${response.status}`);
  };
  const signedRates: number[] = [];
  const unsignedRates: number[] = [];
  const bareRates: number[] = [];
  try {
    await rate(200, () => signed.notify(record, { signal }));
    await rate(200, bareFetch);
    for (let round = 0; round < rounds; round++) {
      signedRates.push(await rate(count, () => signed.notify(record, { signal })));
      unsignedRates.push(await rate(count, () => unsigned.notify(record, { signal })));
      bareRates.push(await rate(count, bareFetch));
    }
  } finally {
    await signed.close();
    await unsigned.close();
    await receiver.stop();
  }

  // A receiver that is down: notifications pile up against a bounded queue.
  const down = createWebhookNotifier({
    url: 'http://127.0.0.1:9/unreachable',
    maxQueue: 1_000,
    retry: { attempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000 },
  });
  const notifications = context.smoke ? 5_000 : 100_000;
  const heaps: number[] = [];
  heaps.push(await settledHeap());
  let rejected = 0;
  for (let index = 0; index < notifications; index++) {
    down.notify(record, { signal }).catch(() => rejected++);
    if ((index + 1) % (notifications / 4) === 0) heaps.push(await settledHeap());
  }
  await down.close({ deadlineMs: 0 });
  const growthMb = ((heaps.at(-1) as number) - (heaps[1] as number)) / 1024 / 1024;

  const signedRate = median(signedRates);
  const unsignedRate = median(unsignedRates);
  const bareRate = median(bareRates);
  const signingCost = 1 - signedRate / unsignedRate;
  return [
    {
      row: 'webhook delivery, signed',
      measured: `${formatNumber(signedRate)} deliveries/s (${CONCURRENCY} in flight)`,
      baseline: `bare fetch POST, unsigned ${formatNumber(bareRate)}/s; notifier unsigned ${formatNumber(unsignedRate)}/s`,
      result: `${formatNumber(signedRate)}/s; signing costs ${formatNumber(Math.max(0, signingCost) * 100)}%; ${formatNumber((signedRate / bareRate) * 100)}% of bare fetch`,
      target: '≥ 1,000/s; signing costs ≤ 20%',
      pass: signedRate >= 1_000 && signingCost <= 0.2,
      figures: { signedPerSecond: signedRate, unsignedPerSecond: unsignedRate, bareFetchPerSecond: bareRate, signingCost },
    },
    {
      row: 'webhook, receiver down',
      measured: `heap ${heaps.map((heap) => formatNumber(heap / 1024 / 1024, 1)).join(' → ')} MB over ${formatNumber(notifications, 0)} notifications`,
      baseline: 'heap after the first quarter',
      result: `${formatNumber(growthMb, 1)} MB growth; ${formatNumber(rejected, 0)} dropped or failed`,
      target: 'flat (bounded queue)',
      pass: growthMb < 10,
      figures: { notifications, growthMb, rejected },
    },
  ];
}
