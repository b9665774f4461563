/**
 * What `withApproval` and `approvalMiddleware` share: option checks, asking the manager, refusals, schemas, run context.
 * Over 300 lines because it holds every piece both wrappers share, in one place so the two cannot drift apart.
 */
import { HitlError, isRiskLevel, MAX_INPUT_SCHEMA_BYTES } from '@hitl/core';
import {
  callbackRejection,
  errorMessage,
  invalidInput,
  isPlainObject,
  rejectionOfResponse,
  requireManager,
  type AssessmentCallback,
} from '@hitl/core/internal';
import type { InteractionRequest, InteractionResponse, Logger, Manager } from '@hitl/core';
import { toJsonSchema, Validator } from '@langchain/core/utils/json_schema';
import { interopSafeParseAsync, isInteropZodSchema } from '@langchain/core/utils/types';
import { defaultRejectionMessage, ToolRejectedError } from './rejection.js';
import type { ToolRejection } from './rejection.js';

/**
 * What to do with a refused call: hand the model a message (default) or throw {@link ToolRejectedError}.
 *
 * @example
 * ```ts
 * withApproval(deleteUser, { manager, riskLevel: 'irreversible', onReject: 'throw' });
 * ```
 */
export type OnReject = 'message' | 'throw';

/** The outcome of asking the manager about one call. */
export type Verdict =
  | { run: true; requestId: string; response: InteractionResponse; modified?: Record<string, unknown> }
  | { run: false; rejection: ToolRejection };

/**
 * Options shared by `withApproval` and `approvalMiddleware`, validated once when the wrapper is built.
 *
 * @example
 * ```ts
 * const shared: SharedOptions = { manager, onReject: 'throw', timeoutMs: 60_000, audit: true };
 * ```
 */
export interface SharedOptions {
  manager: Manager;
  /**
   * `'message'` (default): a refused call returns the text the model reads (a `ToolMessage` with
   * `status: 'error'` when there is a tool call). `'throw'`: it throws {@link ToolRejectedError}.
   */
  onReject?: OnReject;
  /** How long a request waits for a human; overrides the policy's and the manager's timeout. */
  timeoutMs?: number;
  /** Turns a refusal into the text the model reads. Default {@link defaultRejectionMessage}. */
  formatRejection?: (rejection: ToolRejection) => string;
  /**
   * `true` stores auto-approved calls as records too (`manager.submit`, for the audit trail).
   * Default `false`: auto-approval is decided by `manager.evaluate` alone, with no store round trip.
   */
  audit?: boolean;
  /** Where a refusal because a `riskLevel` or `confidence` callback failed is logged (`warn`). Default `console`. */
  logger?: Pick<Logger, 'warn'>;
}

function isUnitInterval(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** Checks the options every wrapper shares; throws `HitlError('invalid_input')` naming the field. */
export function validateSharedOptions(options: unknown, field: string): asserts options is SharedOptions {
  if (!isPlainObject(options)) throw invalidInput(field, options, 'must be an object');
  requireManager(options.manager, ['evaluate', 'submit', 'waitFor', 'cancel'], `${field}.manager`);
  const { onReject, timeoutMs, formatRejection, audit, logger } = options;
  if (onReject !== undefined && onReject !== 'message' && onReject !== 'throw') {
    throw invalidInput(`${field}.onReject`, onReject, "must be 'message' or 'throw'");
  }
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0)) {
    throw invalidInput(`${field}.timeoutMs`, timeoutMs, 'must be a positive number of milliseconds (Infinity waits forever)');
  }
  if (formatRejection !== undefined && typeof formatRejection !== 'function') {
    throw invalidInput(`${field}.formatRejection`, formatRejection, 'must be a function');
  }
  if (audit !== undefined && typeof audit !== 'boolean') throw invalidInput(`${field}.audit`, audit, 'must be a boolean');
  if (
    logger !== undefined &&
    (typeof logger !== 'object' || logger === null || typeof (logger as { warn?: unknown }).warn !== 'function')
  ) {
    throw invalidInput(`${field}.logger`, logger, 'must be a logger with a warn() method (console fits)');
  }
}

/**
 * Checks the options of a wrapper (`withApproval`, `approvalMiddleware`): the shared ones, then
 * `riskLevel` (a record of levels by tool name too when `riskRecords`), `confidence`, `describe` and
 * `requestedBy`. Throws `HitlError('invalid_input')` naming the field.
 */
