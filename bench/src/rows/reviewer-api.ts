// Reviewer API rows: POST /respond throughput against a bare Express handler, and GET /requests latency with 100,000 records.
import autocannon from 'autocannon';
import { request } from 'node:http';
import { formatNumber, median, percentile, type BenchContext, type Row } from '../harness.js';
import { startWorkerServer } from '../workers.js';

const CONNECTIONS = 32;

/**
 * Requests per second autocannon gets from `POST /hitl/requests/bench-N/respond`, each on its own
 * request: a run is `amount` requests, not a duration, so a fast machine cannot run out of pending ones.
 */
async function respondThroughput(port: number, amount: number, firstId: number): Promise<{ rate: number; non2xx: number; used: number }> {
  let next = firstId;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    amount,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve', feedback: 'looks right' }),
        setupRequest: (settings) => ({ ...settings, path: `/hitl/requests/bench-${next++}/respond` }),
      },
    ],
  });
  // The run's own rate: its requests over its time (the mean of per-second counts would round a
  // fixed number of requests to whole seconds).
  return { rate: result.requests.total / result.duration, non2xx: result.non2xx, used: next - firstId };
}

function getLatencyMs(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const call = request({ host: '127.0.0.1', port, path, headers: { 'x-reviewer': 'bench' } }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`GET ${path} answered ${response.statusCode}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    call.on('error', reject);
    call.end();
  });
}

/**
 * The reviewer API under load on loopback: `POST /respond` throughput against a bare Express JSON
 * handler on the same route, alternating over several rounds; and `GET /requests` latency with
 * 100,000 records in the memory store.
 */
export async function reviewerApi(context: BenchContext): Promise<Row[]> {
  const rounds = context.smoke ? 1 : 5;
  const pool = context.smoke ? 20_000 : 100_000;
  // Each round's share of the pending requests, less what may be in flight when a run stops (about
  // 3 s of requests at this machine's rate; a smoke run takes 4,000).
  const perRound = context.smoke ? 4_000 : Math.floor(pool / rounds) - 2 * CONNECTIONS;
  const hitl = await startWorkerServer('review-server.js', { mode: 'hitl', count: pool });
  const bare = await startWorkerServer('review-server.js', { mode: 'bare', count: 0 });
  const hitlRates: number[] = [];
  const bareRates: number[] = [];
  let nextId = 0;
  let failures = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const measured = await respondThroughput(hitl.port, perRound, nextId);
      nextId += measured.used;
      failures += measured.non2xx;
      hitlRates.push(measured.rate);
      bareRates.push((await respondThroughput(bare.port, perRound, 0)).rate);
    }
  } finally {
    await bare.stop();
  }
  if (nextId > pool) throw new Error(`the respond benchmark used ${nextId} requests but only ${pool} were pending`);
  if (failures > 0) throw new Error(`${failures} respond calls did not answer 2xx`);

  // GET /requests on the 100,000 records (those decided above included): a page of pending ones,
  // and a filter that matches one record in a thousand.
  const samples = context.smoke ? 50 : 1_000;
  const pending: number[] = [];
  const rare: number[] = [];
  try {
    for (let index = 0; index < 20; index++) await getLatencyMs(hitl.port, '/hitl/requests?status=pending');
    for (let index = 0; index < samples; index++) {
      pending.push(await getLatencyMs(hitl.port, '/hitl/requests?status=pending&limit=50'));
      rare.push(await getLatencyMs(hitl.port, '/hitl/requests?status=pending&toolName=rare_tool&limit=50'));
    }
  } finally {
    await hitl.stop();
  }
  const hitlRate = median(hitlRates);
  const bareRate = median(bareRates);
  const share = hitlRate / bareRate;
  const p99 = percentile(pending, 99);
  const rareP99 = percentile(rare, 99);
  return [
    {
      row: 'reviewer API, POST /respond',
      measured: `${formatNumber(hitlRate)} req/s (autocannon, 32 connections, loopback)`,
      baseline: `bare Express JSON handler ${formatNumber(bareRate)} req/s`,
      result: `${formatNumber(share * 100)}% of the bare handler`,
      target: '≥ 50%',
      pass: share >= 0.5,
      figures: { requestsPerSecond: hitlRate, bareRequestsPerSecond: bareRate, share, decisions: nextId },
    },
    {
      row: `list pending, GET /requests with ${formatNumber(pool, 0)} records`,
      measured: `p50 ${formatNumber(percentile(pending, 50), 2)} ms, p99 ${formatNumber(p99, 2)} ms; rare tool filter p99 ${formatNumber(rareP99, 2)} ms`,
      baseline: '—',
      result: `p99 ${formatNumber(Math.max(p99, rareP99), 2)} ms`,
      target: '≤ 20 ms p99',
      pass: p99 <= 20 && rareP99 <= 20,
      figures: {
        records: pool,
        p50Ms: percentile(pending, 50),
        p99Ms: p99,
        rareFilterP50Ms: percentile(rare, 50),
        rareFilterP99Ms: rareP99,
      },
    },
  ];
}
