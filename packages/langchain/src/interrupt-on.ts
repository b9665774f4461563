/** `toInterruptOn`: LangChain's `interruptOn` option built from the manager's policies, and how interrupt calls are judged. */
import { checkedConfidence, checkedRiskLevel, invalidInput, isPlainObject, requireManager } from '@hitl/core/internal';
import type { Manager, RiskLevel } from '@hitl/core';
import type { ToolCall } from '@langchain/core/messages/tool';
import { toJsonSchema } from '@langchain/core/utils/json_schema';
import type { DecisionType, InterruptOnConfig } from 'langchain';
import { callbackFailure, isPromiseLike, validateConfidenceOption, validateOptionalFunction, validateRiskOption } from './review.js';

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

export const ALL_DECISIONS: DecisionType[] = ['approve', 'edit', 'reject'];

export function validatePolicyOptions(options: unknown, field: string): asserts options is InterruptPolicyOptions {
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

export async function judge(
  options: InterruptPolicyOptions,
  toolCall: ToolCall,
): Promise<{ riskLevel: RiskLevel; confidence: number | undefined }> {
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
