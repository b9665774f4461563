/** Policy conditions: a `when` as a CEL expression or a function, compiled, bounded and tested on a call. */
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { HitlError } from './hitl-error.js';
import type { PolicyCall, PolicyCondition } from './types.js';

export type { PolicyCall, PolicyCondition };

/** What testing a condition against a call gave. `ok: false` means "could not tell": ask a human. */
export type ConditionResult = { ok: true; holds: boolean } | { ok: false; reason: string };

/** A condition compiled once, tested on every call its policy's glob matches. */
export interface CompiledCondition {
  readonly kind: 'cel' | 'function';
  /** The CEL text, or `function <name>` / `a function`: what reasons quote. */
  readonly source: string;
  /** Never throws: an error, a non-boolean result or a call too large for the condition's cost limit is `ok: false`. */
  test(call: PolicyCall): ConditionResult;
}

/** Longest CEL condition accepted, in UTF-16 code units. */
export const MAX_CONDITION_LENGTH = 4096;
/** Most comprehension macros (`all`, `exists`, `exists_one`, `map`, `filter`) in one condition. */
export const MAX_CONDITION_COMPREHENSIONS = 3;
/** The estimated work (see {@link estimateSteps}) above which a condition is not evaluated. */
export const MAX_CONDITION_STEPS = 100_000;

const parseLimits = { maxDepth: 32, maxAstNodes: 512, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 };
const comprehensions: ReadonlySet<string> = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

let environment: Environment | undefined;

/** The CEL environment: the `PolicyCall` fields as variables. Immutable once built; built on first use. */
function celEnvironment(): Environment {
  environment ??= new Environment({ limits: parseLimits })
    .registerVariable('toolName', 'string')
    .registerVariable('input', 'map')
    .registerVariable('confidence', 'double')
    .registerVariable('riskLevel', 'string')
    // Absent context is `null`, so `threadId == "t"` is false and `threadId == null` tests absence.
    .registerVariable('requestedBy', 'dyn')
    .registerVariable('threadId', 'dyn')
    .registerVariable('runId', 'dyn')
    .registerVariable('metadata', 'map');
  return environment;
}

/**
 * Compiles a policy's `when` once. A string is parsed and type-checked as CEL over the
 * {@link PolicyCall} fields; a function is wrapped so that a throw or a non-boolean result is
 * `ok: false`.
 *
 * Throws `HitlError('invalid_input')` naming the policy and the column for a syntax or type error,
 * a condition longer than {@link MAX_CONDITION_LENGTH}, deeper than 32 levels, with more than 512
 * nodes or {@link MAX_CONDITION_COMPREHENSIONS} comprehensions, or using `matches()` (JavaScript
 * regular expressions can backtrack exponentially) or `cel.bind()` (it lets a condition double a
 * value at each step).
 *
 * @example
 * ```ts
 * const condition = compileCondition('small-refunds', 'input.amount <= 100 && input.currency == "EUR"');
 * condition.test({ toolName: 'refund', input: { amount: 40, currency: 'EUR' }, confidence: 1, riskLevel: 'irreversible' });
 * // { ok: true, holds: true }
 * ```
 */
export function compileCondition(policyName: string, when: PolicyCondition): CompiledCondition {
  if (typeof when === 'function') return functionCondition(when);
  if (typeof when !== 'string') {
    throw new HitlError('invalid_input', `policy '${policyName}': when must be a CEL string or a function, got ${typeof when}`, {
      details: { field: `policy '${policyName}': when`, value: typeof when },
    });
  }
  return celCondition(policyName, when);
}

function functionCondition(when: (call: PolicyCall) => boolean): CompiledCondition {
  const source = when.name ? `function ${when.name}` : 'a function';
  return {
    kind: 'function',
    source,
    test(call) {
      let value: unknown;
      try {
        value = when(call);
      } catch (error) {
        return { ok: false, reason: `condition ${source} threw: ${messageOf(error)}` };
      }
      if (typeof value !== 'boolean') return { ok: false, reason: `condition ${source} returned ${describeValue(value)}, not a boolean` };
      return { ok: true, holds: value };
    },
  };
}

function celCondition(policyName: string, source: string): CompiledCondition {
  const quoted = quote(source);
  const refuse = (problem: string, cause?: unknown): never => {
    throw new HitlError('invalid_input', `policy '${policyName}': when ${quoted} ${problem}`, {
      cause,
      details: { field: `policy '${policyName}': when`, value: quoted },
    });
  };
  if (source.trim() === '') refuse('is empty');
  if (source.length > MAX_CONDITION_LENGTH) refuse(`is ${source.length} characters long, more than ${MAX_CONDITION_LENGTH}`);

  let evaluate: ParseResult;
  try {
    evaluate = celEnvironment().parse(source);
  } catch (error) {
    return refuse(`is not valid CEL${atColumn(error)}: ${summaryOf(error)}`, error);
  }
  const checked = evaluate.check();
  if (!checked.valid) return refuse(`is not valid CEL${atColumn(checked.error)}: ${summaryOf(checked.error)}`, checked.error);
  if (checked.type !== 'bool' && checked.type !== 'dyn') refuse(`is of type ${checked.type}, not bool`);

  const shape = shapeOf(evaluate.ast);
  if (shape.forbidden)
    refuse(`uses ${shape.forbidden.what}${atColumn(shape.forbidden)}, which conditions do not allow (${shape.forbidden.why})`);
  if (shape.comprehensions > MAX_CONDITION_COMPREHENSIONS) {
    refuse(
      `has ${shape.comprehensions} comprehensions (all, exists, exists_one, map, filter); at most ${MAX_CONDITION_COMPREHENSIONS} are allowed`,
    );
  }

  return {
    kind: 'cel',
    source,
    test(call) {
      const input: unknown = call?.input;
      if (typeof input !== 'object' || input === null)
        return { ok: false, reason: `condition ${quoted} was not evaluated: the call has no input object` };
      const metadata = call.metadata ?? {};
      if (shape.comprehensions > 0) {
        const over = overBudget(shape.nodes, shape.comprehensions, [input, metadata]);
        if (over) return { ok: false, reason: `condition ${quoted} was not evaluated: ${over}` };
      }
      let value: unknown;
      try {
        value = evaluate({
          toolName: call.toolName,
          input,
          confidence: call.confidence,
          riskLevel: call.riskLevel,
          requestedBy: call.requestedBy ?? null,
          threadId: call.threadId ?? null,
          runId: call.runId ?? null,
          metadata,
        });
      } catch (error) {
        return { ok: false, reason: `condition ${quoted} could not be evaluated: ${summaryOf(error)}` };
      }
      if (typeof value !== 'boolean') return { ok: false, reason: `condition ${quoted} returned ${describeValue(value)}, not a boolean` };
      return { ok: true, holds: value };
    },
  };
}

