/**
 * `approvalMiddleware`: agent middleware that sends each tool call of a LangChain agent through the manager's policies.
 * Over 300 lines because its documented option types and one closure (risk, refusals, review, durable pause) make the middleware.
 */
import { HitlError, toolNameProblem } from '@hitl/core';
import { checkedConfidence, checkedRiskLevel, describeValue, invalidInput } from '@hitl/core/internal';
import type { InteractionRequest, Manager, RiskLevel } from '@hitl/core';
import { ToolMessage } from '@langchain/core/messages';
import type { ToolCall } from '@langchain/core/messages/tool';
import { createMiddleware } from 'langchain';
import type { AgentMiddleware, ToolCallHandler, ToolCallRequest } from 'langchain';
import { durableRequestId, durableVerdict } from './durable-review.js';
import type { ToolRejection } from './rejection.js';
import {
  askManager,
  callbackFailure,
  defaultDescription,
  inputRecord,
  isPromiseLike,
  parseWithSchema,
  refuseFailedCallback,
  rejectionText,
  threadIdOf,
  toolInputSchema,
  turnIdOf,
  validateWrapperOptions,
  withContext,
} from './review.js';
import type { SharedOptions } from './review.js';

/**
 * The risk of each tool call: one level for every tool, a level per tool name (tools missing from
 * the record count as `irreversible`), or a function of the call.
 *
 * @example
 * ```ts
 * const riskLevel: RiskLevelOption = (toolCall) => (toolCall.name.startsWith('get_') ? 'read_only' : 'irreversible');
 * ```
 */
export type RiskLevelOption =
  RiskLevel | Partial<Record<string, RiskLevel>> | ((toolCall: ToolCall, request: ToolCallRequest) => RiskLevel);

/**
 * The model's confidence in [0, 1]: fixed, or computed per call (from the call, the agent state or
 * the runtime context). Absent counts as 0 for the policies.
 *
 * @example
 * ```ts
 * const confidence: ConfidenceOption = (toolCall, request) => (request.state.messages.length > 20 ? 0.4 : 0.9);
 * ```
 */
export type ConfidenceOption = number | ((toolCall: ToolCall, request: ToolCallRequest) => number | Promise<number>);

/**
 * Options of {@link approvalMiddleware}.
 *
 * @example
 * ```ts
 * const options: ApprovalMiddlewareOptions = {
 *   manager,
 *   riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' },
 *   confidence: 0.9,
 *   requestedBy: (request) => String(request.runtime.context?.userId ?? ''),
 * };
 * ```
 */
export interface ApprovalMiddlewareOptions extends SharedOptions {
  riskLevel: RiskLevelOption;
  confidence?: ConfidenceOption;
  /** What the reviewer reads. Default: the tool's description, then the call's arguments as JSON. */
  describe?: (toolCall: ToolCall, request: ToolCallRequest) => string;
  /** Who the agent acts for (that person may not approve their own request): fixed, or per run. */
  requestedBy?: string | ((request: ToolCallRequest) => string | undefined);
  /** The middleware's name in the agent. Default `'HitlApprovalMiddleware'`. */
  name?: string;
  /**
   * `true`: a call that needs a human pauses the run with LangGraph's `interrupt` instead of waiting
   * in this process, so the run survives the process (it lives in the agent's checkpointer) and a
   * {@link createResumer} on any instance resumes it once decided. Needs a checkpointer and a
   * `configurable.thread_id`. Default `false` (the call waits in process).
   */
  durable?: boolean;
}

function validateOptions(options: unknown): asserts options is ApprovalMiddlewareOptions {
  validateWrapperOptions(options, 'options', { riskRecords: true });
  const { name } = options as unknown as Record<string, unknown>;
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw invalidInput('options.name', name, 'must be a non-empty string');
  const { durable } = options as unknown as Record<string, unknown>;
  if (durable !== undefined && typeof durable !== 'boolean') throw invalidInput('options.durable', durable, 'must be a boolean');
}

type Request = Parameters<ToolCallHandler>[0];

