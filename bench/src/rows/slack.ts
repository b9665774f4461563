// Slack row: a signed button click through the actions router to a recorded decision and the 200, with a local fake Slack API.
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManager } from '@hitl/core';
import { createSlackActionsRouter, signSlackRequest } from '@hitl/slack';
import express from 'express';
import { formatNumber, percentile, type BenchContext, type Row } from '../harness.js';

const SECRET = 'bench-signing-secret';

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function post(
  port: number,
  body: string,
  headers: Record<string, string>,
  path = '/slack/actions',
): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const call = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

/**
 * A Slack button click end to end on loopback: a signed `block_actions` request to the actions
 * router → signature checked → reviewer resolved → decision recorded in the store → 200 to Slack.
 * The `chat.update` that follows goes to a local fake Slack API in the same process (so its cost
 * loads the event loop, as it would in production), after the answer.
 */
export async function slackInteractivity(context: BenchContext): Promise<Row[]> {
  const samples = context.smoke ? 100 : 2_000;
  const warmup = context.smoke ? 20 : 200;
  let updates = 0;
  const fakeSlack = createServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      updates++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"channel":"C0BENCH","ts":"1.000001"}');
    });
  });
  const slackPort = await listen(fakeSlack);
  const manager = createManager({ timeoutMs: 3_600_000 });
  const app = express();
  app.use(
    '/slack/actions',
    createSlackActionsRouter({
      manager,
      signingSecret: SECRET,
      token: 'xoxb-bench',
      slackApiUrl: `http://127.0.0.1:${slackPort}/api/`,
      resolveReviewer: (userId, teamId) => (teamId === 'T0BENCH' ? { id: `slack:${userId}` } : null),
    }),
  );
  // The baseline: a bare Express handler reading the same raw body, on the same server, interleaved.
  app.post('/bare', express.raw({ type: () => true }), (_request, response) => {
    response.status(200).end();
  });
  const server = createServer(app);
  const port = await listen(server);
  const latencies: number[] = [];
  const bare: number[] = [];
  try {
    const ids: string[] = [];
    for (let index = 0; index < warmup + samples; index++) {
      const record = await manager.submit({
        toolName: 'refund_order',
        input: { orderId: `A-${index}`, amount: 40 },
        riskLevel: 'data_modification',
      });
      ids.push(record.request.id);
    }
    for (const [index, id] of ids.entries()) {
      const payload = {
        type: 'block_actions',
        user: { id: 'U0BENCH', team_id: 'T0BENCH' },
        team: { id: 'T0BENCH', domain: 'bench' },
        container: { type: 'message', channel_id: 'C0BENCH', message_ts: '1.000001' },
        trigger_id: '1.2.3',
        actions: [{ action_id: 'hitl_approve', block_id: 'hitl_actions', value: id, type: 'button' }],
      };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const { status, ms } = await post(port, body, signSlackRequest({ signingSecret: SECRET, rawBody: body }));
      if (status !== 200) throw new Error(`the actions router answered ${status}`);
      if ((await manager.get(id))?.status !== 'approved') throw new Error(`request ${id} was not approved when Slack got its 200`);
      const baseline = await post(port, body, {}, '/bare');
      if (index >= warmup) {
        latencies.push(ms);
        bare.push(baseline.ms);
      }
    }
    // Let the chat.update calls made after each answer land before closing the fake Slack.
    for (let waited = 0; updates < ids.length && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    server.closeAllConnections();
    server.close();
    await manager.close();
    fakeSlack.closeAllConnections();
    fakeSlack.close();
  }
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  return [
    {
      row: 'Slack click → decision recorded → 200 to Slack',
      measured: `p50 ${formatNumber(p50, 2)} ms, p99 ${formatNumber(p99, 2)} ms (${formatNumber(samples, 0)} signed block_actions on loopback)`,
      baseline: `bare Express POST on the same server p50 ${formatNumber(percentile(bare, 50), 2)} ms, p99 ${formatNumber(percentile(bare, 99), 2)} ms; Slack allows 3,000 ms`,
      result: `p99 ${formatNumber(p99, 2)} ms`,
      target: '≤ 50 ms p99',
      pass: p99 <= 50,
      figures: { samples, p50Ms: p50, p99Ms: p99, bareP50Ms: percentile(bare, 50), bareP99Ms: percentile(bare, 99), chatUpdates: updates },
    },
  ];
}
