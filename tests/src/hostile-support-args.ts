// Tool arguments and the ways an attacker (or a confused agent) changes them between the review and
// the run, for the tampered-arguments suites. The oracle of "same arguments" is deliberately not the
// core's hash: it is JSON deep equality, ignoring key order (what the tool would receive).
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';

export type Args = Record<string, unknown>;

/** JSON objects as a model emits them: ids, amounts, nested options, lists, odd keys. */
export const argsArbitrary: fc.Arbitrary<Args> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        user_id: fc.oneof(fc.stringMatching(/^[0-9]{1,6}$/), fc.integer({ min: 0, max: 999_999 })),
        amount: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        note: fc.string({ unit: 'binary', maxLength: 20 }),
        options: fc.record({ force: fc.boolean(), tags: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: ['user_id'] },
    ),
  },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ unit: 'binary', maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => ({ value })) },
);

/** What the tool would get: the args after a JSON round trip (so -0 and 0 are one number). */
export function asSent(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

/** True when a tool would receive the same arguments (key order aside). */
export function sameArgs(first: unknown, second: unknown): boolean {
  return isDeepStrictEqual(asSent(first), asSent(second));
}

export type Tampering =
  | 'replace-value'
  | 'add-key'
  | 'remove-key'
  | 'retype'
  | 'nested'
  | 'array-order'
  | 'unicode'
  | 'whitespace'
  | 'wrap'
  | 'reorder-keys'
  | 'unchanged';

/** `unwrap` (`{ value: x }` -> `x`) is left out of the default list: it finds a defect (see the pending file). */
export const defaultTamperings: readonly Tampering[] = [
  'replace-value',
  'add-key',
  'remove-key',
  'retype',
  'nested',
  'array-order',
  'unicode',
  'whitespace',
  'wrap',
  'reorder-keys',
  'unchanged',
];

function keysOf(args: Args): string[] {
  return Object.keys(args);
}

function setOwn(target: Args, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function copy(args: Args): Args {
  return structuredClone(args);
}

function retype(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value === '' ? null : [value];
  if (typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return { ...value };
  return [value];
}

/** Applies one tampering; `pick` and `replacement` drive the random choices. */
export function tamper(args: Args, kind: Tampering, pick: number, replacement: unknown): Args {
  const keys = keysOf(args);
  const key = keys.length === 0 ? undefined : keys[pick % keys.length];
  const result = copy(args);
  switch (kind) {
    case 'replace-value':
      if (key === undefined) setOwn(result, 'injected', replacement);
      else setOwn(result, key, replacement);
      return result;
    case 'add-key':
      setOwn(result, key === undefined ? 'extra' : `${key}_extra`, replacement);
      return result;
    case 'remove-key':
      if (key === undefined) return { removed: true };
      delete result[key];
      return result;
    case 'retype':
      if (key === undefined) return { value: retype(undefined) };
      setOwn(result, key, retype(result[key]));
      return result;
    case 'nested':
      if (key === undefined) return { nested: { value: replacement } };
      setOwn(result, key, { value: result[key] });
      return result;
    case 'array-order': {
      const list = key !== undefined && Array.isArray(result[key]) ? (result[key] as unknown[]) : undefined;
      if (list && list.length > 1) {
        setOwn(result, key as string, [...list].reverse());
        return result;
      }
      setOwn(result, key ?? 'list', [1, 2]);
      return result;
    }
    case 'unicode': {
      // A look-alike: Cyrillic 'а' for Latin 'a', or a decomposed é for a composed one.
      const value = key === undefined ? undefined : result[key];
      // JSON, not String(): a generated object may own a key such as `toString` that String() cannot call.
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
      const changed = text.includes('a') ? text.replace('a', '\u0430') : `${text}e\u0301`;
      setOwn(result, key ?? 'name', changed);
      return result;
    }
    case 'whitespace': {
      const value = key === undefined ? undefined : result[key];
      setOwn(result, key ?? 'name', `${typeof value === 'string' ? value : (JSON.stringify(value) ?? '')} `);
      return result;
    }
    case 'wrap':
      return { value: result };
    case 'reorder-keys': {
      const reordered: Args = {};
      for (const name of [...keys].reverse()) setOwn(reordered, name, result[name]);
      return reordered;
    }
    case 'unchanged':
      return result;
  }
}

/** A pair of arguments: what was reviewed, what is about to run, and how the second was made. */
export interface ArgsPair {
  reviewed: Args;
  run: Args;
  tampering: Tampering;
}

export function argsPairArbitrary(tamperings: readonly Tampering[] = defaultTamperings): fc.Arbitrary<ArgsPair> {
  return fc
    .tuple(argsArbitrary, fc.constantFrom(...tamperings), fc.nat(), fc.jsonValue({ maxDepth: 2 }))
    .map(([reviewed, tampering, pick, replacement]) => ({ reviewed, run: tamper(reviewed, tampering, pick, replacement), tampering }));
}
