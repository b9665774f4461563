/**
 * How the AI SDK adapter judges a call: option checks, risk and confidence readers, the policy evaluation, the stored request.
 * Over 300 lines because it is the whole judgement of a call, which withApproval, needsApproval and the bridge all share.
 */
import {
  HitlError,
  isRiskLevel,
  type InteractionRequest,
  type Logger,
  type Manager,
  type PolicyCall,
  type PolicyEvaluation,
  type RiskLevel,
  type ToolRejection,
} from '@hitl/core';
import {
  callbackRejection,
  checkedConfidence,
  checkedRiskLevel,
  errorMessage,
  invalidInput,
  isPlainObject,
  optionalTimeout,
  type AssessmentCallback,
} from '@hitl/core/internal';
import type { ConfidenceOption, RiskLevelOption, ToolCallInfo } from './types.js';

/** Any non-null object, arrays included (AI SDK messages and parts are read leniently). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

const managerMethods = ['evaluate', 'submit', 'requestInteraction', 'get'] as const;

/** Throws `invalid_input` unless `value` looks like a `@hitl/core` manager. */
export function requireManager(value: unknown, field = 'manager'): Manager {
  if (!isObject(value)) throw invalidInput(field, value, 'must be a manager from createManager()');
  for (const method of managerMethods) {
    if (typeof value[method] !== 'function') {
      throw invalidInput(`${field}.${method}`, value[method], 'must be a function (pass a manager from createManager())');
    }
  }
  return value as unknown as Manager;
}

export function requireOptions(value: unknown, field = 'options'): Record<string, unknown> {
  if (!isObject(value) || Array.isArray(value)) throw invalidInput(field, value, 'must be an object');
  return value;
}

export function optionalFunction<T>(field: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidInput(field, value, 'must be a function');
  return value as T;
}

const idPrefixPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export function optionalIdPrefix(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !idPrefixPattern.test(value)) {
    throw invalidInput(field, value, 'must be 1 to 64 letters, digits or ._:- starting with a letter or digit');
  }
  return value;
}

/**
 * Reads the risk level and the confidence of a call from the user's options. A reader throws when
 * the user's function throws or returns something that is neither `undefined` nor valid.
 */
export interface Assessment {
  riskOf(call: ToolCallInfo): RiskLevel | undefined;
  confidenceOf(call: ToolCallInfo): number | undefined;
  /** Where a call refused because a callback failed is logged. */
  logger: Pick<Logger, 'warn'>;
}

function validConfidence(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
}

/** Checks a `logger` option: anything with a `warn` method (console fits); `console` when absent. */
function optionalLogger(field: string, value: unknown): Pick<Logger, 'warn'> {
  if (value === undefined) return console;
  if (typeof value !== 'object' || value === null || typeof (value as { warn?: unknown }).warn !== 'function') {
    throw invalidInput(field, value, 'must be a logger with a warn() method (console fits)');
  }
  return value as Pick<Logger, 'warn'>;
}

/**
 * Validates `riskLevel`, `confidence` and `logger` of an options object once and returns readers for them. A function that returns
 * `undefined` leaves the level to 'irreversible' and the confidence to 0 (fail closed); one that throws
 * or returns a bad value makes {@link evaluateCall} refuse the call.
 */
