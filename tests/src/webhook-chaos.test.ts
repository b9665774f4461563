// Webhook receiver chaos: 1,000 notifications through ten managers, each with its own webhook
// notifier and endpoint on one real node:http receiver, all on one manual clock. Every attempt the
// receiver sees gets an answer drawn from a seeded mix (2xx, 5xx, 408, 429 and 503 with Retry-After
// in seconds, as a date or as junk, 3xx, final 4xx, hangs, stalled and slow bodies, resets). Two
// endpoints answer 410 once, part way through; one endpoint has a queue of 6 and takes bursts of 20.
// The driver moves the clock from one timer or scheduled action to the next, and only when nothing
// but live hangs is in flight, so every attempt's clock time is exact and the schedule can be
// checked to the millisecond.
import { performance } from 'node:perf_hooks';
import { createManager, HitlError, type ApprovalRecord, type Logger, type Manager } from '@hitl/core';
import { createWebhookNotifier, generateWebhookSecret, toWebhookPayload, type WebhookNotifier } from '@hitl/notifier-webhook';
import { describe, expect, it } from 'vitest';
import { checkNotification, emptyTally, slotReleases, type DeliveryPolicy, type NotificationView } from './webhook-chaos-support-checks.js';
import {
  activeResources,
  classify,
  createSteppingClock,
  keyedUnit,
  seededRandom,
  settlesWithinTurn,
  startChaosReceiver,
  type Behaviour,
  type ChaosReceiver,
} from './webhook-chaos-support.js';

/** Seeds of the runs; CHAOS_SEED=<n> runs that one seed alone (to replay a failure). */
const SEEDS = process.env.CHAOS_SEED === undefined ? [20_261_124, 7, 1_000_003] : [Number(process.env.CHAOS_SEED)];
const NOTIFICATIONS = 1_000;
const SHARDS = 10;
const QUEUE_SHARD = 9;
const QUEUE_LIMIT = 6;
const BURST = 20;
/** Endpoints that answer 410 to the first attempt that reaches them this long after the start. */
const GONE_AFTER = new Map([
  [3, 20_000],
  [7, 45_000],
]);
const POLICY: DeliveryPolicy = { attempts: 5, baseDelayMs: 200, maxDelayMs: 2_000, timeoutMs: 1_000 };
const REQUEST_TIMEOUTS = [2_000, 4_000, 8_000, 15_000, 30_000];
const SUBMIT_WINDOW_MS = 60_000;
/** Not on a whole second, so HTTP-date Retry-After values round as they do in life. */
const START = Date.UTC(2026, 0, 1, 9, 0, 0, 137);
const CLOSE_DEADLINE_MS = 500;

type Fate = 'respond' | 'respond-twice' | 'expire' | 'late-respond';
type Decision = 'approve' | 'reject' | 'modify';

interface Plan {
  index: number;
  id: string;
  shard: number;
  submitAt: number;
  timeoutMs: number;
  expiresAt: number;
  fate: Fate;
  decision: Decision;
  respondAt: number;
  secondAt: number;
  lateAt: number;
  /** Submitted after the run to be cut by shutdown: the notifier closed first (as documented) or the manager. */
  closing: false | 'notifier-first' | 'manager-first';
}

interface Track {
  plan: Plan;
  record?: ApprovalRecord;
  expectedBody?: unknown;
  created: number;
  finals: Array<{ type: string; at: number; record: ApprovalRecord }>;
  failures: Array<{ at: number; message: string; code: string; notifier: string }>;
  responses: Array<{ kind: 'respond' | 'respond-again' | 'respond-late'; outcome: string; atOnce: boolean }>;
  waiter?: string;
}

interface Shard {
  index: number;
  secret: string;
  webhook: WebhookNotifier;
  manager: Manager;
  maxQueue: number;
  concurrency: number;
  warnings: string[];
  onTimeout: 'reject' | 'error';
}

const STATUS_OF: Record<Decision, string> = { approve: 'approved', reject: 'rejected', modify: 'modified' };

