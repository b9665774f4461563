// Tool names: 1–128 characters of `A-Z a-z 0-9 _ - . :`, checked in bounded time whatever the input.
import { invalidInput } from './validation.js';

/**
 * The longest tool name hitl accepts (the limit model providers and MCP use).
 *
 * @example
 * ```ts
 * if (name.length > MAX_TOOL_NAME_LENGTH) refuse(name);
 * ```
 */
export const MAX_TOOL_NAME_LENGTH = 128;

/** Which ASCII codes a tool name may contain: `A-Z a-z 0-9 _ - . :`. */
export const toolNameCodes: Uint8Array = (() => {
  const table = new Uint8Array(128);
  const allow = (from: string, to: string) => {
    for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) table[code] = 1;
  };
  allow('A', 'Z');
  allow('a', 'z');
  allow('0', '9');
  for (const char of '_-.:') table[char.charCodeAt(0)] = 1;
  return table;
})();

/** True when `code` (a UTF-16 code unit) may appear in a tool name. */
export function isToolNameCode(code: number): boolean {
  return code < 128 && toolNameCodes[code] === 1;
}

/**
 * What is wrong with a tool name, or undefined when it is valid (1–128 characters of
 * `A-Z a-z 0-9 _ - . :`). Looks at no more than 128 characters, so a name of any length costs the
 * same. Adapters use it to refuse a call to a name no tool can have before asking anyone.
 *
 * @example
 * ```ts
 * toolNameProblem('get_weather'); // undefined
 * toolNameProblem('get weather'); // 'contains " " at position 3 (a tool name is letters, digits and _ - . : only)'
 * ```
 */
export function toolNameProblem(toolName: unknown): string | undefined {
  if (typeof toolName !== 'string') return 'is not a string';
  const length = toolName.length;
  if (length === 0) return 'is empty';
  if (length > MAX_TOOL_NAME_LENGTH) return `is ${length} characters long (at most ${MAX_TOOL_NAME_LENGTH})`;
  for (let index = 0; index < length; index++) {
    const code = toolName.charCodeAt(index);
    if (code >= 128 || toolNameCodes[code] !== 1) {
      return `contains ${JSON.stringify(toolName[index])} at position ${index} (a tool name is letters, digits and _ - . : only)`;
    }
  }
  return undefined;
}

/** Returns a valid tool name, or throws `HitlError('invalid_input')` naming the field, the (shortened) value and the problem. */
export function requireToolName(field: string, value: unknown): string {
  const problem = toolNameProblem(value);
  if (problem !== undefined) throw invalidInput(field, value, `is not a valid tool name: it ${problem}`);
  return value as string;
}
