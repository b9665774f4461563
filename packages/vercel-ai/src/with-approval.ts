/** `withApproval` for AI SDK tools: each call goes through the manager's policies before `execute` runs. */
import { defaultRejectionMessage, HitlError, toolNameProblem, type Manager, type ToolRejection } from '@hitl/core';
import { invalidInput, rejectionOfResponse } from '@hitl/core/internal';
import {
  buildRequest,
  compileAssessment,
  evaluateCall,
  isObject,
  optionalFunction,
  requireManager,
  requireOptions,
  validateShaping,
  type Assessment,
  type CallEvaluation,
  type RequestShaping,
} from './assessment.js';
import type { RequestOptions, RiskLevelOption, ToolCallInfo, ToolLike, ToolRejectionOutput, ToolSetLike } from './types.js';
import { toolJsonSchema, validateToolInput } from './validate-input.js';

/**
 * What {@link WithApprovalOptions.formatRejection} receives when a call is refused: the call and the
 * {@link ToolRejection} (`reason`, `requestId`, `feedback`, and the manager's `response` when there was one).
 *
 * @example
 * ```ts
 * const formatRejection = (details: RejectionDetails) => `Not done (${details.reason}): ${details.feedback ?? 'no reason given'}`;
 * ```
 */
export interface RejectionDetails extends ToolCallInfo, ToolRejection {}

/**
 * Options of {@link withApproval}.
 *
 * @example
 * ```ts
 * const options: WithApprovalOptions<typeof tools> = {
 *   manager,
 *   riskLevel: { get_weather: 'read_only', delete_user: 'irreversible', send_email: 'data_modification' },
 *   confidence: 0.9,
 *   requestedBy: 'agent:support-bot',
 * };
 * ```
 */
export interface WithApprovalOptions<TOOLS extends ToolSetLike = ToolSetLike> extends RequestOptions {
  manager: Manager;
  /** Per tool name, one level for all, or a function of the call. Unknown tools count as `'irreversible'`. */
  riskLevel: RiskLevelOption<Extract<keyof TOOLS, string>>;
  /** What a refused call returns to the model. Default: a {@link ToolRejectionOutput} (`{ rejected: true, reason, toolName, requestId, feedback, message }`). */
  formatRejection?: (details: RejectionDetails) => unknown;
}

/**
 * True when a tool result is the {@link ToolRejectionOutput} a wrapped tool returned instead of running.
 *
 * @example
 * ```ts
 * for (const result of response.toolResults) {
 *   if (isToolRejection(result.output)) console.log(`${result.toolName} was rejected: ${result.output.message}`);
 * }
 * ```
 */
export function isToolRejection(value: unknown): value is ToolRejectionOutput {
  return isObject(value) && value.rejected === true && typeof value.reason === 'string';
}

type Execute = (input: unknown, options: ExecutionOptions | undefined) => unknown;

interface ExecutionOptions {
  toolCallId?: string;
  abortSignal?: AbortSignal;
}

/** The result of asking: run with this input, or return this rejection instead. */
type Verdict = { run: true; input: unknown } | { run: false; rejection: unknown };

interface Gate {
  manager: Manager;
  assessment: Assessment;
  shaping: RequestShaping;
  formatRejection: (details: RejectionDetails) => unknown;
}