function pick<T>(items: readonly T[], unit: number): T {
  return items[Math.min(items.length - 1, Math.floor(unit * items.length))]!;
}

/** The receiver's mix, in percent per attempt (410 comes from the GONE_AFTER schedule instead). */
function drawBehaviour(kindUnit: number, detail: number): Behaviour {
  const table: Array<[number, () => Behaviour]> = [
    [31, () => ({ kind: 'answer', status: pick([200, 201, 202, 204], detail) })],
    [10, () => ({ kind: 'answer', status: pick([500, 502, 504], detail) })],
    [3, () => ({ kind: 'answer', status: 503 })],
    [4, () => ({ kind: 'answer', status: 503, retryAfter: { form: 'seconds', seconds: pick([0, 1, 2, 3_600], detail) } })],
    [2, () => ({ kind: 'answer', status: 503, retryAfter: { form: 'junk' } })],
    [5, () => ({ kind: 'answer', status: 429, retryAfter: { form: 'seconds', seconds: pick([0, 1, 3, 3_600], detail) } })],
    [5, () => ({ kind: 'answer', status: 429, retryAfter: { form: 'date', seconds: pick([-5, 1, 2, 4, 7_200], detail) } })],
    [4, () => ({ kind: 'answer', status: 408 })],
    [3, () => ({ kind: 'answer', status: pick([301, 302, 303, 307, 308], detail) })],
    [3, () => ({ kind: 'answer', status: pick([400, 401, 403, 404, 409, 413, 422], detail) })],
    [8, () => ({ kind: 'hang' })],
    [4, () => ({ kind: 'stall', status: pick([200, 503], detail) })],
    [9, () => ({ kind: 'reset' })],
    [3, () => ({ kind: 'reset-after-headers', status: 502 })],
    [6, () => ({ kind: 'slow', status: pick([200, 202, 500], detail), chunks: 2 + Math.floor(detail * 3) })],
  ];
  let threshold = kindUnit * 100;
  for (const [weight, make] of table) {
    if (threshold < weight) return make();
    threshold -= weight;
  }
  return table[0]![1]();
}

function buildPlans(seed: number): Plan[] {
  const random = seededRandom(seed);
  const plans: Plan[] = [];
  for (let index = 0; index < NOTIFICATIONS; index += 1) {
    const shard = index % SHARDS;
    const local = Math.floor(index / SHARDS);
    const submitAt = START + (shard === QUEUE_SHARD ? 5_000 + 10_000 * Math.floor(local / BURST) : Math.floor(random() * SUBMIT_WINDOW_MS));
    const timeoutMs = pick(REQUEST_TIMEOUTS, random());
    const expiresAt = submitAt + timeoutMs;
    const fateDraw = random();
    const fate: Fate = fateDraw < 0.45 ? 'respond' : fateDraw < 0.55 ? 'respond-twice' : fateDraw < 0.9 ? 'expire' : 'late-respond';
    const respondAt = submitAt + 1 + Math.floor(random() * (timeoutMs - 3));
    plans.push({
      index,
      id: `chaos-${String(index).padStart(4, '0')}`,
      shard,
      submitAt,
      timeoutMs,
      expiresAt,
      fate,
      decision: pick(['approve', 'reject', 'modify'] as const, random()),
      respondAt,
      secondAt: respondAt + 1 + Math.floor(random() * 2_000),
      lateAt: expiresAt + 1 + Math.floor(random() * 2_000),
      closing: false,
    });
  }
  return plans;
}

function collectingLogger(lines: string[]): Logger {
  return { warn: (message) => lines.push(message), error: (message) => lines.push(message) };
}

