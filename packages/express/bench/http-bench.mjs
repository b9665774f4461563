// Loopback HTTP benchmark of the review router (run `pnpm bench` after `pnpm build`).
//
// 1. POST /requests/:id/respond throughput against a bare Express JSON handler, same load, same run.
// 2. GET /requests latency (p50/p99) with 100 000 records in the memory store.
//
// The server runs in a worker thread so the load generator does not share its event loop.
// Tunables: BENCH_DURATION_MS (default 3000), BENCH_CONCURRENCY (default 32),
// BENCH_RECORDS (default 100000), BENCH_LIST_SAMPLES (default 2000).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 3_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const recordCount = Number(process.env.BENCH_RECORDS ?? 100_000);
const listSamples = Number(process.env.BENCH_LIST_SAMPLES ?? 2_000);

if (!isMainThread) {
  await serve(workerData);
} else {
  await main();
}

async function serve({ mode, count }) {
  const { default: express } = await import('express');
  const { createManager } = await import('@hitl/core');
  const { createReviewRouter } = await import('../dist/index.js');
  const app = express();
  const ids = [];
  let manager;
  if (mode === 'bare') {
    app.post('/hitl/requests/:id/respond', express.json(), (request, response) => {
      response.json({ id: request.params.id, decision: request.body.decision });
    });
    for (let index = 0; index < count; index++) ids.push(`bench-${index}`);
  } else {
    manager = createManager({ timeoutMs: Infinity, logger: { warn() {}, error() {} } });
    app.use('/hitl', createReviewRouter({ manager, authenticate: (request) => ({ id: request.get('x-reviewer') ?? 'bench' }) }));
    for (let index = 0; index < count; index++) {
      const toolName = index % 1000 === 0 ? 'rare_tool' : 'delete_user';
      const record = await manager.submit({
        toolName,
        description: `Delete user ${index}`,
        input: { user_id: String(index), reason: 'cleanup of inactive accounts' },
        riskLevel: 'irreversible',
        confidence: 0.8,
      });
      ids.push(record.request.id);
    }
  }
  const server = app.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port, ids }));
  parentPort.on('message', async (message) => {
    if (message !== 'stop') return;
    server.closeAllConnections();
    server.close();
    await manager?.close();
    parentPort.close();
  });
}

function startServer(mode, count) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { mode, count } });
    worker.once('error', reject);
    worker.once('message', ({ port, ids }) =>
      resolve({
        port,
        ids,
        stop: () =>
          new Promise((done) => {
            worker.once('exit', done);
            worker.postMessage('stop');
          }),
      }),
    );
  });
}

function send(agent, port, method, path, body) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: body === undefined ? { 'x-reviewer': 'bench' } : { 'x-reviewer': 'bench', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode, ms: performance.now() - started }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Posts a decision for each id with `concurrency` connections until time or ids run out. */
async function respondThroughput(port, ids) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = JSON.stringify({ decision: 'approve' });
  let next = 0;
  let done = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const lane = async () => {
    while (performance.now() < deadline && next < ids.length) {
      const id = ids[next++];
      const { status } = await send(agent, port, 'POST', `/hitl/requests/${encodeURIComponent(id)}/respond`, body);
      if (status === 200) done++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { perSecond: done / seconds, done, failed, ranOutOfIds: next >= ids.length };
}

async function listLatency(port, path) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const samples = [];
  for (let index = 0; index < 50; index++) await send(agent, port, 'GET', path);
  for (let index = 0; index < listSamples; index++) {
    const { status, ms } = await send(agent, port, 'GET', path);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}`);
    samples.push(ms);
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  const at = (fraction) => samples[Math.min(samples.length - 1, Math.floor(samples.length * fraction))];
  return { p50: at(0.5), p99: at(0.99) };
}

async function main() {
  const idsNeeded = Math.max(20_000, Math.ceil((durationMs / 1000) * 25_000));
  console.log(`hitl express bench: ${durationMs} ms per run, ${concurrency} connections, node ${process.version}`);

  const bare = await startServer('bare', idsNeeded);
  const bareResult = await respondThroughput(bare.port, bare.ids);
  await bare.stop();

  const hitl = await startServer('hitl', idsNeeded);
  const hitlResult = await respondThroughput(hitl.port, hitl.ids);
  await hitl.stop();

  const ratio = hitlResult.perSecond / bareResult.perSecond;
  console.log(`bare express JSON handler: ${bareResult.perSecond.toFixed(0)} req/s`);
  console.log(
    `POST /requests/:id/respond: ${hitlResult.perSecond.toFixed(0)} req/s (${hitlResult.done} decided, ${hitlResult.failed} failed${hitlResult.ranOutOfIds ? ', ran out of pending requests before the time was up' : ''})`,
  );
  console.log(`respond / bare = ${(ratio * 100).toFixed(1)}% (target >= 50%) ${ratio >= 0.5 ? 'PASS' : 'FAIL'}`);

  const listing = await startServer('hitl', recordCount);
  let listOk = true;
  for (const path of ['/hitl/requests', '/hitl/requests?status=pending&limit=50', '/hitl/requests?toolName=rare_tool&limit=50']) {
    const { p50, p99 } = await listLatency(listing.port, path);
    const pass = p99 <= 20;
    listOk &&= pass;
    console.log(`GET ${path} with ${recordCount} records: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (target p99 <= 20 ms) ${pass ? 'PASS' : 'FAIL'}`);
  }
  await listing.stop();
  if (ratio < 0.5 || !listOk) process.exitCode = 1;
}
