/** Validation of a policy's durable timers, `remind` and `escalate`: each field checked and copied, `invalid_input` naming it otherwise. */
import type { ApprovalPolicy } from '../types.js';
import { invalidInput, isPlainObject } from '../validation.js';

const MAX_MS = 8_640_000_000_000;

const positiveMs = (field: string, value: unknown, minimum: number): number => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum || value > MAX_MS) {
    throw invalidInput(field, value, `must be a finite number of ms from ${minimum} to ${MAX_MS}`);
  }
  return value;
};

/** The policy's `remind` and `escalate`, checked and copied; `field(key)` names a field in messages. */
export function compilePolicyTimers(policy: ApprovalPolicy, field: (key: string) => string): Pick<ApprovalPolicy, 'remind' | 'escalate'> {
  const result: Pick<ApprovalPolicy, 'remind' | 'escalate'> = {};
  if (policy.remind !== undefined) {
    const remind: unknown = policy.remind;
    if (!isPlainObject(remind)) throw invalidInput(field('remind'), remind, 'must be { everyMs, times? }');
    const everyMs = positiveMs(field('remind.everyMs'), remind.everyMs, 1);
    const times = remind.times;
    if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1 || times > 10_000)) {
      throw invalidInput(field('remind.times'), times, 'must be an integer from 1 to 10000');
    }
    result.remind = times === undefined ? { everyMs } : { everyMs, times };
  }
  if (policy.escalate !== undefined) {
    const escalate: unknown = policy.escalate;
    if (!isPlainObject(escalate)) throw invalidInput(field('escalate'), escalate, 'must be { afterMs, notifiers }');
    const afterMs = positiveMs(field('escalate.afterMs'), escalate.afterMs, 0);
    const notifiers = escalate.notifiers;
    if (!Array.isArray(notifiers) || notifiers.length === 0 || notifiers.some((name) => typeof name !== 'string' || name === '')) {
      throw invalidInput(field('escalate.notifiers'), notifiers, 'must be a non-empty array of notifier names');
    }
    result.escalate = { afterMs, notifiers: [...(notifiers as string[])] };
  }
  return result;
}