export function validateWrapperOptions(
  options: unknown,
  field: string,
  { riskRecords }: { riskRecords: boolean },
): asserts options is SharedOptions {
  validateSharedOptions(options, field);
  const { riskLevel, confidence, describe, requestedBy } = options as unknown as Record<string, unknown>;
  validateRiskOption(`${field}.riskLevel`, riskLevel, riskRecords);
  validateConfidenceOption(`${field}.confidence`, confidence);
  validateOptionalFunction(`${field}.describe`, describe);
  validateRequestedBy(`${field}.requestedBy`, requestedBy);
}

export function validateConfidenceOption(field: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (!isUnitInterval(value)) throw invalidInput(field, value, 'must be a number between 0 and 1 or a function');
}

export function validateRiskOption(field: string, value: unknown, allowRecord: boolean): void {
  if (typeof value === 'function' || isRiskLevel(value)) return;
  if (allowRecord && isPlainObject(value)) {
    for (const [name, level] of Object.entries(value)) {
      if (!isRiskLevel(level))
        throw invalidInput(`${field}.${name}`, level, "is not a risk level ('read_only', 'data_modification' or 'irreversible')");
    }
    return;
  }
  const expected = allowRecord ? 'a risk level, a record of tool name to risk level, or a function' : 'a risk level or a function';
  throw invalidInput(field, value, `must be ${expected}`);
}

export function validateOptionalFunction(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalidInput(field, value, 'must be a function');
}

export function validateRequestedBy(field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function' && (typeof value !== 'string' || value === '')) {
    throw invalidInput(field, value, 'must be a non-empty string or a function');
  }
}

/** The tool's description followed by its arguments as JSON. */
export function defaultDescription(description: string | undefined, input: unknown): string {
  let args: string;
  try {
    args = JSON.stringify(input) ?? String(input);
  } catch {
    // Not JSON (a cycle, a bigint): describe the type rather than call a toString the input may own.
    args = `[${typeof input}]`;
  }
  return description ? `${description}\nArguments: ${args}` : `Arguments: ${args}`;
}

/** Tool input as a JSON object for the request: objects as they are, anything else under `input`. */
export function inputRecord(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? value : { input: value };
}

/**
 * Stores the request and, when no policy decided it at once, waits for a human. An aborted signal
 * cancels the pending request and rethrows `HitlError('cancelled')`; an expiry throws
 * `HitlError('timeout')` or, with `onTimeout: 'reject'`, comes back as a `timeout` rejection.
 *
 * Submit + waitFor (what `requestInteraction` does) rather than `requestInteraction` itself, so a
 * rejection made by a policy at submit time is told apart from one made by the expiry timer.
 */
export async function askManager(manager: Manager, request: InteractionRequest, signal: AbortSignal | undefined): Promise<Verdict> {
  if (signal?.aborted) {
    throw new HitlError('cancelled', `the call to '${request.toolName}' was aborted before it was sent for review`);
  }
  const record = await manager.submit(request);
  const requestId = record.request.id;
  let response: InteractionResponse | undefined;
  let automaticReason: 'policy' | 'timeout' = 'policy';
  if (record.status === 'pending') {
    automaticReason = 'timeout';
    try {
      response = await manager.waitFor(requestId, signal ? { signal } : {});
    } catch (error) {
      if (HitlError.is(error, 'cancelled') && signal?.aborted) {
        await manager.cancel(requestId, 'the agent run was aborted').catch(() => undefined);
      }
      throw error;
    }
  } else {
    response = record.response;
  }
  if (!response)
    throw new HitlError('store_unavailable', `request '${requestId}' is ${record.status} but has no response`, {
      details: { ids: [requestId] },
    });
  return verdictOfResponse(request.toolName, requestId, response, automaticReason);
}

/** What a recorded response means for the call: run it (maybe with edited arguments) or refuse it, and why. */
export function verdictOfResponse(
  toolName: string,
  requestId: string,
  response: InteractionResponse,
  automaticReason: 'policy' | 'timeout',
): Verdict {
  switch (response.decision) {
    case 'approve':
      return { run: true, requestId, response };
    case 'modify':
      if (!isPlainObject(response.modified)) {
        return {
          run: false,
          rejection: { reason: 'invalid_modification', toolName, requestId, feedback: 'the reviewer sent no edited arguments', response },
        };
      }
      return { run: true, requestId, response, modified: response.modified };
    default:
      return { run: false, rejection: rejectionOfResponse(toolName, requestId, response, { automaticReason }) };
  }
}

/** The text for the model, or a thrown {@link ToolRejectedError} when `onReject` is `'throw'`. */
export function rejectionText(rejection: ToolRejection, options: SharedOptions): string {
  const message = options.formatRejection ? options.formatRejection(rejection) : defaultRejectionMessage(rejection);
  if (options.onReject === 'throw') throw new ToolRejectedError(rejection, message);
  return message;
}

