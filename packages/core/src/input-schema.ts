// A request's JSON Schema: its shape checked at submit, and edited input validated against it with ajv at decision time.
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { canonicalJson, sha256 } from './canonical-json.js';
import { HitlError } from './hitl-error.js';
import { invalidInput, isPlainObject } from './validation.js';

/**
 * The largest `request.inputSchema` accepted, in characters of canonical JSON (64 KiB). Adapters
 * leave out a tool schema larger than this rather than fail the call.
 *
 * @example
 * ```ts
 * if (JSON.stringify(schema).length <= MAX_INPUT_SCHEMA_BYTES) request.inputSchema = schema;
 * ```
 */
export const MAX_INPUT_SCHEMA_BYTES = 65_536;
/** How many compiled validators a manager keeps (least recently used first out). */
const VALIDATOR_CACHE_LIMIT = 128;

const schemaTypes = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

/**
 * Checks that `schema` looks like a JSON Schema of a tool's input and is small enough to store,
 * and returns a JSON copy of it. Whether ajv can compile it is only known when it is first used.
 */
export function normalizeInputSchema(field: string, schema: unknown): { copy: Record<string, unknown>; text: string } {
  if (!isPlainObject(schema)) throw invalidInput(field, schema, 'must be a JSON Schema object');
  const text = canonicalJson(schema, field);
  if (text.length > MAX_INPUT_SCHEMA_BYTES) {
    throw invalidInput(field, schema, `is ${text.length} bytes as JSON; at most ${MAX_INPUT_SCHEMA_BYTES} are allowed`);
  }
  const copy = JSON.parse(text) as Record<string, unknown>;
  const { type, properties, required } = copy;
  const knownType = (value: unknown) => typeof value === 'string' && schemaTypes.has(value);
  if (type !== undefined && !knownType(type) && !(Array.isArray(type) && type.length > 0 && type.every(knownType))) {
    throw invalidInput(`${field}.type`, type, 'is not a JSON Schema type');
  }
  if (properties !== undefined && !isPlainObject(properties)) throw invalidInput(`${field}.properties`, properties, 'must be an object');
  if (required !== undefined && !(Array.isArray(required) && required.every((name) => typeof name === 'string'))) {
    throw invalidInput(`${field}.required`, required, 'must be an array of property names');
  }
  if (typeof copy.$schema === 'string' && dialectOf(copy.$schema) === undefined) {
    throw invalidInput(`${field}.$schema`, copy.$schema, 'is not a JSON Schema dialect hitl can validate (draft-07, 2019-09 or 2020-12)');
  }
  return { copy, text };
}

type Dialect = 'draft-07' | '2019-09' | '2020-12';

function dialectOf(uri: string | undefined): Dialect | undefined {
  if (uri === undefined || /json-schema\.org\/draft-0[67]\/schema#?$/.test(uri)) return 'draft-07';
  if (/json-schema\.org\/draft\/2019-09\/schema#?$/.test(uri)) return '2019-09';
  if (/json-schema\.org\/draft\/2020-12\/schema#?$/.test(uri)) return '2020-12';
  return undefined;
}

function createAjv(dialect: Dialect): Ajv {
  const options = { strict: false, allErrors: false, validateFormats: false, logger: false } as const;
  if (dialect === '2020-12') return new Ajv2020(options);
  if (dialect === '2019-09') return new Ajv2019(options);
  return new Ajv(options);
}

/**
 * Validates edited input against request schemas, compiling each schema once (lazily) and keeping
 * at most 128 compiled validators. Each schema gets its own ajv instance, so two schemas with the
 * same `$id` never collide and an evicted validator leaves nothing behind.
 */
export class InputSchemaValidator {
  private readonly validators = new Map<string, ValidateFunction | HitlError>();

  /** Throws `HitlError('invalid_input')` naming the path (`modified/user_id must be string`) when `value` does not fit `schema`. */
  check(field: string, schema: Record<string, unknown>, value: unknown): void {
    const validate = this.validatorFor(field, schema);
    if (validate instanceof HitlError) throw validate;
    if (validate(value)) return;
    const error = validate.errors?.[0];
    const path = `${field}${error?.instancePath ?? ''}`;
    const params = error?.params as { additionalProperty?: unknown } | undefined;
    const extra = typeof params?.additionalProperty === 'string' ? ` ('${params.additionalProperty}')` : '';
    throw new HitlError('invalid_input', `${path} ${error?.message ?? 'does not match the schema'}${extra} (per request.inputSchema)`, {
      details: { field, path },
    });
  }

  private validatorFor(field: string, schema: Record<string, unknown>): ValidateFunction | HitlError {
    const key = sha256(canonicalJson(schema));
    const cached = this.validators.get(key);
    if (cached !== undefined) {
      this.validators.delete(key);
      this.validators.set(key, cached);
      return cached;
    }
    let compiled: ValidateFunction | HitlError;
    try {
      const dialect = dialectOf(typeof schema.$schema === 'string' ? schema.$schema : undefined) ?? 'draft-07';
      compiled = createAjv(dialect).compile(schema);
    } catch (error) {
      // Never accept an edit unvalidated: a schema ajv cannot compile refuses every modify.
      compiled = new HitlError(
        'invalid_input',
        `${field} cannot be checked: the request's inputSchema is not a schema ajv can compile (${error instanceof Error ? error.message : String(error)})`,
        { cause: error, details: { field } },
      );
    }
    if (this.validators.size >= VALIDATOR_CACHE_LIMIT) this.validators.delete(this.validators.keys().next().value as string);
    this.validators.set(key, compiled);
    return compiled;
  }
}