/** Durable mode: the request gets an id made of the thread and the call, and the run pauses on it. */
function pauseForReview(
  manager: Manager,
  interaction: InteractionRequest,
  threadId: string | undefined,
  toolCall: ToolCall,
  description: string,
) {
  if (threadId === undefined) {
    throw new HitlError(
      'invalid_input',
      `durable approvalMiddleware needs configurable.thread_id to pause '${toolCall.name}' (and a checkpointer)`,
    );
  }
  if (toolCall.id === undefined || toolCall.id === '')
    throw new HitlError('invalid_input', `durable approvalMiddleware needs a tool call id to pause '${toolCall.name}'`);
  interaction.id = durableRequestId(threadId, toolCall.id);
  return durableVerdict(manager, interaction, {
    toolName: toolCall.name,
    toolCallId: toolCall.id,
    args: interaction.input ?? {},
    description,
  });
}
type Handler = ToolCallHandler;
type Result = ReturnType<Handler>;

/**
 * Middleware for LangChain's `createAgent` that sends every tool call the agent makes through the
 * manager's policies (its `wrapToolCall` hook), whatever tools the agent has:
 *
 * - auto-approved calls run at once (one synchronous `manager.evaluate`);
 * - calls that need review wait for a human; approve runs the call, modify validates the edited
 *   arguments against the tool's schema and runs the call with them;
 * - denied, rejected, expired (with `onTimeout: 'reject'`) or invalidly edited calls do not run: the
 *   model receives a `ToolMessage` with `status: 'error'`, the call's `tool_call_id` and text such as
 *   `"Rejected by reviewer: <feedback>"`.
 *
 * Parallel tool calls in one model turn are decided independently: one rejection leaves the others
 * alone. Aborting the run's `signal` cancels pending requests. Errors this middleware throws
 * (`HitlError('timeout')`, `HitlError('cancelled')`, `ToolRejectedError` with `onReject: 'throw'`) reach
 * the caller of `agent.invoke` wrapped by LangChain in a `MiddlewareError` whose `cause` is the `HitlError`.
 *
 * @example
 * ```ts
 * import { createAgent } from 'langchain';
 * import { approvalMiddleware } from '@hitl/langchain/middleware';
 *
 * const agent = createAgent({
 *   model,
 *   tools: [getWeather, deleteUser],
 *   middleware: [
 *     approvalMiddleware({
 *       manager,
 *       riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' },
 *       confidence: 0.9,
 *     }),
 *   ],
 * });
 * ```
 */