export function compileAssessment(options: Record<string, unknown>, field = 'options'): Assessment {
  const riskLevel = options.riskLevel as RiskLevelOption | undefined;
  const confidence = options.confidence as ConfidenceOption | undefined;
  const logger = optionalLogger(`${field}.logger`, options.logger);
  let riskOf: Assessment['riskOf'];
  if (isRiskLevel(riskLevel)) {
    riskOf = () => riskLevel;
  } else if (typeof riskLevel === 'function') {
    riskOf = (call) => {
      const level = riskLevel(call);
      return level === undefined ? undefined : checkedRiskLevel(call.toolName, level);
    };
  } else if (isPlainObject(riskLevel)) {
    const levels = new Map<string, RiskLevel>();
    for (const [name, level] of Object.entries(riskLevel)) {
      if (level === undefined) continue;
      if (!isRiskLevel(level)) {
        throw invalidInput(`${field}.riskLevel.${name}`, level, "is not a risk level ('read_only', 'data_modification' or 'irreversible')");
      }
      levels.set(name, level);
    }
    riskOf = (call) => levels.get(call.toolName);
  } else {
    throw invalidInput(
      `${field}.riskLevel`,
      riskLevel,
      "must be a risk level ('read_only', 'data_modification' or 'irreversible'), a record of them by tool name, or a function",
    );
  }

  let confidenceOf: Assessment['confidenceOf'];
  if (confidence === undefined) {
    confidenceOf = () => undefined;
  } else if (typeof confidence === 'number') {
    if (validConfidence(confidence) === undefined)
      throw invalidInput(`${field}.confidence`, confidence, 'must be a number between 0 and 1');
    confidenceOf = () => confidence;
  } else if (typeof confidence === 'function') {
    confidenceOf = (call) => checkedConfidence(call.toolName, confidence(call));
  } else {
    throw invalidInput(`${field}.confidence`, confidence, 'must be a number between 0 and 1 or a function');
  }
  return { riskOf, confidenceOf, logger };
}

/**
 * What the policies say about one call, with the risk and confidence they were asked about. When a
 * `riskLevel` or `confidence` callback failed, `refusal` says so and the evaluation is a `deny`
 * carrying its text: nobody can judge the call, so it must not run.
 */
export interface CallEvaluation {
  evaluation: PolicyEvaluation;
  riskLevel: RiskLevel | undefined;
  confidence: number | undefined;
  refusal?: ToolRejection;
  /** The callback that failed, with `refusal`. */
  failedCallback?: AssessmentCallback;
}

/** The error `needsApproval` and `submitApprovalRequests` throw for a call whose callback failed (they cannot return a refusal). */
export function refusalError({ refusal, failedCallback }: CallEvaluation): HitlError {
  const toolName = refusal?.toolName ?? '';
  return new HitlError('invalid_input', `the call to '${toolName}' was refused: ${refusal?.feedback ?? 'a callback failed'}`, {
    details: { field: failedCallback ?? 'riskLevel' },
  });
}

/**
 * What a call's context is, for the policies' conditions and the stored request: who the agent acts
 * for, the conversation (`threadId`) and the agent turn (`runId`), each a value or a function of the call.
 */
export interface CallContextOptions {
  requestedBy?: string | ((call: ToolCallInfo) => string | undefined) | undefined;
  threadId?: string | ((call: ToolCallInfo) => string | undefined) | undefined;
  runId?: string | ((call: ToolCallInfo) => string | undefined) | undefined;
}

/** Checks `requestedBy`, `threadId` and `runId` options: each a string or a function. */
export function validateContextOptions(options: Record<string, unknown>, field = 'options'): CallContextOptions {
  const context: CallContextOptions = {};
  for (const key of ['requestedBy', 'threadId', 'runId'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'function')
      throw invalidInput(`${field}.${key}`, value, 'must be a string or a function');
    context[key] = value as CallContextOptions[typeof key];
  }
  return context;
}

/** The call's `requestedBy`, `threadId` and `runId`, set only when present. */
export function contextOfCall(
  call: ToolCallInfo,
  options: CallContextOptions,
): { requestedBy?: string; threadId?: string; runId?: string } {
  const context: { requestedBy?: string; threadId?: string; runId?: string } = {};
  for (const key of ['requestedBy', 'threadId', 'runId'] as const) {
    const value = contextValue(call, key, options[key]);
    if (value !== undefined) context[key] = value;
  }
  return context;
}

/** `manager.evaluate` for a call, with its input and context for the conditions. A throwing policy engine means review (fail closed). */
export function evaluateCall(
  manager: Manager,
  assessment: Assessment,
  call: ToolCallInfo,
  context: CallContextOptions = {},
): CallEvaluation {
  let riskLevel: RiskLevel | undefined;
  let confidence: number | undefined;
  try {
    riskLevel = assessment.riskOf(call);
  } catch (error) {
    return refuse(assessment, 'riskLevel', callbackRejection('riskLevel', call.toolName, error));
  }
  try {
    confidence = assessment.confidenceOf(call);
  } catch (error) {
    return refuse(assessment, 'confidence', callbackRejection('confidence', call.toolName, error));
  }
  let evaluation: PolicyEvaluation;
  try {
    const policyCall: PolicyCall = {
      toolName: call.toolName,
      input: toRecordInput(call.input),
      confidence: confidence ?? 0,
      riskLevel: riskLevel ?? 'irreversible',
      ...contextOfCall(call, context),
    };
    evaluation = manager.evaluate(policyCall);
  } catch (error) {
    evaluation = { outcome: 'review', reason: `policy evaluation failed, so a human decides: ${errorMessage(error)}` };
  }
  return { evaluation, riskLevel, confidence };
}

