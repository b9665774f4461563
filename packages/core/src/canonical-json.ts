/** Canonical JSON (sorted keys, no whitespace) and the input hash that binds a decision to its arguments. */
import { createHash } from 'node:crypto';
import { HitlError } from './hitl-error.js';

const MAX_DEPTH = 100;

/**
 * JSON with object keys sorted at every level and no whitespace, so equal data always gives equal
 * text. Follows `JSON.stringify` for everything else (`toJSON`, `undefined` properties dropped,
 * non-finite numbers as `null`). Throws `HitlError('invalid_input')` for cycles, BigInts and
 * nesting deeper than 100 levels.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown, field = 'input'): string {
  const seen = new Set<object>();
  const text = write(value, field, seen, 0, field);
  return text ?? 'null';
}

/** Error details for a problem at `path` (`request.input.items[2]`) inside `field` (`request.input`). */
function detailsAt(field: string, path: string): { details: { field: string; path: string } } {
  return { details: { field, path } };
}

function write(value: unknown, path: string, seen: Set<object>, depth: number, field: string): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new HitlError('invalid_input', `${path} holds a BigInt, which JSON cannot represent`, detailsAt(field, path));
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (depth >= MAX_DEPTH) throw new HitlError('invalid_input', `${path} is nested deeper than ${MAX_DEPTH} levels`, detailsAt(field, path));
  if (seen.has(object)) throw new HitlError('invalid_input', `${path} contains a circular reference`, detailsAt(field, path));
  seen.add(object);
  let text: string;
  if (Array.isArray(object)) {
    const parts: string[] = [];
    for (let index = 0; index < object.length; index++) {
      parts.push(write(object[index], `${path}[${index}]`, seen, depth + 1, field) ?? 'null');
    }
    text = `[${parts.join(',')}]`;
  } else {
    const record = object as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const item = write(record[key], `${path}.${key}`, seen, depth + 1, field);
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
    }
    text = `{${parts.join(',')}}`;
  }
  seen.delete(object);
  return text;
}

/**
 * The sha256 (hex) of the canonical JSON of a tool call's input; `{}` when there is no input.
 * An approval is bound to this hash: a resumed call with other arguments does not match.
 *
 * @example
 * ```ts
 * hashInput({ user_id: '12345' }) === hashInput({ user_id: '12345' }); // true, whatever the key order
 * ```
 */
export function hashInput(input: Record<string, unknown> | undefined): string {
  return sha256(canonicalJson(input ?? {}));
}

/** sha256 (hex) of a canonical JSON text. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
