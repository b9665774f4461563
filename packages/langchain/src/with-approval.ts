/** `withApproval` / `wrapTools` for LangChain tools: each call goes through the manager's policies before the tool runs. */
import { HitlError, toolNameProblem } from '@hitl/core';
import { checkedConfidence, checkedRiskLevel, invalidInput, isPlainObject } from '@hitl/core/internal';
import type { InteractionRequest, RiskLevel } from '@hitl/core';
import type { CallbackManagerForToolRun } from '@langchain/core/callbacks/manager';
import { ToolMessage } from '@langchain/core/messages';
import type { ToolCall } from '@langchain/core/messages/tool';
import type { StructuredTool, ToolRunnableConfig } from '@langchain/core/tools';
import type { InferInteropZodOutput, InteropZodType } from '@langchain/core/utils/types';
import type { ToolRejection } from './rejection.js';
import {
  askManager,
  callbackFailure,
  contextId,
  defaultDescription,
  inputRecord,
  isPromiseLike,
  parseWithSchema,
  refuseFailedCallback,
  rejectionText,
  threadIdOf,
  toolInputSchema,
  validateWrapperOptions,
  withContext,
} from './review.js';
import type { SharedOptions } from './review.js';

/**
 * The parsed input a tool's function receives: the output type of its Zod schema, `string` for
 * string tools, `unknown` for JSON-schema tools.
 *
 * @example
 * ```ts
 * type DeleteInput = ToolInput<typeof deleteUser>; // { user_id: string }
 * ```
 */
export type ToolInput<T> = T extends { schema: infer Schema }
  ? Schema extends InteropZodType
    ? InferInteropZodOutput<Schema>
    : unknown
  : unknown;

/**
 * Options of {@link withApproval}. `Input` is the tool's parsed input, so callbacks are typed.
 *
 * @example
 * ```ts
 * const options: WithApprovalOptions<{ user_id: string }> = {
 *   manager,
 *   riskLevel: 'irreversible',
 *   confidence: 0.9,
 *   describe: ({ user_id }) => `Delete user ${user_id}`,
 * };
 * ```
 */
export interface WithApprovalOptions<Input = unknown> extends SharedOptions {
  /** The risk of a call: fixed, or computed from the input. */
  riskLevel: RiskLevel | ((input: Input) => RiskLevel);
  /** The model's confidence in [0, 1]: fixed, or computed per call. Absent counts as 0 for the policies. */
  confidence?: number | ((input: Input, toolCall: ToolCall | undefined) => number | Promise<number>);
  /** What the reviewer reads. Default: the tool's description, then its arguments as JSON. */
  describe?: (input: Input) => string;
  /** Who the agent acts for (that person may not approve their own request): fixed, or per run. */
  requestedBy?: string | ((input: Input, config: ToolRunnableConfig) => string | undefined);
}

type ToolCallMethod = (arg: unknown, runManager?: CallbackManagerForToolRun, config?: ToolRunnableConfig) => unknown;
type GatedTool = { _call: ToolCallMethod; name: string; description: string; schema: unknown; responseFormat?: string };

function validateTool(tool: unknown): asserts tool is GatedTool {
  const candidate = tool as (Partial<GatedTool> & { invoke?: unknown }) | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate._call !== 'function' ||
    typeof candidate.invoke !== 'function'
  ) {
    throw invalidInput('tool', tool, 'must be a LangChain StructuredTool (made with tool() or a StructuredTool subclass)');
  }
  if (typeof candidate.name !== 'string' || candidate.name === '')
    throw invalidInput('tool.name', candidate.name, 'must be a non-empty string');
  const problem = toolNameProblem(candidate.name);
  if (problem !== undefined) throw invalidInput('tool.name', candidate.name, `is not a valid tool name: it ${problem}`);
}

function validateOptions(options: unknown): asserts options is WithApprovalOptions {
  validateWrapperOptions(options, 'options', { riskRecords: false });
}

