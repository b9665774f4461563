/** The shapes `@hitl/vercel-ai` reads and returns: tool calls, tools, rejections, approval messages. */
import type { Logger, RiskLevel, ToolRejection } from '@hitl/core';

export type { RejectionReason, ToolRejection } from '@hitl/core';

/**
 * One tool call as this package sees it: the tool's name, the SDK's tool call id and the
 * arguments the model produced. The functions you pass as `riskLevel`, `confidence`,
 * `describe` and `requestedBy` receive it.
 *
 * @example
 * ```ts
 * const riskLevel = (call: ToolCallInfo) => (call.toolName.startsWith('get_') ? 'read_only' : 'irreversible');
 * ```
 */
export interface ToolCallInfo {
  toolName: string;
  toolCallId: string;
  input: unknown;
}

/**
 * How risky a call is: one level for every call, a level per tool name, or a function of the
 * call. A tool the record does not name, or a function that returns `undefined`, means
 * `'irreversible'` (fail closed). A function that throws or returns something that is not a risk
 * level refuses the call (`reason: 'callback_failed'`): it never runs.
 *
 * @example
 * ```ts
 * const riskLevel: RiskLevelOption = { get_weather: 'read_only', delete_user: 'irreversible' };
 * ```
 */
export type RiskLevelOption<NAME extends string = string> =
  RiskLevel | Partial<Record<NAME, RiskLevel>> | ((call: ToolCallInfo) => RiskLevel | undefined);

/**
 * The model's confidence in a call, in [0, 1]: one number or a function of the call. Absent, or
 * `undefined` from the function, means 0, as in `@hitl/core`. A function that throws or returns a
 * value outside [0, 1] refuses the call (`reason: 'callback_failed'`): it never runs.
 *
 * @example
 * ```ts
 * const confidence: ConfidenceOption = (call) => (call.toolName === 'get_weather' ? 0.95 : 0.5);
 * ```
 */
export type ConfidenceOption = number | ((call: ToolCallInfo) => number | undefined);

/**
 * What every entry point of this package reads about a call besides its risk: the confidence, the
 * context conditions see, and where a call refused because a callback failed is logged.
 *
 * @example
 * ```ts
 * const options: CallOptions = { confidence: 0.9, requestedBy: 'user:42', threadId: (call) => call.toolCallId };
 * ```
 */
export interface CallOptions {
  /** The model's confidence, in [0, 1]. Absent means 0, as in `@hitl/core`. */
  confidence?: ConfidenceOption;
  /** Who the agent acts for (`requestedBy`; that person may not approve a stored request): a value or a function of the call. */
  requestedBy?: string | ((call: ToolCallInfo) => string | undefined);
  /** The conversation the call belongs to (`threadId`, which conditions read too): a value or a function of the call. */
  threadId?: string | ((call: ToolCallInfo) => string | undefined);
  /** The agent turn (`runId`): a value or a function of the call. */
  runId?: string | ((call: ToolCallInfo) => string | undefined);
  /** Where a call refused because a `riskLevel` or `confidence` callback failed is logged (`warn`). Default `console`. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * {@link CallOptions} plus what shapes a stored request: the description reviewers read and its timeout.
 *
 * @example
 * ```ts
 * const options: RequestOptions = { describe: (call) => `${call.toolName} for the customer`, timeoutMs: 60_000 };
 * ```
 */
export interface RequestOptions extends CallOptions {
  /** The description reviewers see. Default: the tool name and its JSON arguments. */
  describe?: (call: ToolCallInfo) => string;
  /** Overrides the policy's and the manager's timeout for the requests made. */
  timeoutMs?: number;
}

/**
 * The parts of an AI SDK tool this package reads and replaces. Tools made with `tool()` from
 * `ai` 6 and 7 fit it.
 *
 * @example
 * ```ts
 * const tools: Record<string, ToolLike> = { get_weather: tool({ inputSchema, execute }) };
 * ```
 */
export interface ToolLike {
  inputSchema?: unknown;
  execute?: ((input: never, options: never) => unknown) | undefined;
  toModelOutput?: ((options: never) => unknown) | undefined;
}

/**
 * A tool set (`Record<name, tool>`), as passed to `generateText({ tools })`.
 *
 * @example
 * ```ts
 * const tools: ToolSetLike = { get_weather: weatherTool, delete_user: deleteUserTool };
 * ```
 */
export type ToolSetLike = Record<string, ToolLike>;

/**
 * What a wrapped tool returns to the model instead of running when a call is refused: the
 * {@link ToolRejection} (the shape every hitl adapter shares, without the recorded response), marked
 * `rejected: true`, with `message`, the sentence the model reads (`defaultRejectionMessage`).
 *
 * @example
 * ```ts
 * const output: ToolRejectionOutput = {
 *   rejected: true,
 *   reason: 'reviewer',
 *   toolName: 'send_email',
 *   requestId: 'hitl-1',
 *   feedback: 'not on a Sunday',
 *   message: 'Rejected by reviewer: not on a Sunday',
 * };
 * ```
 */
export interface ToolRejectionOutput extends Omit<ToolRejection, 'response'> {
  rejected: true;
  message: string;
}

/**
 * A `tool-approval-response` content part, as `ai` 6 and 7 read it from a `role: 'tool'` message.
 *
 * @example
 * ```ts
 * const part: ToolApprovalResponsePart = { type: 'tool-approval-response', approvalId: 'a1', approved: true };
 * ```
 */
export interface ToolApprovalResponsePart {
  type: 'tool-approval-response';
  approvalId: string;
  approved: boolean;
  reason?: string;
}

/**
 * The `role: 'tool'` message that carries approval responses into the next `generateText` or
 * `streamText` call.
 *
 * @example
 * ```ts
 * const next = await generateText({ model, tools, messages: [...history, message] });
 * ```
 */
export interface ToolApprovalMessage {
  role: 'tool';
  content: ToolApprovalResponsePart[];
}

/**
 * Where approval requests are read from: a `generateText` result (or a finished `streamText`
 * result; its `steps` or `content` are awaited), or an array of content parts and/or model
 * messages (for example the conversation you are about to send).
 *
 * @example
 * ```ts
 * await submitApprovalRequests(manager, result, { riskLevel });
 * await toApprovalResponses(manager, [...history, ...result.response.messages]);
 * ```
 */
export type ApprovalRequestSource = readonly unknown[] | { readonly steps?: unknown; readonly content?: unknown };
