/** LangChain's own interrupt path through the manager: `toInterruptOn`, `submitInterrupt`, `waitForInterruptDecisions`. */
import { hashInput, HitlError } from '@hitl/core';
import { checkedConfidence, checkedRiskLevel, errorMessage, invalidInput, isPlainObject, requireManager } from '@hitl/core/internal';
import type { ApprovalRecord, InteractionRequest, InteractionResponse, Manager, RiskLevel } from '@hitl/core';
import type { ToolCall } from '@langchain/core/messages/tool';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import type { ActionRequest, Decision as HitlDecision, DecisionType, HITLRequest, HITLResponse, InterruptOnConfig } from 'langchain';
import { defaultRejectionMessage } from './rejection.js';
import {
  callbackFailure,
  defaultDescription,
  isPromiseLike,
  validateConfidenceOption,
  validateOptionalFunction,
  validateRiskOption,
} from './review.js';

/**
 * How calls on LangChain's own interrupt path are judged: the same risk and confidence inputs as
 * {@link approvalMiddleware}, computed from the tool call alone (no agent state is at hand when an
 * interrupt is carried through the manager).
 *
 * @example
 * ```ts
 * const options: InterruptPolicyOptions = {
 *   riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' },
 *   confidence: (toolCall) => (toolCall.args.user_id === 'admin' ? 0 : 0.9),
 * };
 * ```
 */
export interface InterruptPolicyOptions {
  /** One level for every tool, a level per tool name (missing tools count as `irreversible`), or a function of the call. */
  riskLevel: RiskLevel | Partial<Record<string, RiskLevel>> | ((toolCall: ToolCall) => RiskLevel);
  /** In [0, 1], fixed or per call. Absent counts as 0 for the policies. */
  confidence?: number | ((toolCall: ToolCall) => number | Promise<number>);
  /** What the reviewer reads. Default: LangChain's description (`toInterruptOn`) or the tool name and arguments (`submitInterrupt`). */
  describe?: (toolCall: ToolCall) => string;
}

/**
 * A tool as `toInterruptOn` needs it: a name, and a schema to show reviewers who edit arguments.
 *
 * @example
 * ```ts
 * const tools: InterruptTool[] = [deleteUser, 'send_email'];
 * ```
 */
export type InterruptTool = string | { name: string; schema?: unknown };

const ALL_DECISIONS: DecisionType[] = ['approve', 'edit', 'reject'];

function validatePolicyOptions(options: unknown, field: string): asserts options is InterruptPolicyOptions {
  if (!isPlainObject(options)) throw invalidInput(field, options, 'must be an object');
  validateRiskOption(`${field}.riskLevel`, options.riskLevel, true);
  validateConfidenceOption(`${field}.confidence`, options.confidence);
  validateOptionalFunction(`${field}.describe`, options.describe);
}

/** The risk level the options give a tool without looking at a call, or `undefined` when it depends on the call. */
function fixedRisk(options: InterruptPolicyOptions, toolName: string): RiskLevel | undefined {
  const { riskLevel } = options;
  if (typeof riskLevel === 'string') return riskLevel;
  if (typeof riskLevel === 'function') return undefined;
  return riskLevel[toolName] ?? 'irreversible';
}

async function judge(options: InterruptPolicyOptions, toolCall: ToolCall): Promise<{ riskLevel: RiskLevel; confidence: number | undefined }> {
  const { riskLevel, confidence } = options;
  let level = fixedRisk(options, toolCall.name);
  if (level === undefined) {
    try {
      level = checkedRiskLevel(toolCall.name, (riskLevel as (call: ToolCall) => unknown)(toolCall));
    } catch (error) {
      throw callbackFailure('riskLevel', toolCall.name, error);
    }
  }
  let score: unknown = confidence;
  if (typeof confidence === 'function') {
    try {
      score = confidence(toolCall);
      if (isPromiseLike(score)) score = await score;
    } catch (error) {
      throw callbackFailure('confidence', toolCall.name, error);
    }
  }
  return { riskLevel: level, confidence: checkedConfidence(toolCall.name, score) };
}

