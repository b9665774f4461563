// The webhook chaos run's checks: each notification's attempts against the delivery policy (slots, backoff, Retry-After, 410, expiry).
// Over 300 lines because checkNotification is one walk over a notification's attempts, every rule checked where it applies.
import { isDeepStrictEqual } from 'node:util';
import { HitlError } from '@hitl/core';
import { verifyWebhook } from '@hitl/notifier-webhook';
import { behaviourName, classify, type Behaviour, type ChaosAttempt } from './webhook-chaos-support.js';

/** The notifier's settings the schedule is checked against. */
export interface DeliveryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

/** One notification: what was submitted and what the manager reported about its delivery. */
export interface NotificationView {
  id: string;
  shard: number;
  /** The notifier's URL, as it must appear in failure messages. */
  url: string;
  submittedAt: number;
  expiresAt: number;
  secret: string;
  /** Another shard's secret: it must not verify these requests. */
  foreignSecret: string;
  /** The JSON the body must hold. */
  expectedBody: unknown;
  /** `notify-failed` events for this request: the clock when each came and its message. */
  failures: Array<{ at: number; message: string; code: string }>;
  /** Submitted in the closing phase: abandoned by the notifier's `close()`, or aborted by the manager's. */
  closing: false | 'notifier-first' | 'manager-first';
}

export interface ChaosContext {
  policy: DeliveryPolicy;
  /** The shard with the small queue, where drops are expected. */
  queueShard: number;
  /** Shards whose endpoint answered 410: the clock when it did (undefined if it never did). */
  goneAt: ReadonlyMap<number, number | undefined>;
  /**
   * Whether an attempt to this shard ended at this instant, freeing a slot: a retry that falls due
   * while `concurrency` attempts are in flight waits for one, so it may come later than its wait.
   */
  slotFreedAt(shard: number, at: number): boolean;
}

/** The instants at which each shard's attempts ended (answered, cut at the timeout, reset or abandoned). */
export function slotReleases(attempts: readonly ChaosAttempt[], policy: DeliveryPolicy): (shard: number, at: number) => boolean {
  const ends = new Map<number, Set<number>>();
  for (const attempt of attempts) {
    const set = ends.get(attempt.shard) ?? new Set<number>();
    set.add(attempt.closedAt ?? endOf(attempt, policy));
    ends.set(attempt.shard, set);
  }
  return (shard, at) => ends.get(shard)?.has(at) ?? false;
}

export interface ScheduleTally {
  attempts: number;
  byBehaviour: Record<string, number>;
  delivered: number;
  failures: Record<string, number>;
  gaps: { retryAfter: number; retryAfterCapped: number; backoff: number; afterTimeout: number; waitedForSlot: number };
  /** Hangs and stalls the attempt timeout cut, at exactly `timeoutMs`. */
  cutAtTimeout: number;
  maxAttemptsPerNotification: number;
}

export function emptyTally(): ScheduleTally {
  return {
    attempts: 0,
    byBehaviour: {},
    delivered: 0,
    failures: {},
    gaps: { retryAfter: 0, retryAfterCapped: 0, backoff: 0, afterTimeout: 0, waitedForSlot: 0 },
    cutAtTimeout: 0,
    maxAttemptsPerNotification: 0,
  };
}

const count = (record: Record<string, number>, key: string) => {
  record[key] = (record[key] ?? 0) + 1;
};

/** The wait a Retry-After header asks for, read as the notifier's documentation says. */
function retryAfterMs(header: string | undefined, answeredAt: number): number | undefined {
  if (header === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(header)) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - answeredAt);
}

/** The backoff ceiling after the n-th failed attempt. */
function ceiling(policy: DeliveryPolicy, failedAttempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
}

/** When the sender learnt the attempt's outcome: at once, or at the timeout for an attempt it had to cut. */
function endOf(attempt: ChaosAttempt, policy: DeliveryPolicy): number {
  const kind = classify(attempt.behaviour);
  return kind === 'timeout' || kind === 'timeout-delivered' ? attempt.at + policy.timeoutMs : attempt.at;
}

