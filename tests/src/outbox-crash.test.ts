// The outbox crash test: three manager processes on one database, a webhook receiver on 127.0.0.1,
// and a driver that submits, decides and cancels requests while SIGKILLing a random process at a
// random moment of its work and starting it again. Afterwards every transition reached the
// receiver and ran its hook at least once, no job is left claimed by a dead process, and no request
// is pending past its expiry. HITL_CRASH_KILLS sets the number of kills (default 40; see RELIABILITY.md).
import { generateWebhookSecret } from '@hitl/notifier-webhook';
import { usePostgresSchema } from '@hitl/test-kit/postgres';
import { waitUntil } from '@hitl/test-kit';
import { describe, expect, it } from 'vitest';
import { startCrashInstance, startCrashReceiver, type CrashInstance } from './outbox-crash-support.js';
import { seededRandom } from './webhook-chaos-support.js';

const database = usePostgresSchema('hitl_crash');
const kills = Number(process.env.HITL_CRASH_KILLS ?? 40);
const seed = Number(process.env.HITL_CRASH_SEED ?? Date.now() % 1_000_000);

const eventOfStatus: Record<string, string> = {
  approved: 'request.decided',
  rejected: 'request.decided',
  expired: 'request.expired',
  cancelled: 'request.cancelled',
};
const hookOfStatus: Record<string, string> = { approved: 'onApprove', rejected: 'onReject', expired: 'onTimeout', cancelled: 'onCancel' };

describe(`the outbox survives SIGKILL (${kills} kills, seed ${seed})`, () => {
  it(
    'delivers every event and runs every hook at least once, leaves no claim behind and no request pending past its expiry',
    async () => {
      const { schema, admin } = database;
      const table = 'requests';
      const random = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await admin.query(`CREATE TABLE "${schema}".hook_runs (request_id text NOT NULL, hook text NOT NULL, instance text NOT NULL)`);
      const secret = generateWebhookSecret();
      const receiver = await startCrashReceiver(secret);
      database.cleanups.push(() => receiver.close());
      const env = { schema, table, receiver: receiver.url, secret };

      // The first instance migrates alone; then the other two join.
      const instances: CrashInstance[] = [await startCrashInstance('i0', env)];
      instances.push(...(await Promise.all([startCrashInstance('i1', env), startCrashInstance('i2', env)])));
      database.cleanups.push(async () => {
        for (const instance of instances) await instance.kill();
      });

      let counter = 0;
      const submitted: string[] = [];
      const operation = (instance: CrashInstance) => {
        const roll = random();
        if (roll < 0.5 || submitted.length === 0) {
          const id = `crash-${seed}-${++counter}`;
          submitted.push(id);
          return instance.call({ op: 'submit', id });
        }
        // Decide a recent request: an old one has expired (1.5 s), and its decision would only conflict.
        const id = pick(submitted.slice(-6));
        if (roll < 0.85) return instance.call({ op: 'respond', id, decision: random() < 0.5 ? 'approve' : 'reject' });
        return instance.call({ op: 'cancel', id });
      };

      for (let kill = 0; kill < kills; kill++) {
        // Work on every instance; the victim is killed after a random number of its replies.
        const victimIndex = Math.floor(random() * instances.length);
        const victim = instances[victimIndex] as CrashInstance;
        const others = instances.filter((instance) => instance !== victim).map((instance) => operation(instance));
        const mine = Array.from({ length: 1 + Math.floor(random() * 4) }, () => operation(victim));
        const awaited = Math.floor(random() * (mine.length + 1));
        await Promise.all(mine.slice(0, awaited));
        await victim.kill();
        await Promise.all([...mine, ...others]);
        instances[victimIndex] = await startCrashInstance(`${victim.name.split('.')[0]}.${kill + 1}`, env);
      }

      const outbox = `"${schema}"."${table}_outbox"`;
      const requests = `"${schema}"."${table}"`;
      // Everything settles: requests expire, every job is done.
      await waitUntil(
        async () => {
          const { rows } = await admin.query(
            `SELECT (SELECT count(*) FROM ${requests} WHERE status = 'pending')::int AS pending,
                    (SELECT count(*) FROM ${outbox} WHERE state <> 'done')::int AS open`,
          );
          return rows[0].pending === 0 && rows[0].open === 0;
        },
        { timeoutMs: 90_000, intervalMs: 100, what: 'every request final and every outbox job done' },
      );

      const { rows: records } = await admin.query<{ id: string; status: string }>(`SELECT id, status FROM ${requests}`);
      expect(records.length).toBeGreaterThan(kills / 2);
      const { rows: hookRows } = await admin.query<{ request_id: string; hook: string }>(
        `SELECT request_id, hook FROM "${schema}".hook_runs`,
      );
      const hooksRun = new Set(hookRows.map((row) => `${row.hook}:${row.request_id}`));
      const missingEvents: string[] = [];
      const missingHooks: string[] = [];
      for (const record of records) {
        for (const key of [`request.created:${record.id}`, `${eventOfStatus[record.status]}:${record.id}`]) {
          if (!receiver.seen.has(key)) missingEvents.push(key);
        }
        const hook = `${hookOfStatus[record.status]}:${record.id}`;
        if (!hooksRun.has(hook)) missingHooks.push(hook);
      }
      expect(missingEvents).toEqual([]);
      expect(missingHooks).toEqual([]);
      expect(receiver.refused).toBe(0);
      // One webhook-id per event: duplicates (at-least-once) share their id.
      expect(receiver.ids.size).toBe(receiver.seen.size);

      const { rows: stale } = await admin.query(
        `SELECT count(*)::int AS count FROM ${outbox} WHERE state IN ('claimed', 'pending', 'dead')`,
      );
      expect(stale[0].count).toBe(0);
      const { rows: overdue } = await admin.query(
        `SELECT count(*)::int AS count FROM ${requests} WHERE status = 'pending' AND expires_at < now()`,
      );
      expect(overdue[0].count).toBe(0);
      const { rows: takeovers } = await admin.query(`SELECT count(*)::int AS count FROM ${outbox} WHERE attempts > 1`);
      console.info(
        `outbox crash test: ${kills} kills, ${records.length} requests, ${receiver.seen.size} events, ${receiver.posts} posts, ${takeovers[0].count} jobs retried or taken over after a crash`,
      );
      const statuses = new Set(records.map((record) => record.status));
      for (const status of ['approved', 'expired']) expect(statuses).toContain(status);
    },
    Math.max(600_000, kills * 10_000),
  );
});