interface Forbidden {
  what: string;
  why: string;
  range?: { start: number };
}

/** What the compiler needs to know of a parsed condition: its size, its loops, anything refused. */
function shapeOf(root: ASTNode): { nodes: number; comprehensions: number; forbidden?: Forbidden | undefined } {
  let nodes = 0;
  let comprehensionCount = 0;
  let forbidden: Forbidden | undefined;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const item = pending.pop();
    if (Array.isArray(item)) {
      pending.push(...item);
      continue;
    }
    if (!isNode(item)) continue;
    nodes++;
    if (item.op === 'value' || item.op === 'id') continue;
    if (item.op === 'rcall') {
      const [name, receiver] = item.args as [string, ASTNode, ASTNode[]];
      if (comprehensions.has(name)) comprehensionCount++;
      if (name === 'matches')
        forbidden ??= { what: 'matches()', why: 'a JavaScript regular expression can take exponential time', range: item.range };
      if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel') {
        forbidden ??= { what: 'cel.bind()', why: 'reusing a value lets a condition double its work at every step', range: item.range };
      }
    }
    if (item.op === 'call' && (item.args as [string, ASTNode[]])[0] === 'matches') {
      forbidden ??= { what: 'matches()', why: 'a JavaScript regular expression can take exponential time', range: item.range };
    }
    pending.push(item.args);
  }
  return { nodes, comprehensions: comprehensionCount, forbidden };
}

function isNode(value: unknown): value is ASTNode {
  return typeof value === 'object' && value !== null && typeof (value as { op?: unknown }).op === 'string';
}

/**
 * The work a condition with loops may do on a call, estimated before evaluating it: every AST node,
 * for each of the `elements + 1` things each comprehension may range over (nested or chained),
 * with every KiB of string data counted as one more element. `elements` counts list items and map
 * entries anywhere in the input and metadata. The walk re-estimates at every container, before
 * reading its items, and stops as soon as the estimate passes the limit: it costs at most the limit.
 */
export function estimateSteps(nodes: number, comprehensionCount: number, elements: number, characters: number): number {
  return nodes * (elements + 1 + Math.floor(characters / 1024)) ** comprehensionCount;
}

function overBudget(nodes: number, comprehensionCount: number, roots: unknown[]): string | undefined {
  let elements = 0;
  let characters = 0;
  const pending: unknown[] = [...roots];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') characters += value.length;
    else if (typeof value !== 'object' || value === null || value instanceof Date || ArrayBuffer.isView(value)) continue;
    else if (Array.isArray(value)) elements += value.length;
    else if (value instanceof Map || value instanceof Set) elements += value.size;
    else {
      for (const key in value) {
        elements++;
        characters += key.length;
      }
    }
    // Estimated before reading a container's items: a huge list is refused without touching them.
    const steps = estimateSteps(nodes, comprehensionCount, elements, characters);
    if (steps > MAX_CONDITION_STEPS) {
      return `the call's input is too large for its ${comprehensionCount} comprehension${comprehensionCount === 1 ? '' : 's'} (at least ${elements} elements and ${characters} characters; estimated ${formatCount(steps)} steps, limit ${formatCount(MAX_CONDITION_STEPS)})`;
    }
    if (Array.isArray(value)) for (const item of value) pending.push(item);
    else if (value instanceof Map) for (const [key, item] of value) pending.push(key, item);
    else if (value instanceof Set) for (const item of value) pending.push(item);
    else if (typeof value === 'object' && value !== null) for (const key in value) pending.push((value as Record<string, unknown>)[key]);
  }
  return undefined;
}

function atColumn(error: unknown): string {
  const start = (error as { range?: { start?: unknown } } | undefined)?.range?.start;
  return typeof start === 'number' ? ` at column ${start + 1}` : '';
}

function summaryOf(error: unknown): string {
  if (error instanceof RangeError) return 'it is nested too deeply';
  const summary = (error as { summary?: unknown } | undefined)?.summary;
  return typeof summary === 'string' ? summary : messageOf(error);
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0] ?? '';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return `int ${value}`;
  if (typeof value === 'number') return `double ${value}`;
  if (typeof value === 'string') return `string ${quote(value)}`;
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : typeof value;
}

function quote(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(short);
}

function formatCount(value: number): string {
  return Number.isFinite(value) && value < 1e15 ? Math.round(value).toLocaleString('en-US') : value.toExponential(1);
}
