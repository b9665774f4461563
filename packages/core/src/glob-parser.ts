// Parses a tool-name glob into tokens and expands its braces, refusing (and naming) every
// construct the matcher does not support. The automaton built from the result is in tool-glob.ts.
import { HitlError } from './hitl-error.js';
import { toolNameCodes } from './tool-name.js';
import { describeValue } from './validation.js';

/** At most this many alternatives after brace expansion. */
export const MAX_GLOB_ALTERNATIVES = 256;

/** One pattern position: `*`, or a set of ASCII codes (a literal, `?` or a class). */
export type Token = { star: true; key: '*' } | { star: false; key: string; codes: Uint8Array };

/** A parsed pattern before brace expansion: tokens and brace groups in sequence. */
export type Sequence = Array<Token | Sequence[]>;

export function refuse(pattern: string, problem: string): HitlError {
  return new HitlError('invalid_input', `toolPattern ${describeValue(pattern)} is not a valid glob: it ${problem}`, {
    details: { field: 'toolPattern', value: describeValue(pattern) },
  });
}

const anyCodes = toolNameCodes;

function literal(code: number): Token {
  const codes = new Uint8Array(128);
  codes[code] = 1;
  return { star: false, key: `=${code}`, codes };
}

function nameOfChar(char: string): string {
  return JSON.stringify(char);
}

/** Parses `pattern` (without its leading `!`) into a sequence; refuses what is not supported. */
export class GlobParser {
  private index = 0;
  constructor(
    private readonly text: string,
    private readonly original: string,
  ) {}

  private fail(problem: string): never {
    throw refuse(this.original, problem);
  }

  parse(): Sequence {
    const sequence = this.sequence(false);
    if (this.index < this.text.length) this.fail(`has an unmatched '}' at position ${this.index}`);
    return sequence;
  }

  /** Reads tokens up to the end, or (inside braces) up to a top-level `,` or `}`. */
  private sequence(inBraces: boolean): Sequence {
    const items: Sequence = [];
    const text = this.text;
    while (this.index < text.length) {
      const char = text[this.index] as string;
      const next = text[this.index + 1];
      if (inBraces && (char === ',' || char === '}')) return items;
      if ((char === '!' || char === '@' || char === '+' || char === '*' || char === '?') && next === '(') {
        this.fail(
          `uses the extglob '${char}(…)' at position ${this.index}, which is not supported (use separate policies, or one leading '!' to negate a whole glob)`,
        );
      }
      if (char === '*') {
        if (next === '*') this.fail(`uses '**' at position ${this.index}: tool names have no path segments, use a single '*'`);
        items.push({ star: true, key: '*' });
        this.index++;
      } else if (char === '?') {
        items.push({ star: false, key: '?', codes: anyCodes });
        this.index++;
      } else if (char === '[') {
        items.push(this.characterClass());
      } else if (char === '{') {
        items.push(this.braces());
      } else if (char === '}') {
        this.fail(`has an unmatched '}' at position ${this.index}`);
      } else if (char === '\\') {
        const escaped = text[this.index + 1];
        if (escaped === undefined) this.fail('ends with a lone backslash');
        items.push(this.literalToken(escaped, this.index + 1));
        this.index += 2;
      } else {
        items.push(this.literalToken(char, this.index));
        this.index++;
      }
    }
    return items;
  }

  private literalToken(char: string, position: number): Token {
    if (char === '/') this.fail(`contains '/' at position ${position}: tool names have no path segments`);
    const code = char.charCodeAt(0);
    if (code >= 128 || toolNameCodes[code] !== 1) {
      this.fail(`contains ${nameOfChar(char)} at position ${position}, which no tool name can contain (letters, digits and _ - . : only)`);
    }
    return literal(code);
  }

  /** `[abc]`, `[a-z]`, `[!a]`, `[^a]`; a `]` right after the opening (or its `!`) is literal. */
  private characterClass(): Token {
    const text = this.text;
    const start = this.index;
    let index = start + 1;
    let negate = false;
    if (text[index] === '!' || text[index] === '^') {
      negate = true;
      index++;
    }
    const codes = new Uint8Array(128);
    let first = true;
    let closed = false;
    while (index < text.length) {
      let char = text[index] as string;
      if (char === ']' && !first) {
        closed = true;
        break;
      }
      first = false;
      if (char === '[' && text[index + 1] === ':')
        this.fail(`uses a POSIX class '[:…:]' at position ${index}, which is not supported: list the characters`);
      if (char === '\\') {
        index++;
        char = text[index] ?? this.fail('ends with a lone backslash');
      }
      if (char === '/') this.fail(`contains '/' at position ${index}: tool names have no path segments`);
      const low = char.charCodeAt(0);
      let high = low;
      if (text[index + 1] === '-' && text[index + 2] !== undefined && text[index + 2] !== ']') {
        let end = text[index + 2] as string;
        index += 2;
        if (end === '\\') {
          index++;
          end = text[index] ?? this.fail('ends with a lone backslash');
        }
        high = end.charCodeAt(0);
        if (high < low) this.fail(`has the range '${char}-${end}' at position ${index - 2}, whose end comes before its start`);
      }
      for (let code = low; code <= high && code < 128; code++) codes[code] = 1;
      index++;
    }
    if (!closed) this.fail(`has an unclosed '[' at position ${start}`);
    this.index = index + 1;
    for (let code = 0; code < 128; code++) {
      codes[code] = (negate ? codes[code] !== 1 : codes[code] === 1) && toolNameCodes[code] === 1 ? 1 : 0;
    }
    if (!codes.includes(1))
      this.fail(`has the class '${text.slice(start, this.index)}', which matches no character a tool name can contain`);
    return { star: false, key: `[${codes.join('')}`, codes };
  }