function defaultRejection(details: RejectionDetails): ToolRejectionOutput {
  const { reason, toolName, requestId, feedback } = details;
  return {
    rejected: true,
    reason,
    toolName,
    ...(requestId === undefined ? {} : { requestId }),
    ...(feedback === undefined ? {} : { feedback }),
    message: defaultRejectionMessage(details),
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return isObject(value) && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

function isAsyncGeneratorFunction(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object AsyncGeneratorFunction]';
}

/** The final value of a streamed output: the SDK's final tool result is the last one yielded. */
async function lastValue(iterable: AsyncIterable<unknown>): Promise<unknown> {
  let last: unknown;
  for await (const value of iterable) last = value;
  return last;
}

/** Asks the manager about a call that the policies did not auto-approve (a call nobody could judge is refused at once). */
async function ask(
  gate: Gate,
  tool: ToolLike,
  call: ToolCallInfo,
  evaluated: CallEvaluation,
  options: ExecutionOptions | undefined,
): Promise<Verdict> {
  if (evaluated.refusal) return { run: false, rejection: gate.formatRejection({ ...call, ...evaluated.refusal }) };
  const request = buildRequest(call, evaluated, gate.shaping, { toolCallId: call.toolCallId });
  const inputSchema = await toolJsonSchema(tool.inputSchema);
  if (inputSchema !== undefined) request.inputSchema = inputSchema;
  const signal = options?.abortSignal;
  const response = await gate.manager.requestInteraction(request, signal ? { signal } : {});
  switch (response.decision) {
    case 'approve':
      return { run: true, input: call.input };
    case 'modify': {
      const checked = await validateToolInput(tool.inputSchema, response.modified);
      if (!checked.success) {
        throw new HitlError(
          'invalid_input',
          `modified input for tool '${call.toolName}' (request '${response.requestId}') does not match the tool's inputSchema, so the tool was not run: ${checked.message}`,
          { details: { field: 'modified', ids: [response.requestId] } },
        );
      }
      return { run: true, input: checked.value };
    }
    default: {
      const details: RejectionDetails = { ...call, ...rejectionOfResponse(call.toolName, response.requestId, response) };
      return { run: false, rejection: gate.formatRejection(details) };
    }
  }
}

function callOf(toolName: string, input: unknown, options: ExecutionOptions | undefined): ToolCallInfo {
  return { toolName, toolCallId: typeof options?.toolCallId === 'string' ? options.toolCallId : '', input };
}

function wrapExecute(gate: Gate, toolName: string, tool: ToolLike): Execute {
  const original = tool.execute as unknown as Execute;
  const execute: Execute = (input, options) => original.call(tool, input, options);

  if (isAsyncGeneratorFunction(original)) {
    return async function* gatedStream(input: unknown, options: ExecutionOptions | undefined) {
      const call = callOf(toolName, input, options);
      const evaluated = evaluateCall(gate.manager, gate.assessment, call, gate.shaping);
      if (evaluated.evaluation.outcome === 'approve') {
        yield* execute(input, options) as AsyncIterable<unknown>;
        return;
      }
      const verdict = await ask(gate, tool, call, evaluated, options);
      if (!verdict.run) {
        yield verdict.rejection;
        return;
      }
      yield* execute(verdict.input, options) as AsyncIterable<unknown>;
    };
  }

  const reviewed = async (call: ToolCallInfo, evaluated: CallEvaluation, options: ExecutionOptions | undefined): Promise<unknown> => {
    const verdict = await ask(gate, tool, call, evaluated, options);
    if (!verdict.run) return verdict.rejection;
    const output = await execute(verdict.input, options);
    return isAsyncIterable(output) ? lastValue(output) : output;
  };

  return function gated(input: unknown, options: ExecutionOptions | undefined) {
    const call = callOf(toolName, input, options);
    // The hot path: auto-approved calls run at once, with no store write and no await.
    const evaluated = evaluateCall(gate.manager, gate.assessment, call, gate.shaping);
    if (evaluated.evaluation.outcome === 'approve') return execute(input, options);
    return reviewed(call, evaluated, options);
  };
}

/**
 * Wraps every tool's `execute` so that each call goes through the manager's policies first:
 *
 * - auto-approved (`manager.evaluate` says `approve`): runs at once; nothing is stored;
 * - needs review: `manager.requestInteraction` stores a pending request and waits for a human
 *   (the SDK's `abortSignal` is honoured: aborting cancels the request); approve runs the tool;
 *   modify re-validates the edited arguments against the tool's `inputSchema`, then runs it;
 *   reject (by a reviewer, a `deny` policy, or an expiry with `onTimeout: 'reject'`) returns a
 *   {@link ToolRejectionOutput} to the model instead of running the tool;
 * - a `riskLevel` or `confidence` function that throws or returns an invalid value: the call is
 *   refused at once (`reason: 'callback_failed'`, the feedback names the callback and its error),
 *   logged to `logger`, and nobody is asked;
 * - expiry with `onTimeout: 'error'`, a cancelled request or an invalid edit throw `HitlError`,
 *   which the SDK reports to the model as a tool error. The tool body never runs then.
 *
 * Tools without `execute` (client-side or provider-executed tools) are returned as they are.
 * The returned set has the same names, schemas and types as `tools`; a rejected call's output
 * is the rejection value, which {@link isToolRejection} recognises.
 *
 * @example
 * ```ts
 * import { generateText, stepCountIs, tool } from 'ai';
 * import { z } from 'zod';
 * import { createManager } from '@hitl/core';
 * import { withApproval } from '@hitl/vercel-ai';
 *
 * const manager = createManager();
 * manager.addPolicy({ name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' });
 * manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
 *
 * const tools = withApproval(
 *   {
 *     get_weather: tool({ inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => ({ city, celsius: 21 }) }),
 *     delete_user: tool({ inputSchema: z.object({ user_id: z.string() }), execute: async ({ user_id }) => deleteUser(user_id) }),
 *   },
 *   { manager, riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' }, confidence: 0.9 },
 * );
 * const result = await generateText({ model, tools, stopWhen: stepCountIs(5), prompt: 'Remove user 42' });
 * ```
 */
export function withApproval<TOOLS extends ToolSetLike>(tools: TOOLS, options: NoInfer<WithApprovalOptions<TOOLS>>): TOOLS {
  if (!isObject(tools) || Array.isArray(tools)) throw invalidInput('tools', tools, 'must be an object of tools keyed by name');
  const checked = requireOptions(options);
  const gate: Gate = {
    manager: requireManager(checked.manager, 'options.manager'),
    assessment: compileAssessment(checked),
    shaping: validateShaping(checked),
    formatRejection:
      optionalFunction<(details: RejectionDetails) => unknown>('options.formatRejection', checked.formatRejection) ?? defaultRejection,
  };

  const wrapped: Record<string, ToolLike> = {};
  for (const [name, tool] of Object.entries(tools)) {
    if (!isObject(tool)) throw invalidInput(`tools.${name}`, tool, 'must be a tool object');
    const nameProblem = toolNameProblem(name);
    if (nameProblem !== undefined) throw invalidInput('tools', name, `has a key that is not a valid tool name: it ${nameProblem}`);
    if (tool.execute === undefined) {
      wrapped[name] = tool;
      continue;
    }
    if (typeof tool.execute !== 'function') throw invalidInput(`tools.${name}.execute`, tool.execute, 'must be a function');
    const copy: ToolLike = { ...tool, execute: wrapExecute(gate, name, tool) as ToolLike['execute'] };
    const toModelOutput = tool.toModelOutput as ((options: { output: unknown }) => unknown) | undefined;
    if (typeof toModelOutput === 'function') {
      // A tool's own toModelOutput expects its own output type: hand it everything but our rejection.
      copy.toModelOutput = ((modelOutputOptions: { output: unknown }) =>
        isToolRejection(modelOutputOptions.output)
          ? { type: 'json', value: { ...modelOutputOptions.output } }
          : toModelOutput.call(tool, modelOutputOptions)) as ToolLike['toModelOutput'];
    }
    wrapped[name] = copy;
  }
  return wrapped as TOOLS;
}
