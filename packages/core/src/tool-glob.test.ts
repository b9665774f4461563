// Tool-name globs: what they mean (against minimatch), what they refuse, and a work bound that holds for every accepted pattern.
import fc from 'fast-check';
import { minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import { HitlError } from './hitl-error.js';
import { compileToolGlob, MAX_GLOB_STATES, type ToolGlob } from './tool-glob.js';
import { MAX_TOOL_NAME_LENGTH } from './tool-name.js';

/** The deterministic bound: one pass over the automaton's words per name character, plus the fixed parts. */
function workBound(glob: ToolGlob, name: string): number {
  return name.length * glob.words + glob.fixedLength;
}

const MAX_WORDS = MAX_GLOB_STATES / 32;

function refusal(pattern: string): string {
  try {
    compileToolGlob(pattern);
  } catch (error) {
    expect(HitlError.is(error, 'invalid_input')).toBe(true);
    return (error as HitlError).message;
  }
  throw new Error(`'${pattern}' was accepted`);
}

/** Glob syntax both hitl and minimatch read the same way: literals, ?, *, classes, braces, one leading !. */
const literalChar = fc.constantFrom('a', 'b', 'c', '_', '.', '-', '1');
const atom: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: literalChar },
  { weight: 2, arbitrary: fc.constant('?') },
  { weight: 3, arbitrary: fc.constant('*') },
  { weight: 1, arbitrary: fc.constantFrom('[ab]', '[!a]', '[^b_]', '[a-c]', '[0-9]', '[.-]') },
);
const { glob: globArbitrary } = fc.letrec<{ glob: string; braces: string }>((tie) => ({
  glob: fc
    .array(fc.oneof({ weight: 6, arbitrary: atom }, { weight: 1, arbitrary: tie('braces') }), { maxLength: 8 })
    .map((parts) => parts.join('')),
  braces: fc
    .array(
      fc
        .array(fc.oneof({ weight: 6, arbitrary: atom }, { weight: 1, arbitrary: tie('braces') }), { maxLength: 3 })
        .map((parts) => parts.join('')),
      {
        minLength: 2,
        maxLength: 3,
        depthIdentifier: 'braces',
      },
    )
    .map((alternatives) => `{${alternatives.join(',')}}`),
}));
const pattern = fc
  .tuple(fc.boolean(), globArbitrary)
  .map(([negate, body]) => (negate ? `!${body}` : body))
  .filter((text) => text.length > 0 && text !== '!');
