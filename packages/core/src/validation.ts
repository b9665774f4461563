/** Input checks shared by core: value descriptions and `invalid_input` errors that name the field. */
import { HitlError } from './hitl-error.js';

/**
 * Shows a value in an error message: strings quoted and cut short, numbers and booleans as they
 * are, other kinds by their type. For adapters that validate their own options the way core does.
 *
 * @example
 * ```ts
 * describeValue('[invalid'); // "'[invalid'"
 * describeValue([1, 2]); // 'an array'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${shown}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * A `HitlError('invalid_input')` whose message names the field and the value.
 *
 * @example
 * ```ts
 * throw invalidInput('options.timeoutMs', 0, 'must be a positive number of milliseconds');
 * // HitlError: options.timeoutMs 0 must be a positive number of milliseconds
 * ```
 */
export function invalidInput(field: string, value: unknown, problem: string): HitlError {
  return new HitlError('invalid_input', `${field} ${describeValue(value)} ${problem}`, { details: { field, value: describeValue(value) } });
}

/**
 * True for `{}`-style objects (not arrays, dates, class instances or null).
 *
 * @example
 * ```ts
 * isPlainObject({ a: 1 }); // true
 * isPlainObject(new Date()); // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return isPlain(value);
}

/** {@link isPlainObject} without narrowing, for values whose declared type should be kept. */
export function isPlain(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function requireNonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidInput(field, value, 'must be a non-empty string');
  return value;
}

export function optionalString(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidInput(field, value, 'must be a string');
  return value;
}

export function optionalPlainObject(field: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) throw invalidInput(field, value, 'must be a plain object');
  return value;
}

export function optionalUnitInterval(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalidInput(field, value, 'must be a number between 0 and 1');
  }
  return value;
}

/** A positive duration in ms; `Infinity` allowed. 0, negatives and NaN are refused (never a silent "forever"). */
export function optionalTimeout(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw invalidInput(field, value, 'must be a positive number of milliseconds (or Infinity)');
  }
  return value;
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Request ids: letters, digits and `._:-`, starting with a letter or digit, at most 128 characters. */
export function requireId(field: string, value: unknown): string {
  if (typeof value !== 'string' || !idPattern.test(value)) {
    throw invalidInput(field, value, 'is not a valid request id (letters, digits and ._:- only, 1 to 128 characters)');
  }
  return value;
}

/** The most ids `ApprovalStore.getMany` reads at once. */
export const MAX_GET_MANY = 1_000;

/** The ids of `getMany`: an array of at most {@link MAX_GET_MANY} non-empty strings; throws `invalid_input` (field `ids`). */
export function checkGetManyIds(ids: unknown): readonly string[] {
  if (!Array.isArray(ids)) throw invalidInput('ids', ids, 'must be an array of request ids');
  if (ids.length > MAX_GET_MANY) throw invalidInput('ids', ids, `holds ${ids.length} ids; at most ${MAX_GET_MANY} are read at once`);
  ids.forEach((id: unknown, index) => {
    if (typeof id !== 'string' || id === '') throw invalidInput(`ids[${index}]`, id, 'must be a non-empty string');
  });
  return ids as readonly string[];
}