describe('webhook receiver chaos', () => {
  it.each(SEEDS)(
    '1,000 notifications through hangs, resets, 5xx, 429/503 + Retry-After, 3xx, 4xx and 410: one webhook-id each, at most once per schedule, the approval path untouched (seed %i)',
    async (seed) => {
      const wallStart = performance.now();
      const baseline = activeResources();
      const clock = createSteppingClock(START);
      const tracks = new Map<string, Track>();
      const violations: string[] = [];
      const managerErrors: Error[] = [];
      const goneAt = new Map<number, number | undefined>([...GONE_AFTER.keys()].map((shard) => [shard, undefined]));
      let strayEvents = 0;
      /** Shards whose manager is closed: the deliveries it started are aborted and reported to nobody. */
      const closedManagers = new Set<number>();

      const receiver: ChaosReceiver = await startChaosReceiver({
        now: clock.now,
        choose: ({ shard, requestId, number, at }) => {
          if (requestId.startsWith('closing-')) return { kind: 'hang' };
          const goneAfter = GONE_AFTER.get(shard);
          if (goneAfter !== undefined && goneAt.get(shard) === undefined && at >= START + goneAfter) {
            goneAt.set(shard, at);
            return { kind: 'answer', status: 410 };
          }
          return drawBehaviour(keyedUnit(seed, `${requestId}#${number}#kind`), keyedUnit(seed, `${requestId}#${number}#detail`));
        },
      });

      const shards: Shard[] = [];
      for (let index = 0; index < SHARDS; index += 1) {
        const secret = generateWebhookSecret();
        const warnings: string[] = [];
        const maxQueue = index === QUEUE_SHARD ? QUEUE_LIMIT : 1_000;
        const concurrency = index === QUEUE_SHARD ? 2 : 4;
        const webhook = createWebhookNotifier({
          url: receiver.url(index),
          name: `webhook-${index}`,
          secret,
          timeoutMs: POLICY.timeoutMs,
          retry: { attempts: POLICY.attempts, baseDelayMs: POLICY.baseDelayMs, maxDelayMs: POLICY.maxDelayMs },
          maxQueue,
          concurrency,
          random: seededRandom(seed + index + 1),
          now: clock.now,
          scheduler: clock,
          logger: collectingLogger(warnings),
        });
        const onTimeout = index % 2 === 0 ? 'reject' : 'error';
        const manager = createManager({
          notifiers: [webhook],
          now: clock.now,
          scheduler: clock,
          timeoutMs: 10_000,
          onTimeout,
          logger: collectingLogger([]),
          hooks: { onError: (error) => managerErrors.push(error) },
        });
        manager.subscribe((event) => {
          const track = tracks.get(event.record.request.id);
          if (!track || track.plan.shard !== index) {
            strayEvents += 1;
            return;
          }
          if (event.type === 'request-created') track.created += 1;
          else if (event.type === 'notify-failed') {
            track.failures.push({ at: clock.now(), message: event.error.message, code: event.error.code, notifier: event.notifier });
          } else track.finals.push({ type: event.type, at: clock.now(), record: event.record });
        });
        shards.push({ index, secret, webhook, manager, maxQueue, concurrency, warnings, onTimeout });
      }

      /** Nothing in flight but hangs whose timeout has not come and whose delivery is still live. */
      const isQuiet = () => {
        const now = clock.now();
        const liveHangs = new Array<number>(SHARDS).fill(0);
        for (const attempt of receiver.open) {
          const kind = classify(attempt.behaviour);
          const track = tracks.get(attempt.requestId);
          if (kind !== 'timeout' && kind !== 'timeout-delivered') return false;
          if (attempt.at + POLICY.timeoutMs <= now || !track || track.failures.length > 0 || closedManagers.has(attempt.shard))
            return false;
          liveHangs[attempt.shard] = (liveHangs[attempt.shard] ?? 0) + 1;
        }
        return shards.every((shard) => shard.webhook.stats().sending === liveHangs[shard.index]);
      };
      let quiesceTurns = 0;
      const quiesce = async (where: string) => {
        const started = performance.now();
        let calm = 0;
        while (calm < 5) {
          await new Promise((resolve) => setImmediate(resolve));
          quiesceTurns += 1;
          calm = isQuiet() ? calm + 1 : 0;
          if (performance.now() - started > 20_000) {
            const open = [...receiver.open].map((attempt) => `${attempt.requestId}#${attempt.number} ${attempt.behaviour.kind}`);
            const stats = shards.map((shard) => JSON.stringify(shard.webhook.stats()));
            throw new Error(`no quiet point ${where} at +${clock.now() - START} ms; open: ${open.join(', ')}; stats: ${stats.join(' ')}`);
          }
        }
      };

      const peaks = { pending: 0, sending: 0, queueShardPending: 0 };
      const sampleStats = () => {
        for (const shard of shards) {
          const stats = shard.webhook.stats();
          if (stats.pending > shard.maxQueue)
            violations.push(`shard ${shard.index}: ${stats.pending} held, over maxQueue ${shard.maxQueue}`);
          if (stats.sending > shard.concurrency)
            violations.push(`shard ${shard.index}: ${stats.sending} in flight, over concurrency ${shard.concurrency}`);
          if (stats.retrying > stats.pending) violations.push(`shard ${shard.index}: ${stats.retrying} retrying of ${stats.pending} held`);
          peaks.pending = Math.max(peaks.pending, stats.pending);
          peaks.sending = Math.max(peaks.sending, stats.sending);
          if (shard.index === QUEUE_SHARD) peaks.queueShardPending = Math.max(peaks.queueShardPending, stats.pending);
        }
      };

      let respondedWhileDelivering = 0;
      const submit = async (plan: Plan) => {
        const track: Track = { plan, created: 0, finals: [], failures: [], responses: [] };
        tracks.set(plan.id, track);
        const { manager } = shards[plan.shard]!;
        const submitted = manager.submit({
          id: plan.id,
          toolName: 'delete_user',
          description: `Delete user ${plan.index} </script><script>alert(1)</script> "quoted" \u2028`,
          input: { user_id: String(plan.index), cascade: plan.index % 3 === 0 },
          riskLevel: 'irreversible',
          confidence: (plan.index % 100) / 100,
          timeoutMs: plan.timeoutMs,
          metadata: { shard: plan.shard },
        });
        const atOnce = await settlesWithinTurn(submitted);
        let record: ApprovalRecord;
        try {
          record = await submitted;
        } catch (error) {
          violations.push(`${plan.id}: submit threw ${String(error)}`);
          return;
        }
        if (!atOnce) violations.push(`${plan.id}: submit did not return within the event loop turn`);
        if (record.status !== 'pending') violations.push(`${plan.id}: submitted as ${record.status}`);
        if (record.createdAt !== new Date(clock.now()).toISOString()) violations.push(`${plan.id}: createdAt ${record.createdAt}`);
        if (record.expiresAt !== new Date(plan.expiresAt).toISOString()) violations.push(`${plan.id}: expiresAt ${record.expiresAt}`);
        track.record = record;
        track.expectedBody = JSON.parse(JSON.stringify(toWebhookPayload(record)));
        if (!plan.closing) {
          manager.waitFor(plan.id).then(
            (response) => {
              track.waiter = `${response.decision}${response.automatic ? ' (automatic)' : ''}`;
            },
            (error: unknown) => {
              track.waiter = HitlError.is(error) ? `error ${error.code}` : `error ${String(error)}`;
            },
          );
        }
      };

      const respond = async (plan: Plan, kind: 'respond' | 'respond-again' | 'respond-late') => {
        const track = tracks.get(plan.id)!;
        if (kind === 'respond') {
          const attempts = receiver.byRequestId.get(plan.id) ?? [];
          const last = attempts.at(-1);
          const lastKind = last === undefined ? undefined : classify(last.behaviour);
          if (last && track.failures.length === 0 && lastKind !== 'delivered' && lastKind !== 'timeout-delivered')
            respondedWhileDelivering += 1;
        }
        const decision: Decision = kind === 'respond' ? plan.decision : plan.decision === 'approve' ? 'reject' : 'approve';
        const answered = shards[plan.shard]!.manager.respond(plan.id, {
          decision,
          feedback: `${kind} by the chaos reviewer`,
          respondedBy: `reviewer-${plan.shard}`,
          ...(decision === 'modify' ? { modified: { user_id: String(plan.index), dry_run: true } } : {}),
        });
        const atOnce = await settlesWithinTurn(answered);
        const outcome = await answered.then(
          (record) => record.status,
          (error: unknown) => (HitlError.is(error) ? `error ${error.code}` : `error ${String(error)}`),
        );
        track.responses.push({ kind, outcome, atOnce });
      };

      // The scheduled actions, in time order (submits first at the same instant).
      const plans = buildPlans(seed);
      type Action = { at: number; order: number; plan: Plan; run: () => Promise<void> };
      const actions: Action[] = [];
      for (const plan of plans) {
        actions.push({ at: plan.submitAt, order: 0, plan, run: () => submit(plan) });
        if (plan.fate === 'respond' || plan.fate === 'respond-twice')
          actions.push({ at: plan.respondAt, order: 1, plan, run: () => respond(plan, 'respond') });
        if (plan.fate === 'respond-twice') actions.push({ at: plan.secondAt, order: 2, plan, run: () => respond(plan, 'respond-again') });
        if (plan.fate === 'late-respond') actions.push({ at: plan.lateAt, order: 3, plan, run: () => respond(plan, 'respond-late') });
      }
      actions.sort((left, right) => left.at - right.at || left.order - right.order || left.plan.index - right.plan.index);

      let steps = 0;
      let closingAbandoned: number[] = [];
      let held: number[] = [];
      const statsBeforeClose: ReturnType<WebhookNotifier['stats']>[] = [];
      try {
        // Drive the clock: from one due timer or scheduled action to the next, at quiet points only.
        let next = 0;
        for (;;) {
          await quiesce('before a step');
          sampleStats();
          const actionAt = actions[next]?.at;
          const timerAt = clock.nextDue();
          if (actionAt === undefined && timerAt === undefined) break;
          const target = Math.min(actionAt ?? Number.POSITIVE_INFINITY, timerAt ?? Number.POSITIVE_INFINITY);
          clock.advance(Math.max(0, target - clock.now()));
          steps += 1;
          if (steps > 200_000) throw new Error('the clock never ran out of timers');
          if (actions[next] !== undefined && actions[next]!.at <= clock.now()) {
            await quiesce('before the scheduled actions');
            while (actions[next] !== undefined && actions[next]!.at <= clock.now()) {
              await actions[next]!.run();
              next += 1;
              sampleStats();
            }
          }
        }
        const simulatedMs = clock.now() - START;

        for (const shard of shards) statsBeforeClose.push(shard.webhook.stats());

        // Closing: two more requests per endpoint whose first attempt hangs. Even endpoints shut down
        // as documented: webhook.close() gives them CLOSE_DEADLINE_MS, then abandons them, and the
        // manager reports each one once. Odd endpoints close the manager first: its signal aborts
        // them at once, reported to nobody (a shutdown, not a failure); webhook.close() finds none.
        for (const shard of shards) {
          for (let index = 0; index < 2; index += 1) {
            const plan: Plan = {
              index: NOTIFICATIONS + shard.index * 2 + index,
              id: `closing-${shard.index}-${index}`,
              shard: shard.index,
              submitAt: clock.now(),
              timeoutMs: 60_000,
              expiresAt: clock.now() + 60_000,
              fate: 'expire',
              decision: 'approve',
              respondAt: 0,
              secondAt: 0,
              lateAt: 0,
              closing: shard.index % 2 === 0 ? 'notifier-first' : 'manager-first',
            };
            await submit(plan);
          }
        }
        await quiesce('after the closing submits');
        held = shards.map((shard) => shard.webhook.stats().pending);
        for (const shard of shards) {
          if (shard.index % 2 === 0) continue;
          closedManagers.add(shard.index);
          await shard.manager.close();
        }
        await quiesce('after the odd managers closed');
        for (const index of closedManagers) {
          const stats = shards[index]!.webhook.stats();
          if (stats.pending !== 0)
            violations.push(`shard ${index}: ${stats.pending} deliveries still held after manager.close() aborted them`);
        }
        const closing = shards.map((shard) => shard.webhook.close({ deadlineMs: CLOSE_DEADLINE_MS }));
        await quiesce('after close() began');
        clock.advance(CLOSE_DEADLINE_MS);
        closingAbandoned = (await Promise.all(closing)).map((result) => result.abandoned);
        await quiesce('after close() ended');
        for (const shard of shards) {
          const stats = shard.webhook.stats();
          if (stats.pending !== 0 || stats.sending !== 0 || stats.retrying !== 0)
            violations.push(`shard ${shard.index}: still holds ${JSON.stringify(stats)} after close()`);
          const late = await shard.webhook
            .notify(tracks.get(`closing-${shard.index}-0`)!.record!, { signal: new AbortController().signal })
            .then(
              () => 'sent',
              (error: unknown) => (HitlError.is(error) ? error.code : String(error)),
            );
          if (late !== 'notify_failed') violations.push(`shard ${shard.index}: notify after close() gave ${late}`);
        }
        for (const shard of shards) if (!closedManagers.has(shard.index)) await shard.manager.close();
        if (clock.pendingTimers() !== 0)
          violations.push(`${clock.pendingTimers()} timers still set after every notifier and manager closed`);

        // What the receiver saw, notification by notification.
        const tally = emptyTally();
        const slotFreedAt = slotReleases(receiver.attempts, POLICY);
        const allTracks = [...tracks.values()];
        for (const track of allTracks) {
          const { plan } = track;
          const shard = shards[plan.shard]!;
          const view: NotificationView = {
            id: plan.id,
            shard: plan.shard,
            url: receiver.url(plan.shard),
            submittedAt: plan.submitAt,
            expiresAt: plan.expiresAt,
            secret: shard.secret,
            foreignSecret: shards[(plan.shard + 1) % SHARDS]!.secret,
            expectedBody: track.expectedBody,
            failures: track.failures,
            closing: plan.closing,
          };
          checkNotification(
            view,
            receiver.byRequestId.get(plan.id) ?? [],
            { policy: POLICY, queueShard: QUEUE_SHARD, goneAt, slotFreedAt },
            violations,
            tally,
          );
          for (const failure of track.failures) {
            if (failure.notifier !== `webhook-${plan.shard}`)
              violations.push(`${plan.id}: notify-failed names notifier ${failure.notifier}`);
          }
        }
        const unknown = receiver.attempts.filter((attempt) => !tracks.has(attempt.requestId));
        if (unknown.length > 0)
          violations.push(`${unknown.length} requests at the receiver for no submitted request (first at ${unknown[0]!.path})`);

        // The approval path, request by request.
        let expired = 0;
        let decided = 0;
        let conflicts = 0;
        for (const track of allTracks) {
          const { plan } = track;
          const where = plan.id;
          if (track.record === undefined) continue; // submit failed: already a violation
          if (track.created !== 1) violations.push(`${where}: ${track.created} request-created events`);
          if (plan.closing) {
            if (track.finals.length !== 0)
              violations.push(`${where}: closing request got ${track.finals.map((final) => final.type).join(', ')}`);
            continue;
          }
          if (track.finals.length !== 1) {
            violations.push(`${where}: ${track.finals.length} final events (${track.finals.map((final) => final.type).join(', ')})`);
            continue;
          }
          const final = track.finals[0]!;
          const responded = plan.fate === 'respond' || plan.fate === 'respond-twice';
          if (responded) {
            decided += 1;
            if (final.type !== 'request-decided' || final.record.status !== STATUS_OF[plan.decision])
              violations.push(`${where}: ended ${final.type} ${final.record.status}, expected ${STATUS_OF[plan.decision]}`);
            if (final.at !== plan.respondAt) violations.push(`${where}: decided at ${final.at}, responded at ${plan.respondAt}`);
            if (track.waiter !== plan.decision) violations.push(`${where}: the waiter saw ${track.waiter}, expected ${plan.decision}`);
          } else {
            expired += 1;
            if (final.type !== 'request-expired') violations.push(`${where}: ended ${final.type}, expected request-expired`);
            if (final.at !== plan.expiresAt)
              violations.push(`${where}: expired at +${final.at - START}, due at +${plan.expiresAt - START}`);
            if (final.record.closedAt !== new Date(plan.expiresAt).toISOString())
              violations.push(`${where}: closedAt ${final.record.closedAt}`);
            const expected = shards[plan.shard]!.onTimeout === 'reject' ? 'reject (automatic)' : 'error timeout';
            if (track.waiter !== expected) violations.push(`${where}: the waiter saw ${track.waiter}, expected ${expected}`);
          }
          const expectedResponses =
            plan.fate === 'respond'
              ? [STATUS_OF[plan.decision]]
              : plan.fate === 'respond-twice'
                ? [STATUS_OF[plan.decision], 'error conflict']
                : plan.fate === 'late-respond'
                  ? ['error conflict']
                  : [];
          const outcomes = track.responses.map((response) => response.outcome);
          if (outcomes.join() !== expectedResponses.join())
            violations.push(`${where}: respond gave ${outcomes.join(', ')}, expected ${expectedResponses.join(', ')}`);
          conflicts += outcomes.filter((outcome) => outcome === 'error conflict').length;
          if (track.responses.some((response) => !response.atOnce)) violations.push(`${where}: a respond waited for the event loop`);
        }

        // Counters: what each notifier says against what the receiver and the manager saw.
        for (const shard of shards) {
          const mine = allTracks.filter((track) => track.plan.shard === shard.index && !track.plan.closing);
          const delivered = mine.filter((track) => track.failures.length === 0).length;
          const failures = mine.filter((track) => track.failures.length > 0);
          const dropped = failures.filter((track) => track.failures[0]!.message.includes('was dropped after')).length;
          const notSentAtOnce = failures.filter(
            (track) => track.failures[0]!.message.endsWith('is disabled') && (receiver.byRequestId.get(track.plan.id) ?? []).length === 0,
          ).length;
          const stats = statsBeforeClose[shard.index]!;
          const gone = GONE_AFTER.has(shard.index);
          if (stats.pending !== 0 || stats.sending !== 0 || stats.retrying !== 0)
            violations.push(`shard ${shard.index}: ${JSON.stringify(stats)} once the clock ran out`);
          if (stats.delivered !== delivered)
            violations.push(`shard ${shard.index}: stats.delivered ${stats.delivered}, receiver and manager say ${delivered}`);
          if (stats.dropped !== dropped)
            violations.push(`shard ${shard.index}: stats.dropped ${stats.dropped}, manager reported ${dropped}`);
          // A notify refused at once (endpoint already disabled) is not a held delivery, so stats.failed leaves it out.
          const queuedFailures = stats.failed + stats.dropped;
          if (queuedFailures > failures.length || queuedFailures < failures.length - notSentAtOnce) {
            violations.push(
              `shard ${shard.index}: stats.failed + dropped = ${queuedFailures}, manager reported ${failures.length} failures (${notSentAtOnce} refused at once)`,
            );
          }
          if (stats.disabled !== gone) violations.push(`shard ${shard.index}: stats.disabled ${stats.disabled}`);
          const goneWarnings = shard.warnings.filter((line) => line.includes('410 Gone')).length;
          const queueWarnings = shard.warnings.filter((line) => line.includes('queue full')).length;
          if (goneWarnings !== (gone ? 1 : 0)) violations.push(`shard ${shard.index}: ${goneWarnings} warnings about 410`);
          if (shard.index === QUEUE_SHARD ? queueWarnings < 1 : queueWarnings !== 0)
            violations.push(`shard ${shard.index}: ${queueWarnings} queue-full warnings`);
          const expectedAbandoned = closedManagers.has(shard.index) ? 0 : held[shard.index];
          if (closingAbandoned[shard.index] !== expectedAbandoned)
            violations.push(
              `shard ${shard.index}: close() abandoned ${closingAbandoned[shard.index]}, expected ${expectedAbandoned} (held ${held[shard.index]})`,
            );
        }
        const failureEvents = allTracks.reduce((sum, track) => sum + track.failures.length, 0);
        const reportedErrors = managerErrors.filter((error) => HitlError.is(error, 'notify_failed')).length;
        if (reportedErrors !== failureEvents || managerErrors.length !== reportedErrors) {
          violations.push(
            `onError got ${managerErrors.length} errors (${reportedErrors} notify_failed) for ${failureEvents} notify-failed events`,
          );
        }
        if (strayEvents !== 0) violations.push(`${strayEvents} events for requests of another manager or none`);

        await receiver.close();
        // No open handles: the receiver's sockets and the sender's pooled connections close.
        const leftover = () =>
          ['TCPServerWrap', 'TCPSocketWrap', 'Timeout'].filter((type) => (activeResources().get(type) ?? 0) > (baseline.get(type) ?? 0));
        const handlesStart = performance.now();
        while (leftover().length > 0 && performance.now() - handlesStart < 10_000) await new Promise((resolve) => setImmediate(resolve));
        if (leftover().length > 0)
          violations.push(
            `handles left open: ${leftover()
              .map((type) => `${type} ${activeResources().get(type)} > ${baseline.get(type) ?? 0}`)
              .join(', ')}`,
          );

        const wallMs = Math.round(performance.now() - wallStart);
        const submitted = allTracks.filter((track) => !track.plan.closing && track.record !== undefined).length;
        const summary = {
          seed,
          notifications: submitted,
          closingNotifications: allTracks.length - submitted,
          attempts: tally.attempts,
          delivered: tally.delivered,
          failures: tally.failures,
          byBehaviour: tally.byBehaviour,
          gapsChecked: tally.gaps,
          cutAtTimeout: tally.cutAtTimeout,
          maxAttemptsPerNotification: tally.maxAttemptsPerNotification,
          respondedWhileDelivering,
          decided,
          expired,
          conflicts,
          goneAt: Object.fromEntries([...goneAt].map(([shard, at]) => [shard, at === undefined ? null : at - START])),
          peaks,
          closeAbandoned: closingAbandoned.reduce((sum, value) => sum + value, 0),
          steps,
          quiesceTurns,
          simulatedMs,
          wallMs,
        };
        console.log(`webhook chaos: ${JSON.stringify(summary)}`);

        expect(violations.slice(0, 50)).toEqual([]);
        // The run did what it says: every notification went out, the whole mix was injected.
        expect(submitted).toBe(NOTIFICATIONS);
        expect(tally.attempts).toBeGreaterThan(NOTIFICATIONS);
        expect(Object.keys(tally.byBehaviour).sort()).toEqual(
          [
            '2xx',
            '3xx',
            '408',
            '410',
            '429 + Retry-After (date)',
            '429 + Retry-After (seconds)',
            '4xx',
            '503',
            '503 + Retry-After (junk)',
            '503 + Retry-After (seconds)',
            '5xx',
            'hang',
            'reset',
            'reset-after-headers 5xx',
            'slow 2xx',
            'slow 5xx',
            'stall 2xx',
            'stall 5xx',
          ].sort(),
        );
        expect([...goneAt.values()].every((at) => at !== undefined)).toBe(true);
        expect(tally.failures['dropped: queue full'] ?? 0).toBeGreaterThan(0);
        expect(tally.failures['retries stopped: request expires first'] ?? 0).toBeGreaterThan(0);
        expect(tally.failures['attempts used up'] ?? 0).toBeGreaterThan(0);
        expect(tally.gaps.retryAfterCapped).toBeGreaterThan(0);
        expect(tally.cutAtTimeout).toBeGreaterThan(100);
        expect(respondedWhileDelivering).toBeGreaterThan(20);
        expect(decided + expired).toBe(NOTIFICATIONS);
        expect(closingAbandoned.reduce((sum, value) => sum + value, 0)).toBeGreaterThan(0);
        expect(peaks.queueShardPending).toBe(QUEUE_LIMIT);
      } finally {
        for (const shard of shards) await shard.webhook.close({ deadlineMs: 0 });
        for (const shard of shards) await shard.manager.close();
        await receiver.close().catch(() => undefined);
      }
    },
    170_000,
  );
});
