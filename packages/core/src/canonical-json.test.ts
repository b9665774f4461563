// canonicalJson and hashInput: sorted keys, JSON.stringify's edge cases, refused cycles and BigInts, the input's sha256.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashInput, HitlError } from './index.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('follows JSON.stringify for undefined, functions, non-finite numbers and toJSON', () => {
    const value = { a: undefined, b: () => 1, c: [undefined, Number.NaN, Infinity], d: new Date(0), e: 'é"\n' };
    expect(canonicalJson(value)).toBe('{"c":[null,null,null],"d":"1970-01-01T00:00:00.000Z","e":"é\\"\\n"}');
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('refuses cycles, BigInts and absurd nesting with invalid_input', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.loop = [cyclic];
    let deep: Record<string, unknown> = {};
    for (let level = 0; level < 150; level++) deep = { deep };
    for (const [value, message] of [
      [cyclic, 'input.loop[0] contains a circular reference'],
      [{ amount: 1n }, 'input.amount holds a BigInt, which JSON cannot represent'],
      [deep, 'is nested deeper than 100 levels'],
    ] as const) {
      let caught: unknown;
      try {
        canonicalJson(value);
      } catch (error) {
        caught = error;
      }
      expect(HitlError.is(caught, 'invalid_input')).toBe(true);
      expect((caught as Error).message).toContain(message);
      expect(caught).toMatchObject({ details: { field: 'input', path: expect.stringMatching(/^input/) } });
    }
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });
});

describe('hashInput', () => {
  it('is the sha256 of the canonical JSON, {} for no input', () => {
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(hashInput({ user_id: '12345' })).toBe(sha('{"user_id":"12345"}'));
    expect(hashInput(undefined)).toBe(sha('{}'));
    expect(hashInput({ b: 2, a: 1 })).toBe(hashInput({ a: 1, b: 2 }));
    expect(hashInput({ a: 1 })).not.toBe(hashInput({ a: '1' }));
  });
});
