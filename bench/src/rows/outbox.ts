// The outbox on PostgreSQL: notifications per second three instances deliver from a backlog to a
// local receiver, the same with the submits that make them (against the in-process path), the
// latency the outbox write adds to `submit`, and decision on B → `request.decided` at the receiver.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createManager, type ApprovalStore, type Manager, type Notifier } from '@hitl/core';
import { createWebhookNotifier, type WebhookEvent } from '@hitl/notifier-webhook';
import { createPostgresStore, type PostgresStore } from '@hitl/store-postgres';
import pg from 'pg';
import { formatNumber, percentile, type BenchContext, type Row } from '../harness.js';
import { startWorkerServer } from '../workers.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const policies = [{ name: 'all', toolPattern: '*', requireExplicit: true }];

/** A receiver in this process: counts posts and tells waiters when an event of a request arrives. */
async function startReceiver() {
  const arrivals = new Map<string, (at: bigint) => void>();
  let received = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const at = process.hrtime.bigint();
      received++;
      response.writeHead(204).end();
      // Events carry { type, data }; the in-process path (no outbox) sends the bare payload.
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<WebhookEvent>;
      if (event.data === undefined) return;
      const key = `${event.type}:${event.data.id}`;
      arrivals.get(key)?.(at);
      arrivals.delete(key);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hitl`,
    received: () => received,
    arrival: (key: string) => new Promise<bigint>((resolve) => arrivals.set(key, resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Instance {
  pool: pg.Pool;
  store: PostgresStore;
  manager: Manager;
}

function startInstance(schema: string, table: string, notifiers: Notifier[], { outbox = true } = {}): Instance {
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: 'hitl-bench-outbox', max: 8 });
  pool.on('error', () => undefined);
  const store = createPostgresStore({ pool, schema, table, logger: quiet, sweepIntervalMs: Infinity });
  // The comparison: the same store seen without its outbox (the in-process path of earlier releases).
  const seen: ApprovalStore = outbox
    ? store
    : {
        create: (record) => store.create(record),
        get: (id) => store.get(id),
        list: (query) => store.list(query),
        decide: (id, status, patch) => store.decide(id, status, patch),
        subscribe: (listener) => store.subscribe(listener),
      };
  const manager = createManager({ store: seen, logger: quiet, timeoutMs: Infinity, policies, notifiers });
  return { pool, store, manager };
}

async function stopInstance(instance: Instance): Promise<void> {
  await instance.manager.close();
  await instance.store.close();
  await instance.pool.end();
}

const webhook = (url: string, events: WebhookEvent['type'][]) =>
  createWebhookNotifier({ url, logger: quiet, concurrency: 16, maxQueue: 100_000, events });

const submit = (manager: Manager, id: string) =>
  manager.submit({ id, toolName: 'delete_user', input: { user_id: id }, riskLevel: 'irreversible', confidence: 0.8 });

/** Runs `count` tasks, `lanes` at a time; resolves with tasks per second. */
async function lanes(count: number, width: number, task: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const began = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
  return count / (Number(process.hrtime.bigint() - began) / 1e9);
}

export async function outboxDelivery(context: BenchContext): Promise<Row[]> {
  const schema = `hitl_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const receiver = await startReceiver();
  const started: Instance[] = [];
  const start = (table: string, notifiers: Notifier[], options?: { outbox?: boolean }) => {
    const instance = startInstance(schema, table, notifiers, options);
    started.push(instance);
    return instance;
  };
  /** Stops instances a phase is done with (each holds connections). */
  const stop = async (instances: Instance[]) => {
    for (const instance of instances) started.splice(started.indexOf(instance), 1);
    await Promise.all(instances.map(stopInstance));
  };
  try {
    // 1a. Delivery: a backlog of due notification jobs (what a receiver outage or a restart leaves
    // behind) delivered by three instances to a receiver in its own thread.
    const backlog = context.smoke ? 600 : 10_000;
    const writer = start('backlog', []);
    await writer.store.migrate();
    await lanes(backlog, 32, (index) => submit(writer.manager, `b-${index}`));
    // Closed first: a manager without the notifier a job names would claim it and put it off.
    await stop([writer]);
    await admin.query(
      `INSERT INTO "${schema}"."backlog_outbox" (id, kind, request_id, topic, target, state, attempts, max_attempts, due_at)
       SELECT id || ':request.created:webhook', 'notify', id, 'request.created', 'webhook', 'pending', 0, 8, now() FROM "${schema}"."backlog"`,
    );
    const threadReceiver = await startWorkerServer('receiver.js', {});
    const threadUrl = `http://127.0.0.1:${threadReceiver.port}/hitl`;
    const counted = async () => (await threadReceiver.request<{ received: number }>('count')).received;
    const drainBegan = process.hrtime.bigint();
    const drainers = [0, 1, 2].map(() => start('backlog', [webhook(threadUrl, ['request.created'])]));
    for (let turn = 0; turn < 60_000 && (await counted()) < backlog; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
    const deliveredPerSecond = backlog / (Number(process.hrtime.bigint() - drainBegan) / 1e9);
    await stop(drainers);
    await threadReceiver.stop();

    // 1b. Submitted and delivered: submits spread over three instances, each notification through the outbox.
    const total = context.smoke ? 300 : 6_000;
    const three = ['a', 'b', 'c'].map(() => start('throughput', [webhook(receiver.url, ['request.created'])]));
    await Promise.all(three.map((instance) => instance.store.migrate()));
    const before = receiver.received();
    const began = process.hrtime.bigint();
    await lanes(total, 48, (index) => submit((three[index % 3] as Instance).manager, `t-${index}`));
    const outboxTable = `"${schema}"."throughput_outbox"`;
    for (let turn = 0; turn < 60_000; turn++) {
      const { rows } = await admin.query<{ open: number }>(`SELECT count(*)::int AS open FROM ${outboxTable} WHERE state <> 'done'`);
      if (receiver.received() - before >= total && rows[0]?.open === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const notificationsPerSecond = total / (Number(process.hrtime.bigint() - began) / 1e9);
    // The peer: the same submits and webhook deliveries through the in-process path (no outbox).
    const plainThree = ['a', 'b', 'c'].map(() => start('baseline', [webhook(receiver.url, ['request.created'])], { outbox: false }));
    await Promise.all(plainThree.map((instance) => instance.store.migrate()));
    const plainBefore = receiver.received();
    const plainBegan = process.hrtime.bigint();
    await lanes(total, 48, (index) => submit((plainThree[index % 3] as Instance).manager, `q-${index}`));
    for (let turn = 0; turn < 60_000 && receiver.received() - plainBefore < total; turn++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    const plainPerSecond = total / (Number(process.hrtime.bigint() - plainBegan) / 1e9);
    await stop([...three, ...plainThree]);
    // The same submits with no notifier at all: what the submits alone cost on this machine.
    const bareThree = ['a', 'b', 'c'].map(() => start('bare', []));
    await Promise.all(bareThree.map((instance) => instance.store.migrate()));
    const bareBegan = process.hrtime.bigint();
    await lanes(total, 48, (index) => submit((bareThree[index % 3] as Instance).manager, `s-${index}`));
    const barePerSecond = total / (Number(process.hrtime.bigint() - bareBegan) / 1e9);
    await stop(bareThree);

    // 2. The outbox write on submit: the same notifier, with and without the store's outbox.
    const withOutbox = start('latency_outbox', [webhook(receiver.url, ['request.created'])]);
    const withoutOutbox = start('latency_plain', [webhook(receiver.url, ['request.created'])], { outbox: false });
    await Promise.all([withOutbox.store.migrate(), withoutOutbox.store.migrate()]);
    const samples = context.smoke ? 40 : 1_000;
    const timed = { outbox: [] as number[], plain: [] as number[] };
    for (let index = 0; index < samples + 50; index++) {
      for (const [name, instance] of [
        ['outbox', withOutbox],
        ['plain', withoutOutbox],
      ] as const) {
        const began = process.hrtime.bigint();
        await submit(instance.manager, `l-${name}-${index}`);
        if (index >= 50) timed[name].push(Number(process.hrtime.bigint() - began) / 1e6);
      }
    }

    // 3. Decision on B → request.decided at the receiver; the LISTEN/NOTIFY wake-up of A as the peer.
    const decidedA = start('decided', [webhook(receiver.url, ['request.decided'])]);
    const decidedB = start('decided', [webhook(receiver.url, ['request.decided'])]);
    await Promise.all([decidedA.store.migrate(), decidedB.store.migrate()]);
    const rounds = context.smoke ? 20 : 300;
    const toWebhook: number[] = [];
    const toWaiter: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const id = `d-${round}`;
      await submit(decidedA.manager, id);
      await decidedB.manager.get(id);
      const arrived = receiver.arrival(`request.decided:${id}`);
      const woke = decidedA.manager.waitFor(id).then(() => process.hrtime.bigint());
      const began = process.hrtime.bigint();
      await decidedB.manager.respond(id, { decision: 'approve', respondedBy: 'bench' });
      const [webhookAt, waiterAt] = await Promise.all([arrived, woke]);
      if (round >= rounds / 10) {
        toWebhook.push(Number(webhookAt - began) / 1e6);
        toWaiter.push(Number(waiterAt - began) / 1e6);
      }
    }

    const outboxP50 = percentile(timed.outbox, 50);
    const plainP50 = percentile(timed.plain, 50);
    const webhookP50 = percentile(toWebhook, 50);
    const webhookP99 = percentile(toWebhook, 99);
    return [
      {
        row: 'outbox delivery over three instances (PostgreSQL)',
        measured: `${formatNumber(deliveredPerSecond)} notifications/s: a backlog of ${formatNumber(backlog, 0)} due jobs delivered to a receiver in its own thread`,
        baseline: 'the target',
        result: `${formatNumber(deliveredPerSecond)}/s`,
        target: '≥ 1,000 notifications/s',
        pass: deliveredPerSecond >= 1_000,
        figures: { deliveredPerSecond, backlog },
      },
      {
        row: 'outbox notifications submitted and delivered, three instances (PostgreSQL)',
        measured: `${formatNumber(notificationsPerSecond)} notifications/s submitted and delivered (${formatNumber(total, 0)}, 48 agents)`,
        baseline: `the in-process path (no outbox): ${formatNumber(plainPerSecond)}/s; the submits alone, no notifier: ${formatNumber(barePerSecond)}/s`,
        result: `${formatNumber((notificationsPerSecond / plainPerSecond) * 100, 0)}% of the in-process path`,
        target: 'report',
        figures: { notificationsPerSecond, inProcessPerSecond: plainPerSecond, submitsAlonePerSecond: barePerSecond, notifications: total },
      },
      {
        row: 'outbox write on submit (PostgreSQL)',
        measured: `submit with a webhook notifier: p50 ${formatNumber(outboxP50, 2)} ms, p99 ${formatNumber(percentile(timed.outbox, 99), 2)} ms`,
        baseline: `without the outbox (in-process notify): p50 ${formatNumber(plainP50, 2)} ms, p99 ${formatNumber(percentile(timed.plain, 99), 2)} ms`,
        result: `${outboxP50 - plainP50 >= 0 ? '+' : ''}${formatNumber(outboxP50 - plainP50, 2)} ms p50`,
        target: 'report',
        figures: {
          outboxP50Ms: outboxP50,
          outboxP99Ms: percentile(timed.outbox, 99),
          plainP50Ms: plainP50,
          plainP99Ms: percentile(timed.plain, 99),
        },
      },
      {
        row: 'decision on B → request.decided webhook (PostgreSQL)',
        measured: `p50 ${formatNumber(webhookP50, 2)} ms, p99 ${formatNumber(webhookP99, 2)} ms (${toWebhook.length} decisions)`,
        baseline: `waitFor on A woken (LISTEN/NOTIFY): p50 ${formatNumber(percentile(toWaiter, 50), 2)} ms, p99 ${formatNumber(percentile(toWaiter, 99), 2)} ms`,
        result: `p50 ${formatNumber(webhookP50, 2)} ms, p99 ${formatNumber(webhookP99, 2)} ms`,
        target: 'report',
        figures: { p50Ms: webhookP50, p99Ms: webhookP99, waiterP50Ms: percentile(toWaiter, 50), waiterP99Ms: percentile(toWaiter, 99) },
      },
    ];
  } finally {
    await Promise.all(started.map(stopInstance));
    await receiver.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}