const shortName = fc
  .array(fc.constantFrom('a', 'b', 'c', '_', '.', '-', '1', '9'), { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(''))
  // minimatch keeps its path rule that '*' never matches '.' or '..' even with dot: true; a tool name has no such rule.
  .filter((name) => name !== '.' && name !== '..');

describe('compileToolGlob', () => {
  it('matches what minimatch matches for the syntax both accept', () => {
    fc.assert(
      fc.property(pattern, fc.array(shortName, { minLength: 1, maxLength: 8 }), (text, names) => {
        let glob: ToolGlob;
        try {
          glob = compileToolGlob(text);
        } catch (error) {
          // Among generated patterns only '**' (two stars in a row) and brace products past the cap are refused.
          expect((error as Error).message).toMatch(/'\*\*'|alternatives|states/);
          return;
        }
        for (const name of names) expect(glob.test(name), `${text} vs ${name}`).toBe(minimatch(name, text, { dot: true }));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('does at most name length × words work for every accepted pattern, and words stay bounded', () => {
    const syntax = fc.constantFrom(
      '*',
      '?',
      'a',
      'b',
      '_',
      '[ab]',
      '[!a]',
      '{',
      '}',
      ',',
      '{1..9}',
      '\\',
      '!',
      '(',
      '-',
      '.',
      '/',
      '[',
      ']',
    );
    const anyPattern = fc.array(syntax, { minLength: 1, maxLength: 60 }).map((parts) => parts.join(''));
    const adversarialPattern = fc.oneof(
      anyPattern,
      pattern,
      fc.integer({ min: 1, max: 40 }).map((count) => '*a'.repeat(count)),
      fc.integer({ min: 1, max: 8 }).map((count) => `${'{a,b}'.repeat(count)}*`),
      fc.integer({ min: 1, max: 30 }).map((count) => `*${'?'.repeat(count)}*b`),
    );
    const nearMiss = fc.oneof(
      fc.array(fc.constantFrom('a', 'b', '_'), { minLength: 1, maxLength: MAX_TOOL_NAME_LENGTH }).map((chars) => chars.join('')),
      fc.integer({ min: 1, max: MAX_TOOL_NAME_LENGTH - 1 }).map((length) => `${'a'.repeat(length)}c`),
      fc.integer({ min: 1, max: MAX_TOOL_NAME_LENGTH }).map((length) => 'a'.repeat(length)),
    );
    let accepted = 0;
    fc.assert(
      fc.property(adversarialPattern, fc.array(nearMiss, { minLength: 1, maxLength: 5 }), (text, names) => {
        let glob: ToolGlob;
        try {
          glob = compileToolGlob(text);
        } catch (error) {
          expect(HitlError.is(error, 'invalid_input')).toBe(true);
          return;
        }
        accepted++;
        expect(glob.words).toBeLessThanOrEqual(MAX_WORDS);
        for (const name of names) {
          glob.test(name);
          expect(glob.lastSteps).toBeLessThanOrEqual(workBound(glob, name));
          expect(glob.lastSteps).toBeLessThanOrEqual(MAX_TOOL_NAME_LENGTH * MAX_WORDS + MAX_TOOL_NAME_LENGTH);
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(500);
  }, 60_000);

  it('keeps the issue repros cheap: ten *a against a 41-character name', () => {
    const glob = compileToolGlob('*a'.repeat(10));
    const name = `${'a'.repeat(40)}b`;
    expect(glob.test(name)).toBe(false);
    expect(glob.lastSteps).toBeLessThanOrEqual(name.length * glob.words);
    expect(glob.words).toBe(1);
    expect(compileToolGlob('*_*_*').test(`${'_'.repeat(127)}`)).toBe(true);
  });

  it.each([
    ['!(delete|drop)_*', /extglob '!\(…\)'/],
    ['@(a|b)', /extglob '@\(…\)'/],
    ['+(a)', /extglob '\+\(…\)'/],
    ['x*(a)', /extglob '\*\(…\)'/],
    ['?(a)', /extglob '\?\(…\)'/],
    ['**', /'\*\*'/],
    ['tools/*', /'\/'/],
    ['drop_shard_{1..150000}', /150000 alternatives; at most 256/],
    ['{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}', /more than 256 alternatives/],
    ['{1..10..2}', /with a step/],
    ['{abc}', /no ','/],
    ['[invalid', /unclosed '\['/],
    ['a}', /unmatched '\}'/],
    ['{a,b', /unclosed '\{'/],
    ['get user', /" ".*no tool name can contain/],
    ['[[:alpha:]]', /POSIX class/],
    ['!!a', /more than one '!'/],
    ['!', /lone '!'/],
    ['a\\', /lone backslash/],
    ['[z-a]', /end comes before its start/],
  ])('refuses %s, naming the construct', (text, message) => {
    expect(refusal(text)).toMatch(message);
  });

  it('supports ranges within the cap, padded like bash', () => {
    const glob = compileToolGlob('drop_shard_{1..256}');
    expect(glob.test('drop_shard_256')).toBe(true);
    expect(glob.test('drop_shard_257')).toBe(false);
    expect(compileToolGlob('v{01..10}').test('v07')).toBe(true);
    expect(compileToolGlob('v{01..10}').test('v7')).toBe(false);
    expect(compileToolGlob('{a..c}_x').test('b_x')).toBe(true);
  });

  it('is case-sensitive and negates a whole glob with one leading !', () => {
    expect(compileToolGlob('delete_*').test('Delete_user')).toBe(false);
    const notAdmin = compileToolGlob('!admin_*');
    expect(notAdmin.test('admin_users')).toBe(false);
    expect(notAdmin.test('get_users')).toBe(true);
    expect(compileToolGlob('!{get,list}_*').test('list_x')).toBe(false);
  });
});