/**
 * Puts a human in front of a LangChain tool. The result is the same tool (same class, `name`,
 * `description`, schema and types; it inherits everything from the original) whose calls first go
 * through the manager's policies:
 *
 * - auto-approved: runs at once (one synchronous `manager.evaluate`, no store round trip unless `audit`);
 * - needs review: submits a request (tool name, description, input, risk, confidence, `requestedBy`,
 *   `metadata.toolCallId`) and waits for a decision; approve runs the tool, modify validates the edited
 *   arguments against the tool's own schema and runs with them (invalid edits are refused, the tool does
 *   not run);
 * - denied by a policy, rejected, or (with `onTimeout: 'reject'`) expired: the tool does not run and the
 *   model reads a message such as `"Rejected by reviewer: <feedback>"` (a `ToolMessage` with
 *   `status: 'error'` when called with a tool call), or {@link ToolRejectedError} is thrown with
 *   `onReject: 'throw'`.
 *
 * Aborting the run's `signal` cancels the pending request and throws `HitlError('cancelled')`; an
 * expiry with `onTimeout: 'error'` throws `HitlError('timeout')`. The tool's own errors pass through
 * unchanged. A `confidence` or `riskLevel` callback that throws or gives an invalid value refuses the
 * call like a rejection (`reason: 'callback_failed'`, the feedback names the callback and its error;
 * logged to `logger`); a failing `describe`/`requestedBy` callback throws `HitlError('invalid_input')`.
 * Either way the tool does not run.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { tool } from '@langchain/core/tools';
 * import { z } from 'zod';
 * import { withApproval } from '@hitl/langchain';
 *
 * const manager = createManager({ policies: [{ name: 'deletes', toolPattern: 'delete_*', requireExplicit: true }] });
 * const deleteUser = tool(async ({ user_id }) => `deleted ${user_id}`, {
 *   name: 'delete_user',
 *   description: 'Delete a user account',
 *   schema: z.object({ user_id: z.string() }),
 * });
 * const guardedDeleteUser = withApproval(deleteUser, {
 *   manager,
 *   riskLevel: 'irreversible',
 *   confidence: 0.9,
 *   describe: ({ user_id }) => `Delete user ${user_id}`,
 * });
 * // createAgent({ model, tools: [guardedDeleteUser] })
 * ```
 */
