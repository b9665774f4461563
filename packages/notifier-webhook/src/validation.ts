/** Option checks of the webhook notifiers: integers, durations and functions. */
import { invalidInput } from '@hitl/core/internal';

/** The largest delay `setTimeout` accepts, in ms. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** An integer in [min, max], or the default when absent. */
export function integerOption(field: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidInput(field, value, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

/** A finite number of ms in [min, MAX_TIMER_DELAY_MS], or the default when absent. */
export function durationOption(field: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_DELAY_MS) {
    throw invalidInput(field, value, `must be a number of ms from ${min} to ${MAX_TIMER_DELAY_MS}`);
  }
  return value;
}

/** A function, or the default when absent. */
export function functionOption<T>(field: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw invalidInput(field, value, 'must be a function');
  return value as T;
}