function argsSchemaOf(tool: InterruptTool): Record<string, unknown> | undefined {
  if (typeof tool === 'string' || tool.schema === undefined) return undefined;
  try {
    return toJsonSchema(tool.schema as Parameters<typeof toJsonSchema>[0]) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Builds the `interruptOn` option of LangChain's `humanInTheLoopMiddleware` from the manager's
 * policies, for agents that pause through LangGraph interrupts and checkpoints instead of waiting
 * in process:
 *
 * - a tool the policies approve whatever the call -> `false` (never interrupts);
 * - a tool a policy denies (`deny: true`, or `defaultOutcome: 'deny'`) -> interrupts with only
 *   `reject` allowed;
 * - a tool that always needs a human -> interrupts with `approve`, `edit` and `reject`;
 * - a tool whose outcome depends on the call (a `riskLevel` or `confidence` function, or a
 *   confidence near a policy's threshold) -> interrupts with all three decisions, with a `when`
 *   predicate that runs the policies on each call and interrupts unless they approve (and interrupts
 *   when a callback fails: fail closed).
 *
 * The result is a snapshot of the policies: build it again after `addPolicy`/`removePolicy`.
 * Edited arguments are checked by the tool's schema when the tool runs (LangChain's middleware does
 * not check them before).
 *
 * @example
 * ```ts
 * import { createAgent, humanInTheLoopMiddleware } from 'langchain';
 * import { MemorySaver } from '@langchain/langgraph';
 * import { toInterruptOn } from '@hitl/langchain/middleware';
 *
 * const agent = createAgent({
 *   model,
 *   tools: [getWeather, deleteUser],
 *   checkpointer: new MemorySaver(),
 *   middleware: [
 *     humanInTheLoopMiddleware({
 *       interruptOn: toInterruptOn(manager, [getWeather, deleteUser], {
 *         riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' },
 *       }),
 *     }),
 *   ],
 * });
 * ```
 */
export function toInterruptOn(
  manager: Manager,
  tools: readonly InterruptTool[],
  options: InterruptPolicyOptions,
): Record<string, boolean | InterruptOnConfig> {
  requireManager(manager, ['evaluate']);
  if (!Array.isArray(tools)) throw invalidInput('tools', tools, 'must be an array of tools or tool names');
  validatePolicyOptions(options, 'options');
  const { describe } = options;
  const interruptOn: Record<string, boolean | InterruptOnConfig> = {};
  tools.forEach((tool: InterruptTool, index) => {
    const toolName = typeof tool === 'string' ? tool : (tool as { name?: unknown } | null)?.name;
    if (typeof toolName !== 'string' || toolName === '') {
      throw invalidInput(`tools[${index}]`, tool, 'must be a tool with a non-empty name, or a tool name');
    }
    const description = describe ? (toolCall: ToolCall) => describe(toolCall) : undefined;
    const best = manager.evaluate(toolName, 1, 'read_only');
    if (best.outcome === 'deny') {
      interruptOn[toolName] = { allowedDecisions: ['reject'], description: describe ? description : `Denied by policy: ${best.reason}` };
      return;
    }
    const review: InterruptOnConfig = { allowedDecisions: [...ALL_DECISIONS] };
    if (description) review.description = description;
    const argsSchema = argsSchemaOf(tool);
    if (argsSchema) review.argsSchema = argsSchema;
    if (best.outcome === 'review') {
      interruptOn[toolName] = review;
      return;
    }
    const level = fixedRisk(options, toolName);
    if (level !== undefined && typeof options.confidence !== 'function') {
      interruptOn[toolName] = manager.evaluate(toolName, options.confidence, level).outcome === 'approve' ? false : review;
      return;
    }
    if (manager.evaluate(toolName, 0, 'irreversible').outcome === 'approve') {
      interruptOn[toolName] = false;
      return;
    }
    review.when = async (request) => {
      try {
        const { riskLevel, confidence } = await judge(options, request.toolCall);
        return manager.evaluate(toolName, confidence, riskLevel).outcome !== 'approve';
      } catch {
        return true;
      }
    };
    interruptOn[toolName] = review;
  });
  return interruptOn;
}

/**
 * A LangGraph interrupt raised by `humanInTheLoopMiddleware`: `result.__interrupt__[0]`.
 *
 * @example
 * ```ts
 * const pending: HitlInterrupt | undefined = result.__interrupt__?.[0];
 * ```
 */
export interface HitlInterrupt {
  id?: string;
  value?: HITLRequest | unknown;
}

/**
 * Options of {@link submitInterrupt}.
 *
 * @example
 * ```ts
 * const options: SubmitInterruptOptions = { riskLevel: { delete_user: 'irreversible' }, requestedBy: 'alice', threadId: 'thread-1' };
 * ```
 */
export interface SubmitInterruptOptions extends InterruptPolicyOptions {
  /** Who the agent acts for (that person may not approve their own request). */
  requestedBy?: string;
  /** Overrides the policy's and the manager's timeout. */
  timeoutMs?: number;
  /** The thread to resume (`configurable.thread_id`): each record's `threadId`, so reviewers (and you) can find it. */
  threadId?: string;
  /** The agent turn the interrupt belongs to: each record's `runId`. */
  runId?: string;
}

const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

function actionsOf(interrupt: unknown): { interruptId: string; actions: ActionRequest[]; reviewConfigs: HITLRequest['reviewConfigs'] } {
  if (typeof interrupt !== 'object' || interrupt === null) {
    throw invalidInput('interrupt', interrupt, 'must be a LangGraph interrupt (result.__interrupt__[0])');
  }
  const { id, value } = interrupt as HitlInterrupt;
  if (typeof id !== 'string' || !ID_PATTERN.test(id) || id.length > 100) {
    throw invalidInput('interrupt.id', id, 'must be the interrupt id LangGraph gave (letters, digits and ._:-, at most 100 characters)');
  }
  const request = value as Partial<HITLRequest> | undefined;
  if (!request || !Array.isArray(request.actionRequests) || !Array.isArray(request.reviewConfigs)) {
    throw invalidInput('interrupt.value', value, "must be a humanInTheLoopMiddleware request ({ actionRequests, reviewConfigs })");
  }
  request.actionRequests.forEach((action, index) => {
    if (!isPlainObject(action) || typeof action.name !== 'string' || action.name === '' || !isPlainObject(action.args)) {
      throw invalidInput(`interrupt.value.actionRequests[${index}]`, action, 'must be { name, args }');
    }
  });
  return { interruptId: id, actions: request.actionRequests, reviewConfigs: request.reviewConfigs };
}

function recordId(interruptId: string, index: number): string {
  return `lg-${interruptId}-${index}`;
}

/**
 * Carries an interrupt of LangChain's `humanInTheLoopMiddleware` into the manager: one record per
 * action request, so reviewers decide them where they decide everything else (the dashboard, the
 * REST API). Record ids are derived from the interrupt id and the action's position, so submitting
 * the same interrupt again (after a restart, say) returns the same records. The policies run as for
 * any request: a denied tool's record is rejected at once. Pair it with
 * {@link waitForInterruptDecisions} to build the `Command({ resume })` value.
 *
 * @example
 * ```ts
 * const result = await agent.invoke({ messages }, { configurable: { thread_id: 'thread-1' } });
 * const pending = result.__interrupt__?.[0];
 * if (pending) await submitInterrupt(manager, pending, { riskLevel: { delete_user: 'irreversible' }, threadId: 'thread-1' });
 * ```
 */
export async function submitInterrupt(manager: Manager, interrupt: HitlInterrupt, options: SubmitInterruptOptions): Promise<ApprovalRecord[]> {
  requireManager(manager, ['submit']);
  validatePolicyOptions(options, 'options');
  const { requestedBy, timeoutMs, threadId, runId, describe } = options;
  if (requestedBy !== undefined && (typeof requestedBy !== 'string' || requestedBy === '')) {
    throw invalidInput('options.requestedBy', requestedBy, 'must be a non-empty string');
  }
  if (threadId !== undefined && typeof threadId !== 'string') throw invalidInput('options.threadId', threadId, 'must be a string');
  if (runId !== undefined && typeof runId !== 'string') throw invalidInput('options.runId', runId, 'must be a string');
  const { interruptId, actions } = actionsOf(interrupt);
  const requests = await Promise.all(
    actions.map(async (action, index): Promise<InteractionRequest> => {
      const toolCall: ToolCall = { name: action.name, args: action.args, type: 'tool_call' };
      const { riskLevel, confidence } = await judge(options, toolCall);
      let description = action.description ?? defaultDescription(action.name, action.args);
      if (describe) {
        try {
          description = describe(toolCall);
        } catch (error) {
          throw callbackFailure('describe', action.name, error);
        }
      }
      const metadata: Record<string, unknown> = { interruptId, actionIndex: index };
      const request: InteractionRequest = { id: recordId(interruptId, index), toolName: action.name, description, input: action.args, riskLevel, metadata };
      if (confidence !== undefined) request.confidence = confidence;
      if (requestedBy !== undefined) request.requestedBy = requestedBy;
      if (threadId !== undefined) request.threadId = threadId;
      if (runId !== undefined) request.runId = runId;
      if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
      return request;
    }),
  );
  const records: ApprovalRecord[] = [];
  for (const request of requests) records.push(await manager.submit(request));
  return records;
}

function rejectDecision(action: ActionRequest, record: ApprovalRecord, response: InteractionResponse | undefined, note?: string): HitlDecision {
  if (note !== undefined) return { type: 'reject', message: `Rejected: ${note}` };
  const reason = record.status === 'expired' ? 'timeout' : response?.automatic ? 'policy' : 'reviewer';
  const message = defaultRejectionMessage({
    reason,
    toolName: action.name,
    requestId: record.request.id,
    ...(response?.feedback !== undefined ? { feedback: response.feedback } : {}),
  });
  return { type: 'reject', message };
}

/**
 * The resume value of {@link waitForInterruptDecisions}: the `HITLResponse`, keyed by the id of the
 * interrupt it answers, so LangGraph applies it to that interrupt only.
 *
 * @example
 * ```ts
 * const resume: InterruptResume = { 'a1b2c3': { decisions: [{ type: 'approve' }] } };
 * ```
 */
export type InterruptResume = Record<string, HITLResponse>;

/**
 * Waits until every record {@link submitInterrupt} made for `interrupt` is decided, then returns the
 * resume value for `new Command({ resume })`, keyed by the interrupt's id: a bare `HITLResponse`
 * would apply to whatever interrupt the thread holds when it resumes, so if the thread moved on in
 * between, an approval of one call could run another. Each decision: approve -> `approve`, modify ->
 * `edit` with the reviewer's arguments, reject (or a policy's denial, or an expiry with
 * `onTimeout: 'reject'`) -> `reject` with the message the model reads. A decision the interrupt does
 * not allow for that tool (approving a tool that only allows `reject`) becomes a `reject`.
 *
 * Refuses with `HitlError('conflict')` when a record's tool or `inputHash` does not match the
 * interrupt's action (an approval binds to the exact arguments it was given for), and with
 * `HitlError('not_found')` when the interrupt was never submitted. Expiry with `onTimeout: 'error'`
 * throws `HitlError('timeout')`; aborting `signal` stops waiting (`HitlError('cancelled')`) and leaves
 * the records pending, so a later call can pick them up.
 *
 * @example
 * ```ts
 * import { Command } from '@langchain/langgraph';
 *
 * const resume = await waitForInterruptDecisions(manager, pending);
 * await agent.invoke(new Command({ resume }), { configurable: { thread_id: 'thread-1' } });
 * ```
 */
export async function waitForInterruptDecisions(
  manager: Manager,
  interrupt: HitlInterrupt,
  options: { signal?: AbortSignal } = {},
): Promise<InterruptResume> {
  requireManager(manager, ['get', 'waitFor']);
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { signal } = options;
  const { interruptId, actions, reviewConfigs } = actionsOf(interrupt);
  const records = await Promise.all(actions.map((_action, index) => manager.get(recordId(interruptId, index))));
  actions.forEach((action, index) => {
    const record = records[index];
    const id = recordId(interruptId, index);
    if (!record) throw new HitlError('not_found', `request '${id}' does not exist: submit the interrupt with submitInterrupt() first`, { details: { ids: [id] } });
    let hash: string;
    try {
      hash = hashInput(action.args);
    } catch (error) {
      throw new HitlError('invalid_input', `interrupt action ${index} has arguments that are not JSON: ${errorMessage(error)}`, {
        cause: error,
        details: { field: `actionRequests[${index}].args` },
      });
    }
    if (record.request.toolName !== action.name || record.inputHash !== hash) {
      throw new HitlError('conflict', `request '${id}' was decided for other arguments than interrupt action ${index} ('${action.name}') now carries`, {
        details: { ids: [id] },
      });
    }
  });
  const responses = await Promise.all(actions.map((_action, index) => manager.waitFor(recordId(interruptId, index), signal ? { signal } : {})));
  const decided = await Promise.all(actions.map((_action, index) => manager.get(recordId(interruptId, index))));
  const decisions = actions.map((action, index): HitlDecision => {
    const response = responses[index];
    const record = decided[index] ?? records[index];
    if (!record) throw new HitlError('not_found', `request '${recordId(interruptId, index)}' does not exist`, { details: { ids: [recordId(interruptId, index)] } });
    const allowed = reviewConfigs.find((config) => config.actionName === action.name)?.allowedDecisions ?? ALL_DECISIONS;
    if (response?.decision === 'approve') {
      return allowed.includes('approve') ? { type: 'approve' } : rejectDecision(action, record, response, `'${action.name}' may not be approved here`);
    }
    if (response?.decision === 'modify' && response.modified) {
      return allowed.includes('edit')
        ? { type: 'edit', editedAction: { name: action.name, args: response.modified } }
        : rejectDecision(action, record, response, `'${action.name}' may not be edited here`);
    }
    return rejectDecision(action, record, response);
  });
  return { [interruptId]: { decisions } };
}