export function approvalMiddleware(options: ApprovalMiddlewareOptions): AgentMiddleware {
  validateOptions(options);
  const {
    manager,
    riskLevel,
    confidence,
    describe,
    requestedBy,
    timeoutMs,
    audit = false,
    name = 'HitlApprovalMiddleware',
    durable = false,
  } = options;

  const riskOf = (toolCall: ToolCall, request: Request): RiskLevel => {
    if (typeof riskLevel === 'string') return riskLevel;
    if (typeof riskLevel !== 'function') return riskLevel[toolCall.name] ?? 'irreversible';
    return checkedRiskLevel(toolCall.name, riskLevel(toolCall, request));
  };

  const refuse = (rejection: ToolRejection, toolCall: ToolCall): ToolMessage =>
    new ToolMessage({
      content: rejectionText(rejection, options),
      tool_call_id: toolCall.id ?? '',
      name: toolCall.name,
      status: 'error',
    });
  /** A failed `riskLevel`/`confidence` callback: refused (and logged), never run. */
  const refuseCallback = (callback: 'riskLevel' | 'confidence', error: unknown, toolCall: ToolCall): ToolMessage =>
    new ToolMessage({
      content: refuseFailedCallback(callback, toolCall.name, error, options),
      tool_call_id: toolCall.id ?? '',
      name: toolCall.name,
      status: 'error',
    });

  /** Who the call is for, its thread (`configurable.thread_id`) and its turn (the AI message that made it). */
  const contextOf = (request: Request) => {
    let requester: string | undefined;
    try {
      requester = typeof requestedBy === 'function' ? requestedBy(request) : requestedBy;
    } catch (error) {
      throw callbackFailure('requestedBy', request.toolCall.name, error);
    }
    return {
      requestedBy: requester,
      threadId: threadIdOf(request.runtime?.configurable),
      runId: turnIdOf(request.state?.messages, request.toolCall.id),
    };
  };
  type CallContext = ReturnType<typeof contextOf>;

  const review = async (
    request: Request,
    handler: Handler,
    level: RiskLevel,
    score: number | undefined,
    context: CallContext,
  ): Promise<Awaited<Result>> => {
    const { toolCall } = request;
    const toolName = toolCall.name;
    const input = inputRecord(toolCall.args);
    const registered = request.tool as { description?: unknown; schema?: unknown } | undefined;
    let description: string;
    try {
      description = describe
        ? describe(toolCall, request)
        : defaultDescription(typeof registered?.description === 'string' ? registered.description : undefined, input);
    } catch (error) {
      throw callbackFailure('describe', toolName, error);
    }
    const metadata: Record<string, unknown> = {};
    if (toolCall.id !== undefined) metadata.toolCallId = toolCall.id;
    const interaction: InteractionRequest = withContext({ toolName, description, input, riskLevel: level, metadata }, context);
    const inputSchema = registered ? toolInputSchema(registered.schema) : undefined;
    if (inputSchema !== undefined) interaction.inputSchema = inputSchema;
    if (score !== undefined) interaction.confidence = score;
    if (timeoutMs !== undefined) interaction.timeoutMs = timeoutMs;

    const verdict = durable
      ? await pauseForReview(manager, interaction, context.threadId, toolCall, description)
      : await askManager(manager, interaction, request.runtime?.signal);
    if (!verdict.run) return refuse(verdict.rejection, toolCall);
    if (!verdict.modified) return handler(request);
    // A tool the agent does not know (dynamically provided) is validated by itself when it runs.
    const parsed = registered ? await parseWithSchema(registered.schema, verdict.modified) : ({ success: true } as const);
    if (!parsed.success) {
      const rejection: ToolRejection = {
        reason: 'invalid_modification',
        toolName,
        requestId: verdict.requestId,
        feedback: parsed.message,
        response: verdict.response,
      };
      return refuse(rejection, toolCall);
    }
    return handler({ ...request, toolCall: { ...toolCall, args: verdict.modified } });
  };

  const decide = (request: Request, handler: Handler, rawConfidence: unknown): Result => {
    const { toolCall } = request;
    // The model chooses the name: one no tool can have is refused before anything else runs.
    const nameProblem = toolNameProblem(toolCall.name);
    if (nameProblem !== undefined) {
      const rejection: ToolRejection = {
        reason: 'policy',
        toolName: String(toolCall.name),
        requestId: '',
        feedback: `toolName ${describeValue(toolCall.name)} is not a valid tool name: it ${nameProblem}`,
      };
      return refuse(rejection, toolCall);
    }
    let score: number | undefined;
    let level: RiskLevel;
    try {
      score = checkedConfidence(toolCall.name, rawConfidence);
    } catch (error) {
      return refuseCallback('confidence', error, toolCall);
    }
    try {
      level = riskOf(toolCall, request);
    } catch (error) {
      return refuseCallback('riskLevel', error, toolCall);
    }
    const context = contextOf(request);
    if (!audit) {
      // Conditions see what submit would show them: the arguments and the context.
      const call = withContext(
        { toolName: toolCall.name, input: inputRecord(toolCall.args), confidence: score ?? 0, riskLevel: level },
        context,
      );
      if (manager.evaluate(call).outcome === 'approve') return handler(request);
    }
    return review(request, handler, level, score, context);
  };

  const wrapToolCall = (request: Request, handler: Handler): Result => {
    if (typeof confidence !== 'function') return decide(request, handler, confidence);
    let value: unknown;
    try {
      value = confidence(request.toolCall, request);
    } catch (error) {
      return refuseCallback('confidence', error, request.toolCall);
    }
    if (!isPromiseLike(value)) return decide(request, handler, value);
    return Promise.resolve(value).then(
      (resolved) => decide(request, handler, resolved),
      (error: unknown) => refuseCallback('confidence', error, request.toolCall),
    );
  };

  return createMiddleware({ name, wrapToolCall });
}
