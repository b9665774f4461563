/** Tool input validation the way the AI SDK does it, without importing `ai`: schemas and their JSON Schema. */
import { MAX_INPUT_SCHEMA_BYTES } from '@hitl/core';
import { errorMessage } from '@hitl/core/internal';
import { isObject } from './assessment.js';

/** The AI SDK marks its `Schema` objects (`jsonSchema()`, `zodSchema()`) with this symbol. */
const sdkSchemaSymbol = Symbol.for('vercel.ai.schema');

export type InputValidation = { success: true; value: unknown } | { success: false; message: string };

interface StandardIssue {
  message?: unknown;
  path?: ReadonlyArray<unknown>;
}

function describeIssues(issues: ReadonlyArray<StandardIssue>): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((segment) => (isObject(segment) && 'key' in segment ? String(segment.key) : String(segment)))
        .join('.');
      return `${path === '' ? '' : `${path}: `}${String(issue.message ?? 'invalid')}`;
    })
    .join('; ');
}

/**
 * Validates a value against a tool's `inputSchema` the way the AI SDK does, without importing
 * it: an SDK `Schema` (`jsonSchema()`, `zodSchema()`, also behind a lazy function) through its
 * `validate`, a Standard Schema (zod 3.25+ and 4, valibot, arktype) through `~standard.validate`,
 * an older zod through `safeParse`. An SDK `Schema` without `validate` accepts any value, as the
 * SDK itself does. A schema of any other kind fails (fail closed): the edited input is not run.
 */
export async function validateToolInput(schema: unknown, value: unknown): Promise<InputValidation> {
  try {
    let candidate = schema;
    if (typeof candidate === 'function') candidate = (candidate as () => unknown)();
    if (candidate === undefined || candidate === null) return { success: true, value };
    if (!isObject(candidate)) return { success: false, message: 'the tool has an inputSchema of an unknown kind' };

    if ((candidate as Record<symbol, unknown>)[sdkSchemaSymbol] === true) {
      const validate = candidate.validate;
      if (typeof validate !== 'function') return { success: true, value };
      const result = (await validate.call(candidate, value)) as { success: boolean; value?: unknown; error?: unknown };
      return result.success ? { success: true, value: result.value } : { success: false, message: errorMessage(result.error) };
    }

    const standard = candidate['~standard'];
    if (isObject(standard) && typeof standard.validate === 'function') {
      const result = (await standard.validate(value)) as { value?: unknown; issues?: ReadonlyArray<StandardIssue> };
      if (result.issues) return { success: false, message: describeIssues(result.issues) };
      return { success: true, value: result.value };
    }

    const safeParse = candidate.safeParseAsync ?? candidate.safeParse;
    if (typeof safeParse === 'function') {
      const result = (await safeParse.call(candidate, value)) as { success: boolean; data?: unknown; error?: unknown };
      return result.success ? { success: true, value: result.data } : { success: false, message: errorMessage(result.error) };
    }
    return { success: false, message: 'the tool has an inputSchema of an unknown kind' };
  } catch (error) {
    return { success: false, message: errorMessage(error) };
  }
}

/**
 * The tool's `inputSchema` as a JSON Schema for `request.inputSchema`, through the AI SDK's own
 * `asSchema(...).jsonSchema` (a value in ai v6, possibly a promise in later versions: both are
 * awaited). Undefined when there is no schema, it cannot be converted, or it is larger than the
 * manager stores; the edited input is still re-validated against the tool before it runs.
 */
export async function toolJsonSchema(schema: unknown): Promise<Record<string, unknown> | undefined> {
  try {
    const candidate = typeof schema === 'function' ? (schema as () => unknown)() : schema;
    if (!isObject(candidate)) return undefined;
    const { asSchema } = await import('ai');
    const converted: unknown = await asSchema(candidate as Parameters<typeof asSchema>[0]).jsonSchema;
    if (!isObject(converted)) return undefined;
    const text = JSON.stringify(converted);
    return text.length <= MAX_INPUT_SCHEMA_BYTES ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