/**
 * Validates `value` against a tool schema the way LangChain does before running a tool: Zod (v3 or
 * v4) schemas parse (and may transform), JSON schemas validate. No schema accepts anything.
 */
export async function parseWithSchema(
  schema: unknown,
  value: unknown,
): Promise<{ success: true; data: unknown } | { success: false; message: string }> {
  if (isInteropZodSchema(schema)) {
    const result = await interopSafeParseAsync(schema, value);
    if (result.success) return { success: true, data: result.data };
    const details = result.error.issues.map((issue) =>
      issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    );
    return { success: false, message: details.join('; ') };
  }
  if (typeof schema === 'object' && schema !== null) {
    const result = new Validator(schema as ConstructorParameters<typeof Validator>[0]).validate(value);
    if (result.valid) return { success: true, data: value };
    const details = result.errors.map((error) => `${error.instanceLocation}: ${error.error}`);
    return { success: false, message: details.join('; ') };
  }
  return { success: true, data: value };
}

/**
 * A `riskLevel` or `confidence` callback threw or gave an invalid value: nobody can judge the call,
 * so it is refused (`reason: 'callback_failed'`, the feedback names the callback and its error), the
 * refusal is logged, and the tool never runs. Returns the text for the model, or throws
 * {@link ToolRejectedError} with `onReject: 'throw'`.
 */
export function refuseFailedCallback(callback: AssessmentCallback, toolName: string, error: unknown, options: SharedOptions): string {
  const rejection = callbackRejection(callback, toolName, error);
  (options.logger ?? console).warn(`hitl: refused a call to '${toolName}': ${rejection.feedback ?? callback}`);
  return rejectionText(rejection, options);
}

/** A user callback failed: the call does not run (fail closed) and the error names the callback. */
export function callbackFailure(callback: string, toolName: string, error: unknown): HitlError {
  if (HitlError.is(error)) return error;
  return new HitlError('invalid_input', `${callback} for '${toolName}' threw: ${errorMessage(error)}`, {
    cause: error,
    details: { field: callback },
  });
}

export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * The tool's input as a JSON Schema for `request.inputSchema`, so the manager can refuse an edit the
 * tool would refuse: Zod schemas are converted (their input side), JSON schemas are kept. A schema
 * that cannot be converted, or is larger than the manager stores, is left out (the edited arguments
 * are still re-validated against the tool's own schema before it runs).
 */
export function toolInputSchema(schema: unknown): Record<string, unknown> | undefined {
  let converted: unknown;
  try {
    converted = isInteropZodSchema(schema) ? toJsonSchema(schema, { io: 'input' } as never) : schema;
    if (!isPlainObject(converted)) return undefined;
    const text = JSON.stringify(converted);
    return text.length <= MAX_INPUT_SCHEMA_BYTES ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What core accepts as a thread or run id: a non-blank string of at most 256 characters, none hidden. */
const CONTEXT_ID = /^(?![\s]*$)[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]{1,256}$/u;

/**
 * A thread or run id read from LangChain's config, or undefined. A value core would refuse is left
 * out rather than failing the tool call: the context helps reviewers, it does not gate anything.
 */
export function contextId(value: unknown): string | undefined {
  return typeof value === 'string' && CONTEXT_ID.test(value) ? value : undefined;
}

/** `configurable.thread_id` of a run's config or runtime. */
export function threadIdOf(configurable: unknown): string | undefined {
  return isPlainObject(configurable) ? contextId(configurable.thread_id) : undefined;
}

/**
 * The agent turn a tool call belongs to: the id of the AI message that made it (the calls a model
 * made together share it), looked up from the newest message back.
 */
export function turnIdOf(messages: unknown, toolCallId: string | undefined): string | undefined {
  if (!Array.isArray(messages) || toolCallId === undefined) return undefined;
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index] as { id?: unknown; tool_calls?: { id?: unknown }[] } | undefined;
    if (Array.isArray(message?.tool_calls) && message.tool_calls.some((call) => call?.id === toolCallId)) return contextId(message.id);
  }
  return undefined;
}

/** The context fields of a request, set only when present. */
export function withContext<T extends object>(
  request: T,
  context: { threadId?: string | undefined; runId?: string | undefined; requestedBy?: string | undefined },
): T & { threadId?: string; runId?: string; requestedBy?: string } {
  const target: T & { threadId?: string; runId?: string; requestedBy?: string } = request;
  if (context.threadId !== undefined) target.threadId = context.threadId;
  if (context.runId !== undefined) target.runId = context.runId;
  if (context.requestedBy !== undefined) target.requestedBy = context.requestedBy;
  return target;
}