/** A call whose callback failed: logged, and denied with the refusal attached. */
function refuse(assessment: Assessment, failedCallback: AssessmentCallback, refusal: ToolRejection): CallEvaluation {
  const reason = refusal.feedback ?? `${failedCallback} failed`;
  assessment.logger.warn(`hitl: refused a call to '${refusal.toolName}': ${reason}`);
  return { evaluation: { outcome: 'deny', reason }, riskLevel: undefined, confidence: undefined, refusal, failedCallback };
}

/** The key a non-object tool input is stored under; an object input is kept as it is. */
export const NON_OBJECT_INPUT_KEY = '~nonObjectInput';

/**
 * The tool input as a manager record's `input` (a JSON object): objects as they are, anything else
 * under {@link NON_OBJECT_INPUT_KEY}, a key no ordinary object input uses, so the input `0` and the
 * input `{ value: 0 }` never share an `inputHash` (an approval of one never runs the other).
 */
export function toRecordInput(input: unknown): Record<string, unknown> {
  return isPlainObject(input) ? input : { [NON_OBJECT_INPUT_KEY]: input };
}

/** A one-line description of a call for reviewers: the tool name and its arguments. */
export function defaultDescription(call: ToolCallInfo): string {
  let args: string;
  try {
    args = JSON.stringify(call.input) ?? '';
  } catch {
    args = '(arguments that are not JSON)';
  }
  if (args.length > 500) args = `${args.slice(0, 497)}...`;
  return `${call.toolName} ${args}`.trim();
}

/** Options shared by `withApproval` and `submitApprovalRequests` that shape the stored request. */
export interface RequestShaping extends CallContextOptions {
  describe?: ((call: ToolCallInfo) => string) | undefined;
  timeoutMs?: number | undefined;
}

export function validateShaping(options: Record<string, unknown>, field = 'options'): RequestShaping {
  const describe = optionalFunction<(call: ToolCallInfo) => string>(`${field}.describe`, options.describe);
  const timeoutMs = optionalTimeout(`${field}.timeoutMs`, options.timeoutMs);
  return { describe, timeoutMs, ...validateContextOptions(options, field) };
}

/** The `InteractionRequest` for a call that needs a human. */
export function buildRequest(
  call: ToolCallInfo,
  evaluated: CallEvaluation,
  shaping: RequestShaping,
  metadata: Record<string, unknown>,
): InteractionRequest {
  const request: InteractionRequest = {
    toolName: call.toolName,
    input: toRecordInput(call.input),
    description: describeCall(call, shaping.describe),
    metadata,
  };
  if (evaluated.riskLevel !== undefined) request.riskLevel = evaluated.riskLevel;
  if (evaluated.confidence !== undefined) request.confidence = evaluated.confidence;
  if (shaping.timeoutMs !== undefined) request.timeoutMs = shaping.timeoutMs;
  Object.assign(request, contextOfCall(call, shaping));
  return request;
}

function describeCall(call: ToolCallInfo, describe: RequestShaping['describe']): string {
  if (!describe) return defaultDescription(call);
  try {
    const text = describe(call);
    return typeof text === 'string' && text.trim() !== '' ? text : defaultDescription(call);
  } catch {
    return defaultDescription(call);
  }
}

function contextValue(
  call: ToolCallInfo,
  key: keyof CallContextOptions,
  option: CallContextOptions[keyof CallContextOptions],
): string | undefined {
  if (typeof option !== 'function') return option;
  // A throwing function is a configuration error: surface it rather than drop the self-approval
  // guard (requestedBy) or the context silently.
  const value = option(call);
  if (value !== undefined && typeof value !== 'string') throw invalidInput(`${key}(call)`, value, 'must return a string or undefined');
  return value;
}