export function withApproval<T extends StructuredTool>(tool: T, options: WithApprovalOptions<ToolInput<T>>): T {
  validateTool(tool);
  validateOptions(options);
  const original: GatedTool = tool;
  const { manager, riskLevel, confidence, describe, requestedBy, timeoutMs, audit = false } = options as WithApprovalOptions;

  /** What a refused call returns: the text, as a `ToolMessage` when called with a tool call. */
  const asOutput = (text: string, config: ToolRunnableConfig | undefined): unknown => {
    if (original.responseFormat === 'content_and_artifact') return [text, undefined];
    const toolCallId = config?.toolCall?.id;
    if (toolCallId === undefined) return text;
    return new ToolMessage({ content: text, tool_call_id: toolCallId, name: original.name, status: 'error' });
  };
  const refuse = (rejection: ToolRejection, config: ToolRunnableConfig | undefined): unknown =>
    asOutput(rejectionText(rejection, options), config);
  /** A failed `riskLevel`/`confidence` callback: refused (and logged), never run. */
  const refuseCallback = (callback: 'riskLevel' | 'confidence', error: unknown, config: ToolRunnableConfig | undefined): unknown =>
    asOutput(refuseFailedCallback(callback, original.name, error, options), config);

  /** The call's arguments and context: who it is for, `configurable.thread_id`, and the run (`configurable.run_id`, as LangGraph Server sets it). */
  const callOf = (arg: unknown, config: ToolRunnableConfig | undefined) => {
    const toolCall = config?.toolCall;
    let requester: string | undefined;
    try {
      requester = typeof requestedBy === 'function' ? requestedBy(arg, config ?? {}) : requestedBy;
    } catch (error) {
      throw callbackFailure('requestedBy', original.name, error);
    }
    const configurable = config?.configurable;
    return {
      input: inputRecord(toolCall && isPlainObject(toolCall.args) ? toolCall.args : arg),
      context: {
        requestedBy: requester,
        threadId: threadIdOf(configurable),
        runId: contextId(isPlainObject(configurable) ? configurable.run_id : undefined),
      },
    };
  };
  type Call = ReturnType<typeof callOf>;

  const review = async (
    arg: unknown,
    runManager: CallbackManagerForToolRun | undefined,
    config: ToolRunnableConfig | undefined,
    level: RiskLevel,
    score: number | undefined,
    { input, context }: Call,
  ): Promise<unknown> => {
    const toolName = original.name;
    const toolCall = config?.toolCall;
    let description: string;
    try {
      description = describe ? describe(arg) : defaultDescription(original.description, input);
    } catch (error) {
      throw callbackFailure('describe', toolName, error);
    }
    const request: InteractionRequest = withContext({ toolName, description, input, riskLevel: level }, context);
    const inputSchema = toolInputSchema(original.schema);
    if (inputSchema !== undefined) request.inputSchema = inputSchema;
    if (score !== undefined) request.confidence = score;
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    if (toolCall?.id !== undefined) request.metadata = { toolCallId: toolCall.id };

    const verdict = await askManager(manager, request, config?.signal);
    if (!verdict.run) return refuse(verdict.rejection, config);
    if (!verdict.modified) return original._call(arg, runManager, config);
    const parsed = await parseWithSchema(original.schema, verdict.modified);
    if (!parsed.success) {
      const rejection: ToolRejection = {
        reason: 'invalid_modification',
        toolName,
        requestId: verdict.requestId,
        feedback: parsed.message,
        response: verdict.response,
      };
      return refuse(rejection, config);
    }
    const editedConfig = toolCall ? { ...config, toolCall: { ...toolCall, args: verdict.modified } } : config;
    return original._call(parsed.data, runManager, editedConfig);
  };

  const decide = (
    arg: unknown,
    runManager: CallbackManagerForToolRun | undefined,
    config: ToolRunnableConfig | undefined,
    rawConfidence: unknown,
  ): unknown => {
    const toolName = original.name;
    let score: number | undefined;
    try {
      score = checkedConfidence(toolName, rawConfidence);
    } catch (error) {
      return refuseCallback('confidence', error, config);
    }
    let level: RiskLevel;
    try {
      level = typeof riskLevel === 'function' ? checkedRiskLevel(toolName, riskLevel(arg)) : riskLevel;
    } catch (error) {
      return refuseCallback('riskLevel', error, config);
    }
    const call = callOf(arg, config);
    if (
      !audit &&
      manager.evaluate(withContext({ toolName, input: call.input, confidence: score ?? 0, riskLevel: level }, call.context)).outcome ===
        'approve'
    ) {
      return original._call(arg, runManager, config);
    }
    return review(arg, runManager, config, level, score, call);
  };

  // Called by StructuredTool.call inside its try block, after the schema parsed the input: a
  // synchronous throw here reaches the caller as a rejection, like any tool error.
  const gatedCall: ToolCallMethod = (arg, runManager, config) => {
    if (typeof confidence !== 'function') return decide(arg, runManager, config, confidence);
    let value: unknown;
    try {
      value = confidence(arg, config?.toolCall);
    } catch (error) {
      return refuseCallback('confidence', error, config);
    }
    if (!isPromiseLike(value)) return decide(arg, runManager, config, value);
    return Promise.resolve(value).then(
      (resolved) => decide(arg, runManager, config, resolved),
      (error: unknown) => refuseCallback('confidence', error, config),
    );
  };

  const wrapped = Object.create(tool) as T;
  Object.defineProperty(wrapped, '_call', { value: gatedCall, writable: true, configurable: true, enumerable: false });
  return wrapped;
}

/**
 * Wraps every tool with {@link withApproval}: the same options for all, or options per tool from a
 * function. The result keeps the order and the types of `tools`.
 *
 * @example
 * ```ts
 * const tools = wrapTools([getWeather, deleteUser], (tool) => ({
 *   manager,
 *   riskLevel: tool.name.startsWith('get_') ? 'read_only' : 'irreversible',
 * }));
 * ```
 */
export function wrapTools<const T extends readonly StructuredTool[]>(
  tools: T,
  options: WithApprovalOptions | ((tool: T[number]) => WithApprovalOptions),
): T {
  if (!Array.isArray(tools)) throw invalidInput('tools', tools, 'must be an array of LangChain tools');
  if (typeof options !== 'function' && !isPlainObject(options)) throw invalidInput('options', options, 'must be an object or a function');
  return tools.map((tool: T[number], index) => {
    const toolOptions = typeof options === 'function' ? options(tool) : options;
    try {
      return withApproval(tool, toolOptions as WithApprovalOptions<ToolInput<T[number]>>);
    } catch (error) {
      if (HitlError.is(error, 'invalid_input')) {
        const details =
          error.details?.field === undefined ? error.details : { ...error.details, field: `tools[${index}].${error.details.field}` };
        throw new HitlError('invalid_input', `tools[${index}]: ${error.message}`, { cause: error, details });
      }
      throw error;
    }
  }) as unknown as T;
}