  /** `{a,b,…}` (alternatives, nested) or `{1..5}`/`{a..e}` (a range). */
  private braces(): Sequence[] {
    const text = this.text;
    const start = this.index;
    const close = this.closingBrace(start);
    const body = close < 0 ? '' : text.slice(start + 1, close);
    const range = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(\.\..*)?$/.exec(body);
    if (range) {
      if (range[3] !== undefined) this.fail(`has the range '{${body}}' at position ${start} with a step, which is not supported`);
      this.index = close + 1;
      return this.rangeAlternatives(range[1] as string, range[2] as string, start);
    }
    this.index = start + 1;
    const alternatives: Sequence[] = [this.sequence(true)];
    while (text[this.index] === ',') {
      this.index++;
      alternatives.push(this.sequence(true));
    }
    if (text[this.index] !== '}') this.fail(`has an unclosed '{' at position ${start}`);
    this.index++;
    if (alternatives.length < 2) {
      this.fail(
        `has '{${body}}' at position ${start} with no ',': a brace group needs at least two alternatives (or a range such as {1..5})`,
      );
    }
    return alternatives;
  }

  /** Where the `}` closing the brace at `start` is (skipping escapes), or -1. */
  private closingBrace(start: number): number {
    const text = this.text;
    let depth = 0;
    for (let index = start; index < text.length; index++) {
      const char = text[index];
      if (char === '\\') index++;
      else if (char === '{') depth++;
      else if (char === '}' && --depth === 0) return index;
    }
    return -1;
  }

  private rangeAlternatives(from: string, to: string, position: number): Sequence[] {
    const numeric = /\d/.test(from);
    if (numeric !== /\d/.test(to)) this.fail(`has the range '{${from}..${to}}' at position ${position} mixing numbers and letters`);
    const low = numeric ? Number(from) : from.charCodeAt(0);
    const high = numeric ? Number(to) : to.charCodeAt(0);
    const count = Math.abs(high - low) + 1;
    if (!Number.isSafeInteger(count) || count > MAX_GLOB_ALTERNATIVES) {
      this.fail(
        `has the range '{${from}..${to}}' at position ${position} with ${count} alternatives; at most ${MAX_GLOB_ALTERNATIVES} are allowed (split it across policies or use a class like [0-9])`,
      );
    }
    const padded = numeric && (/^-?0\d/.test(from) || /^-?0\d/.test(to));
    const width = Math.max(from.replace('-', '').length, to.replace('-', '').length);
    const step = high >= low ? 1 : -1;
    const alternatives: Sequence[] = [];
    for (let value = low; step > 0 ? value <= high : value >= high; value += step) {
      let text: string;
      if (!numeric) text = String.fromCharCode(value);
      else if (padded) text = `${value < 0 ? '-' : ''}${String(Math.abs(value)).padStart(width, '0')}`;
      else text = String(value);
      alternatives.push([...text].map((char) => this.literalToken(char, position)));
    }
    return alternatives;
  }
}

/** How many alternatives a sequence expands to, saturating just past the cap. */
export function countAlternatives(sequence: Sequence): number {
  let total = 1;
  for (const item of sequence) {
    if (!Array.isArray(item)) continue;
    let sum = 0;
    for (const alternative of item) sum = Math.min(sum + countAlternatives(alternative), MAX_GLOB_ALTERNATIVES + 1);
    total = Math.min(total * sum, MAX_GLOB_ALTERNATIVES + 1);
  }
  return total;
}

/** Expands braces into plain token lists, merging runs of `*` (which mean the same as one). */
export function expand(sequence: Sequence): Token[][] {
  let results: Token[][] = [[]];
  for (const item of sequence) {
    if (!Array.isArray(item)) {
      for (const result of results) result.push(item);
      continue;
    }
    const options = item.flatMap(expand);
    results = results.flatMap((prefix) => options.map((option) => [...prefix, ...option]));
  }
  return results.map((tokens) => tokens.filter((token, index) => !(token.star && tokens[index - 1]?.star)));
}
