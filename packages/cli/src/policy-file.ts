/**
 * Policy files as code: YAML or JSON read, checked against the JSON Schema and by core, each error at its file, line and column.
 * Over 300 lines because reading a file is one pipeline (parse, schema, core's checks) and every export carries its example.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createManager, HitlError } from '@hitl/core';
import type { ApprovalPolicy, PolicyOutcome, RiskLevel } from '@hitl/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { PolicyFileError, type SourcePosition } from './policy-file-error.js';
import { SourceMap } from './source-map.js';

/**
 * The largest policy file read, in characters (1 MiB).
 *
 * @example
 * ```ts
 * if (text.length > MAX_POLICY_FILE_LENGTH) throw new Error('policy file too large');
 * ```
 */
export const MAX_POLICY_FILE_LENGTH = 1_048_576;

/**
 * Where the text comes from (named in errors) and how to read it. `format` defaults to `'json'` for
 * a `filename` ending in `.json`, else `'yaml'` (which also reads JSON, but `'json'` is strict).
 *
 * @example
 * ```ts
 * const options: ParsePolicyOptions = { filename: 'policies.yaml', format: 'yaml' };
 * ```
 */
export interface ParsePolicyOptions {
  filename?: string;
  format?: 'yaml' | 'json';
}

/**
 * A test case from a policy file: a call and the outcome the policies must give it, with where it
 * is in the file.
 *
 * @example
 * ```ts
 * const { cases } = parsePolicyFile(text);
 * for (const testCase of cases) console.log(testCase.call.tool, '->', testCase.expect);
 * ```
 */
export interface PolicyCase {
  call: {
    tool: string;
    input?: Record<string, unknown>;
    confidence?: number;
    risk?: RiskLevel;
    threadId?: string;
  };
  expect: PolicyOutcome;
  /** The policy expected to decide. */
  policy?: string;
  /** Where the case starts in the file. */
  source: SourcePosition;
}

/**
 * A policy as a file holds it: the core's fields and, optionally, a CEL condition `when`.
 *
 * @example
 * ```ts
 * const refunds: FilePolicy = { name: 'small-refunds', toolPattern: 'refund', maxRiskLevel: 'irreversible', when: 'input.amount <= 100' };
 * ```
 */
export type FilePolicy = ApprovalPolicy & { when?: string };

/**
 * The parsed file: policies in order (ready for `createManager({ policies })`) and test cases.
 *
 * @example
 * ```ts
 * const { policies, cases }: PolicyFile = parsePolicyFile(text, { filename: 'policies.yaml' });
 * ```
 */
export interface PolicyFile {
  policies: FilePolicy[];
  cases: PolicyCase[];
}

interface PolicyFileSchema {
  definitions: { policy: { properties: Record<string, unknown> } };
}

let schema: PolicyFileSchema | undefined;
let validator: ValidateFunction | undefined;

/** The JSON Schema of a policy file, as shipped in the package (`@hitl/cli/policy-file.schema.json`). */
function policyFileSchema(): PolicyFileSchema {
  schema ??= JSON.parse(readFileSync(new URL('../policy-file.schema.json', import.meta.url), 'utf8')) as PolicyFileSchema;
  return schema;
}

function schemaValidator(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: false, logger: false }).compile(policyFileSchema());
  return validator;
}

/**
 * The fields a policy may have: the schema's, so a new `ApprovalPolicy` field reaches the file
 * format with one entry under `definitions.policy.properties` in `policy-file.schema.json`.
 */
function policyKeys(): readonly string[] {
  return Object.keys(policyFileSchema().definitions.policy.properties);
}

function formatOf(options: ParsePolicyOptions): 'yaml' | 'json' {
  if (options.format !== undefined) {
    if (options.format !== 'yaml' && options.format !== 'json') {
      throw new HitlError('invalid_input', `format '${String(options.format)}' must be 'yaml' or 'json'`, { details: { field: 'format' } });
    }
    return options.format;
  }
  return options.filename?.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

function positionOfOffset(file: string, text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { file, line, column: offset - before.lastIndexOf('\n') };
}

/** Strict JSON first, so a `.json` file with YAML-only syntax is refused where it goes wrong. */
function checkJson(file: string, text: string): void {
  try {
    JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /position (\d+)/.exec(message)?.[1];
    const position = offset === undefined ? { file, line: 1, column: 1 } : positionOfOffset(file, text, Number(offset));
    throw new PolicyFileError(position, `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/s, '')}`, { cause: error });
  }
}

function pathOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function dotted(path: ReadonlyArray<string | number>): string {
  return (
    path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part), '') || 'the file'
  );
}