/** How the failure message must describe the last answer. */
function reasonPattern(behaviour: Behaviour, policy: DeliveryPolicy): RegExp {
  switch (behaviour.kind) {
    case 'answer':
    case 'slow':
    case 'stall':
    case 'reset-after-headers':
      return new RegExp(`^answered ${behaviour.status}\\b`);
    case 'hang':
      return new RegExp(`^got no answer within ${policy.timeoutMs} ms \\(attempt aborted\\)`);
    case 'reset':
      return /^could not be sent: /;
  }
}

const FAILED_AFTER = /failed after (\d+) attempts?: (.*)$/s;
const DROPPED = /was dropped after (\d+) attempts?: the queue is full \(maxQueue \d+\)$/;
const DISABLED = /was not sent: the endpoint answered 410 Gone earlier and is disabled$/;
const ABANDONED = /was abandoned after (\d+) attempts?: the notifier closed first$/;

/**
 * Checks one notification's attempts against the delivery policy and its reported outcome;
 * appends what is wrong to `violations` and counts what was seen in `tally`.
 */
export function checkNotification(
  view: NotificationView,
  attempts: readonly ChaosAttempt[],
  context: ChaosContext,
  violations: string[],
  tally: ScheduleTally,
): void {
  const { policy } = context;
  const problem = (message: string) => violations.push(`${view.id} (shard ${view.shard}): ${message}`);
  tally.attempts += attempts.length;
  tally.maxAttemptsPerNotification = Math.max(tally.maxAttemptsPerNotification, attempts.length);

  // Every attempt: one webhook-id, the same body, a valid signature made for its own moment.
  const webhookIds = new Set(attempts.map((attempt) => attempt.webhookId));
  if (webhookIds.size > 1) problem(`${webhookIds.size} webhook-ids: ${[...webhookIds].join(', ')}`);
  if (attempts.length > policy.attempts) problem(`${attempts.length} attempts, more than retry.attempts = ${policy.attempts}`);
  for (const attempt of attempts) {
    count(tally.byBehaviour, behaviourName(attempt.behaviour));
    const where = `attempt ${attempt.number}`;
    if (attempt.shard !== view.shard) problem(`${where} arrived at ${attempt.path}, not at shard ${view.shard}'s URL`);
    if (!/^msg_[0-9a-f]{32}$/.test(attempt.webhookId)) problem(`${where} has webhook-id ${JSON.stringify(attempt.webhookId)}`);
    if (attempt.headers['content-type'] !== 'application/json') problem(`${where} has content-type ${attempt.headers['content-type']}`);
    if (!attempt.body.equals(attempts[0]!.body)) problem(`${where} has another body than attempt 1`);
    if (attempt.headers['webhook-timestamp'] !== String(Math.floor(attempt.at / 1000))) {
      problem(`${where} at ${attempt.at} has webhook-timestamp ${attempt.headers['webhook-timestamp']}, not the moment it was sent`);
    }
    try {
      const payload = verifyWebhook({ secret: view.secret, headers: attempt.headers, rawBody: attempt.body, now: () => attempt.at });
      if (!isDeepStrictEqual(payload, view.expectedBody)) problem(`${where} carries another payload than the record's`);
    } catch (error) {
      problem(`${where} does not verify: ${error instanceof Error ? error.message : String(error)}`);
    }
    try {
      verifyWebhook({ secret: view.foreignSecret, headers: attempt.headers, rawBody: attempt.body, now: () => attempt.at });
      problem(`${where} verifies with another endpoint's secret`);
    } catch (error) {
      if (!HitlError.is(error, 'forbidden')) problem(`${where} with a foreign secret: ${String(error)}`);
    }
    if (attempt.at < view.submittedAt) problem(`${where} at ${attempt.at} came before the request was submitted at ${view.submittedAt}`);
    if (attempt.at >= view.expiresAt) problem(`${where} at ${attempt.at} came after the request expired at ${view.expiresAt}`);
    const kind = classify(attempt.behaviour);
    if (kind === 'timeout' || kind === 'timeout-delivered') {
      if (attempt.closedAt === undefined) problem(`${where} (${attempt.behaviour.kind}) was never cut by the sender`);
      else if (attempt.closedAt > attempt.at + policy.timeoutMs)
        problem(`${where} (${attempt.behaviour.kind}) stayed open past the attempt timeout`);
      else if (attempt.closedAt === attempt.at + policy.timeoutMs) tally.cutAtTimeout += 1;
    }
  }

  // The schedule: a retry only after a retryable answer, after exactly the wait the policy asks for.
  for (let index = 1; index < attempts.length; index += 1) {
    const previous = attempts[index - 1]!;
    const current = attempts[index]!;
    const kind = classify(previous.behaviour);
    if (kind !== 'retry' && kind !== 'timeout') {
      problem(
        `attempt ${current.number} came after attempt ${previous.number} answered ${behaviourName(previous.behaviour)} (${kind}): sent again after a final answer`,
      );
      continue;
    }
    const gap = current.at - endOf(previous, policy);
    if (kind === 'timeout') {
      tally.gaps.afterTimeout += 1;
      if (previous.closedAt !== previous.at + policy.timeoutMs) {
        problem(
          `attempt ${previous.number} (${previous.behaviour.kind}) at ${previous.at} was cut at ${previous.closedAt}, not at the ${policy.timeoutMs} ms timeout`,
        );
      }
    }
    const asked = previous.behaviour.kind === 'answer' ? retryAfterMs(previous.retryAfterHeader, previous.at) : undefined;
    if (asked !== undefined) {
      tally.gaps.retryAfter += 1;
      if (asked > policy.maxDelayMs) tally.gaps.retryAfterCapped += 1;
      const expected = Math.min(asked, policy.maxDelayMs);
      if (gap < expected) {
        problem(
          `attempt ${current.number} came ${gap} ms after a Retry-After of ${JSON.stringify(previous.retryAfterHeader)}: before the ${expected} ms asked (capped at ${policy.maxDelayMs})`,
        );
      } else if (gap > expected) {
        if (context.slotFreedAt(view.shard, current.at)) tally.gaps.waitedForSlot += 1;
        else
          problem(
            `attempt ${current.number} came ${gap} ms after a Retry-After of ${JSON.stringify(previous.retryAfterHeader)}; expected ${expected} ms (capped at ${policy.maxDelayMs}), and no slot was freed then`,
          );
      }
    } else {
      tally.gaps.backoff += 1;
      const limit = ceiling(policy, previous.number);
      if (gap < 0) problem(`attempt ${current.number} came ${gap} ms after attempt ${previous.number} ended: before it ended`);
      else if (gap >= limit) {
        if (context.slotFreedAt(view.shard, current.at)) tally.gaps.waitedForSlot += 1;
        else
          problem(
            `attempt ${current.number} came ${gap} ms after attempt ${previous.number} ended; the backoff is in [0, ${limit}) and no slot was freed then`,
          );
      }
    }
  }

  // The outcome: delivered, or exactly one notify-failed that matches what the receiver saw.
  if (view.failures.length > 1)
    problem(`${view.failures.length} notify-failed events: ${view.failures.map((failure) => failure.message).join(' | ')}`);
  const last = attempts.at(-1);
  const failure = view.failures[0];
  if (failure === undefined && view.closing === 'manager-first') {
    // manager.close() aborts the deliveries it started and reports none of them: a shutdown, not a failure.
    if (attempts.length === 0 || attempts.some((attempt) => attempt.closedAt === undefined))
      problem('manager.close() did not cut the hanging attempt');
    count(tally.failures, 'aborted by manager.close() (not reported)');
    return;
  }
  if (failure === undefined) {
    const kind = last === undefined ? undefined : classify(last.behaviour);
    if (last === undefined || (kind !== 'delivered' && kind !== 'timeout-delivered')) {
      problem(`neither delivered nor reported: ${attempts.length} attempts, the last ${last ? behaviourName(last.behaviour) : 'none'}`);
      return;
    }
    if (kind === 'timeout-delivered' && last.closedAt !== last.at + policy.timeoutMs)
      problem('a stalled 2xx body was not cut at the attempt timeout');
    tally.delivered += 1;
    return;
  }
  if (failure.code !== 'notify_failed') problem(`notify-failed carries code ${failure.code}`);
  if (!failure.message.includes(` to ${view.url} `)) problem(`the failure does not name the URL: ${failure.message}`);
  for (const attempt of attempts) {
    if (attempt.at > failure.at) problem(`attempt ${attempt.number} at ${attempt.at} came after the failure was reported at ${failure.at}`);
  }

  // A delivery held back (waiting for a free slot) until its request expired ends without sending.
  if (/expired/i.test(failure.message) && failure.at >= view.expiresAt && !failure.message.endsWith('expires before the next attempt')) {
    count(tally.failures, 'request expired before the attempt could be sent');
    return;
  }
  const failedAfter = FAILED_AFTER.exec(failure.message);
  if (failedAfter) {
    const reported = Number(failedAfter[1]);
    const reason = failedAfter[2]!;
    if (reported !== attempts.length || last === undefined) {
      problem(`reported failed after ${reported} attempts; the receiver saw ${attempts.length}`);
      return;
    }
    if (!reasonPattern(last.behaviour, policy).test(reason))
      problem(`the failure reason ${JSON.stringify(reason)} does not match the last answer (${behaviourName(last.behaviour)})`);
    if (failure.at !== endOf(last, policy))
      problem(`the failure was reported at ${failure.at}, not when the last attempt ended (${endOf(last, policy)})`);
    const kind = classify(last.behaviour);
    if (kind === 'delivered' || kind === 'timeout-delivered') {
      problem('reported failed after a 2xx answer');
    } else if (kind === 'final') {
      const status = last.behaviour.kind === 'answer' ? last.behaviour.status : 0;
      if (status === 410) {
        if (!reason.endsWith('the endpoint is now disabled')) problem(`a 410 failure does not say the endpoint is disabled: ${reason}`);
        if (context.goneAt.get(view.shard) !== last.at) problem('a 410 outside the endpoint-gone schedule');
        count(tally.failures, '410 Gone answered (endpoint disabled)');
      } else if (status >= 300 && status < 400) {
        if (!reason.includes('redirects are not followed')) problem(`a 3xx failure does not say redirects are not followed: ${reason}`);
        count(tally.failures, 'final 3xx');
      } else {
        count(tally.failures, 'final 4xx');
      }
    } else if (reason.endsWith('the request expires before the next attempt')) {
      if (reported >= policy.attempts) problem('gave up for the expiry after the last allowed attempt');
      const end = endOf(last, policy);
      const asked = last.behaviour.kind === 'answer' ? retryAfterMs(last.retryAfterHeader, last.at) : undefined;
      if (asked !== undefined) {
        if (end + Math.min(asked, policy.maxDelayMs) < view.expiresAt)
          problem(`gave up for the expiry although the Retry-After wait ends before ${view.expiresAt}`);
      } else if (end + ceiling(policy, reported) <= view.expiresAt) {
        problem(`gave up for the expiry at ${end} although any backoff (< ${ceiling(policy, reported)} ms) ends before ${view.expiresAt}`);
      }
      count(tally.failures, 'retries stopped: request expires first');
    } else {
      if (reported !== policy.attempts)
        problem(`gave up after ${reported} of ${policy.attempts} attempts on a retryable answer: ${reason}`);
      count(tally.failures, 'attempts used up');
    }
    return;
  }
  const dropped = DROPPED.exec(failure.message);
  if (dropped) {
    const reported = Number(dropped[1]);
    if (view.shard !== context.queueShard) problem('dropped outside the small-queue shard');
    // The attempt in flight when the delivery was dropped may or may not have reached the receiver.
    if (reported !== attempts.length && reported !== attempts.length + 1)
      problem(`reported dropped after ${reported} attempts; the receiver saw ${attempts.length}`);
    count(tally.failures, 'dropped: queue full');
    return;
  }
  if (DISABLED.test(failure.message)) {
    const goneAt = context.goneAt.get(view.shard);
    if (goneAt === undefined) problem('reported disabled on an endpoint that never answered 410');
    else if (failure.at < goneAt) problem(`reported disabled at ${failure.at}, before the 410 at ${goneAt}`);
    count(tally.failures, attempts.length === 0 ? 'endpoint disabled: not sent' : 'endpoint disabled: cut short');
    return;
  }
  const abandoned = ABANDONED.exec(failure.message);
  if (abandoned) {
    if (view.closing !== 'notifier-first') problem('abandoned by the notifier close(), outside the notifier-first closing phase');
    if (Number(abandoned[1]) !== attempts.length)
      problem(`reported abandoned after ${abandoned[1]} attempts; the receiver saw ${attempts.length}`);
    count(tally.failures, 'abandoned by close()');
    return;
  }
  problem(`unexpected failure message: ${failure.message}`);
}
