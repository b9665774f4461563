// Tool-name globs compiled to a bit-parallel automaton: matching costs name length × a bounded number of words.
//
// Why not minimatch (or another glob library): minimatch turns a glob into a JavaScript regular
// expression, and V8's regex engine backtracks: `'*delete*'` against a 400 KB name took ~13 s and
// ten `*a` against a 41-character name ~3 s. Its brace expansion also stops silently at a cap, so
// `'drop_shard_{1..150000}'` quietly meant fewer names than it says, and extglobs such as
// `'!(delete|drop)_*'` are read in ways a reader does not expect. No maintained library guarantees
// linear-time matching with these semantics, so hitl parses its own small glob language and refuses
// everything outside it, naming the construct.
//
// Supported: `*`, `?`, `[abc]`, `[a-z]`, `[!a]`/`[^a]`, `\x` escapes, `{a,b}` (nested) and
// `{1..5}`/`{a..e}` ranges (at most 256 alternatives after expansion), and one leading `!` that
// negates the whole glob. Refused: extglobs, `**`, `/`, POSIX classes, and any literal character no
// tool name can contain (the pattern could never match).
//
// The compiled form is a Shift-And automaton: one bit per pattern position, all alternatives side
// by side. Each name character costs one pass over `words` 32-bit words, so one match is at most
// `name length × words` word steps (plus the fixed prefix and suffix compared directly), and
// `words` is bounded when the pattern is compiled. Nothing backtracks.

import { countAlternatives, expand, GlobParser, MAX_GLOB_ALTERNATIVES, refuse } from './glob-parser.js';
import type { Token } from './glob-parser.js';

export { MAX_GLOB_ALTERNATIVES } from './glob-parser.js';

/** At most this many automaton states (bits) per compiled glob: 64 words of 32 bits. */
export const MAX_GLOB_STATES = 2048;
/** The longest pattern accepted. */
export const MAX_GLOB_LENGTH = 1024;

/**
 * A compiled tool-name glob. `test` is the match; `lastSteps` is the work the last `test` did
 * (word steps plus fixed-part comparisons), so tests can check the linear bound without timing.
 */
export interface ToolGlob {
  readonly pattern: string;
  readonly negated: boolean;
  /** 32-bit words per name character: the per-character cost. */
  readonly words: number;
  /** Characters compared directly before and after the automaton part. */
  readonly fixedLength: number;
  lastSteps: number;
  test(toolName: string): boolean;
}

/** How many leading tokens every alternative shares, with no `*` among them. */
function sharedPrefix(alternatives: Token[][], reversed: boolean, limit: number): number {
  let length = 0;
  for (;;) {
    if (length >= limit) return length;
    let key: string | undefined;
    for (const tokens of alternatives) {
      const token = tokens[reversed ? tokens.length - 1 - length : length];
      if (!token || token.star || (key !== undefined && token.key !== key)) return length;
      key = token.key;
    }
    length++;
  }
}

/**
 * Compiles a tool-name glob. Throws `HitlError('invalid_input')` naming the construct and why when
 * the pattern is not supported or too large to match in bounded time.
 *
 * @example
 * ```ts
 * const glob = compileToolGlob('{get,list}_*');
 * glob.test('get_user'); // true
 * compileToolGlob('!(delete)_*'); // throws: uses the extglob '!(…)' …
 * ```
 */
export function compileToolGlob(pattern: string): ToolGlob {
  if (pattern.length === 0) throw refuse(pattern, 'is empty');
  if (pattern.length > MAX_GLOB_LENGTH) throw refuse(pattern, `is ${pattern.length} characters long (at most ${MAX_GLOB_LENGTH})`);
  const negated = pattern[0] === '!' && pattern[1] !== '(';
  const body = negated ? pattern.slice(1) : pattern;
  if (negated && body === '') throw refuse(pattern, "is a lone '!': it negates nothing");
  if (negated && body[0] === '!' && body[1] !== '(') throw refuse(pattern, "starts with more than one '!': negate a glob once");
  const sequence = new GlobParser(body, pattern).parse();
  const count = countAlternatives(sequence);
  if (count > MAX_GLOB_ALTERNATIVES) {
    throw refuse(pattern, `expands to more than ${MAX_GLOB_ALTERNATIVES} alternatives (braces multiply); split it across policies`);
  }
  const alternatives = expand(sequence);
  const shortest = Math.min(...alternatives.map((tokens) => tokens.length));
  const prefixLength = sharedPrefix(alternatives, false, shortest);
  const suffixLength = sharedPrefix(alternatives, true, shortest - prefixLength);
  const first = alternatives[0] as Token[];
  const prefix = first.slice(0, prefixLength).map((token) => (token as { codes: Uint8Array }).codes);
  const suffix = first.slice(first.length - suffixLength).map((token) => (token as { codes: Uint8Array }).codes);
  const middles = alternatives.map((tokens) => tokens.slice(prefixLength, tokens.length - suffixLength));
  const states = middles.reduce((sum, tokens) => sum + tokens.length + 1, 0);
  if (states > MAX_GLOB_STATES) {
    throw refuse(
      pattern,
      `compiles to ${states} states (at most ${MAX_GLOB_STATES}) so it could not be matched in bounded time; split it across policies`,
    );
  }
  return new BitParallelGlob(pattern, negated, prefix, suffix, middles);
}