function show(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
}

/** One readable message per schema violation, at the position of the offending value. */
function schemaProblem(error: ErrorObject, data: unknown): { path: (string | number)[]; key: boolean; message: string } {
  const path = pathOf(error.instancePath);
  const value = path.reduce<unknown>((node, part) => (node as Record<string | number, unknown> | undefined)?.[part], data);
  const where = dotted(path);
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      return { path: [...path, extra], key: true, message: `${dotted([...path, extra])} is not a known field` };
    }
    case 'required':
      return { path, key: false, message: `${where} is missing '${(error.params as { missingProperty: string }).missingProperty}'` };
    case 'enum':
      return {
        path,
        key: false,
        message: `${where} ${show(value)} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map(show).join(', ')}`,
      };
    case 'anyOf':
      return {
        path,
        key: false,
        message: `${where} needs maxRiskLevel unless requireExplicit or deny is true (it caps what the policy auto-approves)`,
      };
    default:
      return { path, key: false, message: `${where} ${show(value)} ${error.message ?? 'is invalid'}` };
  }
}

function validateShape(map: SourceMap, data: unknown): void {
  const validate = schemaValidator();
  if (validate(data)) return;
  const errors = (validate.errors ?? []).filter((error) => !error.schemaPath.includes('/anyOf/'));
  // An unknown field first (a misspelt one also makes its real one missing), the cap rule (anyOf)
  // last: a policy missing its toolPattern says so first.
  const first =
    errors.find((error) => error.keyword === 'additionalProperties') ?? errors.find((error) => error.keyword !== 'anyOf') ?? errors[0];
  if (!first) throw new PolicyFileError(map.positionOf([]), 'the file does not match the policy file schema');
  const { path, key, message } = schemaProblem(first, data);
  throw new PolicyFileError(map.positionOf(path, key), message, { path: first.instancePath || '/' });
}

/** The field a core validation error names (`policy 'x': toolPattern` -> `toolPattern`). */
function fieldOf(error: HitlError): string | undefined {
  const field = error.details?.field;
  if (field === undefined) return undefined;
  const last = field.split(': ').pop() ?? field;
  return last.replace(/^policy\./, '');
}

/**
 * Adds every policy to a scratch manager, in order, so whatever `createManager` would refuse (a bad
 * glob, a duplicate name) is reported now, at the position of that policy in the file.
 */
function checkWithCore(map: SourceMap, policies: FilePolicy[]): void {
  const scratch = createManager({ policies: [] });
  try {
    for (const [index, policy] of policies.entries()) {
      try {
        scratch.addPolicy(policy);
      } catch (error) {
        if (!HitlError.is(error, 'invalid_input')) throw error;
        // A condition's errors name the policy and the column, not a field: point at `when`.
        const field = fieldOf(error) ?? (policy.when !== undefined && /^policy '.*?': when /.test(error.message) ? 'when' : undefined);
        // A nested field (`remind.everyMs`) points at its own value.
        const parts = field?.split('.') ?? [];
        const path = parts[0] !== undefined && policyKeys().includes(parts[0]) ? ['policies', index, ...parts] : ['policies', index];
        throw new PolicyFileError(map.positionOf(path), error.message, { cause: error, path: `/${path.join('/')}` });
      }
    }
  } finally {
    void scratch.close();
  }
}

function toPolicy(raw: Record<string, unknown>): FilePolicy {
  const policy: Record<string, unknown> = {};
  for (const key of policyKeys()) if (raw[key] !== undefined) policy[key] = raw[key];
  return policy as unknown as FilePolicy;
}

function toCase(raw: Record<string, unknown>, source: SourcePosition): PolicyCase {
  const call = raw.call as PolicyCase['call'];
  const testCase: PolicyCase = { call: { ...call }, expect: raw.expect as PolicyOutcome, source };
  if (typeof raw.policy === 'string') testCase.policy = raw.policy;
  return testCase;
}