/** The Shift-And automaton. State `base + i` of an alternative means "its first i tokens matched". */
class BitParallelGlob implements ToolGlob {
  readonly words: number;
  readonly fixedLength: number;
  lastSteps = 0;
  private readonly table: Int32Array;
  private readonly stars: Int32Array;
  private readonly finals: Int32Array;
  private readonly initial: Int32Array;
  private current: Int32Array;
  private next: Int32Array;
  /** True when the automaton part is a lone `*` or empty: only the fixed parts matter. */
  private readonly middleIs: 'star' | 'empty' | 'automaton';

  constructor(
    readonly pattern: string,
    readonly negated: boolean,
    private readonly prefix: Uint8Array[],
    private readonly suffix: Uint8Array[],
    middles: Token[][],
  ) {
    this.fixedLength = prefix.length + suffix.length;
    const states = middles.reduce((sum, tokens) => sum + tokens.length + 1, 0);
    const words = Math.ceil(states / 32);
    this.words = words;
    this.table = new Int32Array(128 * words);
    this.stars = new Int32Array(words);
    this.finals = new Int32Array(words);
    this.initial = new Int32Array(words);
    this.current = new Int32Array(words);
    this.next = new Int32Array(words);
    const set = (array: Int32Array, offset: number, bit: number) => {
      array[offset + (bit >>> 5)]! |= 1 << (bit & 31);
    };
    let base = 0;
    for (const tokens of middles) {
      set(this.initial, 0, base);
      tokens.forEach((token, index) => {
        const bit = base + index + 1;
        if (token.star) {
          set(this.stars, 0, bit);
          return;
        }
        for (let code = 0; code < 128; code++) if (token.codes[code] === 1) set(this.table, code * words, bit);
      });
      set(this.finals, 0, base + tokens.length);
      base += tokens.length + 1;
    }
    this.closeOverStars(this.initial);
    const only = middles.length === 1 ? middles[0] : undefined;
    this.middleIs = only?.length === 0 ? 'empty' : only?.length === 1 && only[0]?.star ? 'star' : 'automaton';
  }

  /** A `*` may match nothing: its state is reached whenever the state before it is. */
  private closeOverStars(states: Int32Array): void {
    let carry = 0;
    for (let word = 0; word < this.words; word++) {
      const value = states[word]! | (((states[word]! << 1) | carry) & this.stars[word]!);
      carry = value >>> 31;
      states[word] = value;
    }
  }

  test(toolName: string): boolean {
    return this.matches(toolName) !== this.negated;
  }

  private matches(name: string): boolean {
    const length = name.length;
    const prefix = this.prefix;
    const suffix = this.suffix;
    const start = prefix.length;
    const end = length - suffix.length;
    this.lastSteps = 0;
    if (end < start) return false;
    for (let index = 0; index < start; index++) {
      this.lastSteps++;
      const code = name.charCodeAt(index);
      if (code >= 128 || prefix[index]![code] !== 1) return false;
    }
    for (let index = 0; index < suffix.length; index++) {
      this.lastSteps++;
      const code = name.charCodeAt(end + index);
      if (code >= 128 || suffix[index]![code] !== 1) return false;
    }
    if (this.middleIs === 'star') return true;
    if (this.middleIs === 'empty') return end === start;
    return this.simulate(name, start, end);
  }

  private simulate(name: string, start: number, end: number): boolean {
    const words = this.words;
    const table = this.table;
    const stars = this.stars;
    let current = this.current;
    let next = this.next;
    current.set(this.initial);
    let steps = this.lastSteps;
    for (let index = start; index < end; index++) {
      const code = name.charCodeAt(index);
      if (code >= 128) {
        this.lastSteps = steps;
        return false;
      }
      const row = code * words;
      let shiftCarry = 0;
      let starCarry = 0;
      let alive = 0;
      for (let word = 0; word < words; word++) {
        const old = current[word]!;
        const star = stars[word]!;
        let value = (((old << 1) | shiftCarry) & table[row + word]!) | (old & star);
        shiftCarry = old >>> 31;
        value |= ((value << 1) | starCarry) & star;
        starCarry = value >>> 31;
        next[word] = value;
        alive |= value;
      }
      steps += words;
      const swap = current;
      current = next;
      next = swap;
      if (alive === 0) {
        this.lastSteps = steps;
        return false;
      }
    }
    this.lastSteps = steps;
    const finals = this.finals;
    for (let word = 0; word < words; word++) if ((current[word]! & finals[word]!) !== 0) return true;
    return false;
  }
}