/**
 * Parses and validates a policy file's text: YAML or JSON, checked against the package's JSON Schema
 * (`@hitl/cli/policy-file.schema.json`), then every policy is added to a scratch manager so a bad glob
 * or a duplicate name is reported at load time. Errors are {@link PolicyFileError}
 * (`HitlError('invalid_input')`) naming the file, line and column.
 *
 * @example
 * ```ts
 * import { parsePolicyFile } from '@hitl/cli';
 *
 * const { policies, cases } = parsePolicyFile(`
 * policies:
 *   - { name: reads, toolPattern: 'get_*', maxRiskLevel: read_only }
 * cases:
 *   - { call: { tool: get_weather, risk: read_only, confidence: 1 }, expect: approve, policy: reads }
 * `);
 * ```
 */
export function parsePolicyFile(text: string, options: ParsePolicyOptions = {}): PolicyFile {
  if (typeof options !== 'object' || options === null)
    throw new HitlError('invalid_input', 'options must be an object', { details: { field: 'options' } });
  const file = options.filename ?? '<policies>';
  if (typeof text !== 'string') throw new HitlError('invalid_input', `${file}: the policy file's text must be a string`);
  if (text.length > MAX_POLICY_FILE_LENGTH) {
    throw new PolicyFileError(
      { file, line: 1, column: 1 },
      `the file has ${text.length} characters; at most ${MAX_POLICY_FILE_LENGTH} are read`,
    );
  }
  const format = formatOf(options);
  if (format === 'json') checkJson(file, text);

  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, version: '1.2' });
  const map = new SourceMap(file, document, lines);
  const syntaxError = document.errors[0];
  if (syntaxError) {
    const at = syntaxError.linePos?.[0];
    const position = at ? { file, line: at.line, column: at.col } : map.at(syntaxError.pos[0]);
    throw new PolicyFileError(position, `invalid ${format === 'json' ? 'JSON' : 'YAML'}: ${syntaxError.message.split('\n')[0]}`, {
      cause: syntaxError,
    });
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new PolicyFileError(map.positionOf([]), `cannot read the file: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  validateShape(map, data);

  const root = data as { policies: Record<string, unknown>[]; cases?: Record<string, unknown>[] };
  const policies = root.policies.map(toPolicy);
  checkWithCore(map, policies);
  const cases = (root.cases ?? []).map((raw, index) => toCase(raw, map.positionOf(['cases', index])));
  return { policies, cases };
}

/**
 * The policies of a policy file's text, in order, for `createManager({ policies })`. See
 * {@link parsePolicyFile} for what is checked.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { parsePolicies } from '@hitl/cli';
 *
 * const manager = createManager({
 *   policies: parsePolicies('policies: [{ name: deletes, toolPattern: "delete_*", requireExplicit: true }]'),
 * });
 * ```
 */
export function parsePolicies(text: string, options: ParsePolicyOptions = {}): FilePolicy[] {
  return parsePolicyFile(text, options).policies;
}

/**
 * Reads and parses a policy file (and its test cases). The format follows the extension: `.json` is
 * strict JSON, anything else YAML.
 *
 * @example
 * ```ts
 * const { policies, cases } = await loadPolicyFile('policies.yaml');
 * ```
 */
export async function loadPolicyFile(path: string, options: Pick<ParsePolicyOptions, 'format'> = {}): Promise<PolicyFile> {
  return parsePolicyFile(await readPolicyText(path), { ...options, filename: path });
}

/** A policy file's text; a missing file is `not_found`, any other read error `invalid_input`. */
export async function readPolicyText(path: string): Promise<string> {
  if (typeof path !== 'string' || path === '')
    throw new HitlError('invalid_input', `path ${show(path)} must be a non-empty string`, { details: { field: 'path' } });
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new HitlError(
      code === 'ENOENT' ? 'not_found' : 'invalid_input',
      `cannot read policy file '${path}': ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Reads a policy file and returns its policies for `createManager({ policies })`.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { loadPolicies } from '@hitl/cli';
 *
 * const manager = createManager({ policies: await loadPolicies('policies.yaml') });
 * ```
 */
export async function loadPolicies(path: string): Promise<FilePolicy[]> {
  return (await loadPolicyFile(path)).policies;
}
