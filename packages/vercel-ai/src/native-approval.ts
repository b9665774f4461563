/** The AI SDK's own approval hooks driven by the manager's policies: `needsApproval` (ai 6) and `toolApproval` (ai 7). */
import { invalidInput } from '@hitl/core/internal';
import type { Manager, RiskLevel } from '@hitl/core';
import { approvalRequestId, recordFor, verdictOf } from './approval-bridge.js';
import { findApprovalResponse } from './approval-messages.js';
import {
  compileAssessment,
  evaluateCall,
  validateContextOptions,
  optionalIdPrefix,
  refusalError,
  requireManager,
  requireOptions,
} from './assessment.js';
import type { CallOptions, RiskLevelOption, ToolCallInfo } from './types.js';

/**
 * Options of {@link needsApproval}. The SDK does not tell a tool's `needsApproval` its own name,
 * so it is given here.
 *
 * @example
 * ```ts
 * const options: NeedsApprovalOptions = { toolName: 'delete_user', riskLevel: 'irreversible', confidence: 0.9 };
 * ```
 */
export interface NeedsApprovalOptions extends CallOptions {
  toolName: string;
  riskLevel: RiskLevel | ((call: ToolCallInfo) => RiskLevel | undefined);
  /** The `idPrefix` given to {@link submitApprovalRequests}, if any. Default `'ai-approval:'`. */
  idPrefix?: string;
}

/**
 * The function `needsApproval` returns: the shape `tool({ needsApproval })` of `ai` 6 calls.
 *
 * @example
 * ```ts
 * const check: NeedsApprovalFunction = needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' });
 * ```
 */
export type NeedsApprovalFunction = (
  input: unknown,
  options: { toolCallId: string; messages?: readonly unknown[] },
) => boolean | Promise<boolean>;

/**
 * True when the SDK that calls `needsApproval` is `ai` 7: it passes `context`, where `ai` 6 passes
 * `experimental_context`. `ai` 7 runs a resumed call when `needsApproval` says `false`, `ai` 6
 * denies it, so the resume check below only answers `false` to `ai` 6.
 */
function calledByVersion7(options: object | undefined): boolean {
  return options !== undefined && 'context' in options && !('experimental_context' in options);
}

/**
 * A tool's `needsApproval` for `ai` 6, driven by the manager's policies.
 *
 * On a new call it returns `false` when the policies auto-approve it (it runs at once and never
 * reaches a person) and `true` otherwise, also when a `deny` policy refuses it: the SDK then
 * returns a `tool-approval-request` instead of running the tool. {@link submitApprovalRequests}
 * stores a denied call as already rejected and {@link toApprovalResponses} answers it
 * `approved: false` with the policy's reason.
 *
 * When `ai` 6 resumes a call approved in the messages, it asks `needsApproval` again and denies
 * the call on `false`. This function answers `false` then when a `deny` policy matches, or when
 * the approval is a manager request (stored by {@link submitApprovalRequests}) that is not
 * approved for exactly these arguments, or cannot be read. So a denied call never runs, even
 * when someone approves it in a chat UI. Approvals made outside the manager otherwise pass.
 * A new call costs one synchronous `manager.evaluate`; nothing is stored.
 *
 * In `ai` 7 tool-level `needsApproval` is deprecated, and a `false` there runs a resumed call, so
 * on `ai` 7 this function skips the resume check; use {@link toolApproval} with `ai` 7.
 *
 * @example
 * ```ts
 * import { tool } from 'ai';
 * import { needsApproval } from '@hitl/vercel-ai';
 *
 * const deleteUser = tool({
 *   inputSchema: z.object({ user_id: z.string() }),
 *   needsApproval: needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible', confidence: 0.9 }),
 *   execute: async ({ user_id }) => db.deleteUser(user_id),
 * });
 * ```
 */
export function needsApproval(manager: Manager, options: NeedsApprovalOptions): NeedsApprovalFunction {
  const checkedManager = requireManager(manager);
  const checked = requireOptions(options);
  const toolName = checked.toolName;
  if (typeof toolName !== 'string' || toolName.trim() === '')
    throw invalidInput('options.toolName', toolName, 'must be a non-empty string');
  const assessment = compileAssessment(checked);
  const idPrefix = optionalIdPrefix('options.idPrefix', checked.idPrefix);
  const context = validateContextOptions(checked);

  const resumed = async (call: ToolCallInfo, approvalId: string): Promise<boolean> => {
    const record = await recordFor(checkedManager, approvalRequestId(approvalId, idPrefix === undefined ? {} : { idPrefix }));
    if (record instanceof Error) return false;
    if (!record) return true;
    return verdictOf(record, call)?.approved === true;
  };

  return (input, callOptions) => {
    const toolCallId = typeof callOptions?.toolCallId === 'string' ? callOptions.toolCallId : '';
    const call: ToolCallInfo = { toolName, toolCallId, input };
    const evaluated = evaluateCall(checkedManager, assessment, call, context);
    // A boolean cannot refuse: a call nobody can judge (a failed riskLevel/confidence callback) throws.
    if (evaluated.refusal) throw refusalError(evaluated);
    const outcome = evaluated.evaluation.outcome;
    const answer = calledByVersion7(callOptions) ? undefined : findApprovalResponse(callOptions?.messages, toolCallId);
    if (!answer?.approved) return outcome !== 'approve';
    if (outcome === 'deny') return false;
    return resumed(call, answer.approvalId);
  };
}

/**
 * Options of {@link toolApproval}.
 *
 * @example
 * ```ts
 * const options: ToolApprovalOptions = { riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' }, confidence: 0.9 };
 * ```
 */
export interface ToolApprovalOptions extends CallOptions {
  /** Per tool name, one level for all, or a function of the call. Unknown tools count as `'irreversible'`. */
  riskLevel: RiskLevelOption;
  /** The `idPrefix` given to {@link submitApprovalRequests}, if any. Default `'ai-approval:'`. */
  idPrefix?: string;
}

/**
 * The status `ai` 7's approval function returns (`ToolApprovalStatus`), always with a reason: the
 * policy's, or why a resumed approval was refused.
 *
 * @example
 * ```ts
 * const status: ToolApprovalDecision = { type: 'user-approval', reason: "policy 'destructive' requires explicit approval" };
 * ```
 */
export type ToolApprovalDecision =
  { type: 'approved'; reason: string } | { type: 'denied'; reason: string } | { type: 'user-approval'; reason: string };

/**
 * The function {@link toolApproval} returns: `ai` 7's generic approval function
 * (`GenericToolApprovalFunction`), for `generateText({ toolApproval })`, `streamText` and agents.
 *
 * @example
 * ```ts
 * const approve: ToolApprovalFunction = toolApproval(manager, { riskLevel: 'irreversible' });
 * ```
 */
export type ToolApprovalFunction = (options: {
  toolCall: { toolName: string; toolCallId: string; input: unknown };
  messages: readonly unknown[];
}) => Promise<ToolApprovalDecision>;

/**
 * `ai` 7's `toolApproval` option, driven by the manager's policies: `'approved'` when they
 * auto-approve the call, `'denied'` when a `deny` policy refuses it (the SDK never runs it and
 * tells the model the reason), `'user-approval'` when a person must decide. Each status carries
 * the policy's reason.
 *
 * When the SDK resumes an approved call (the messages hold an `approved: true` response for it)
 * and that approval is a manager request stored by {@link submitApprovalRequests}, the request is
 * checked again: unless it is approved for exactly these arguments, the call is `'denied'`. A
 * store that cannot be read also means `'denied'` (fail closed). Approvals made outside the
 * manager (your own UI) pass through unchanged.
 *
 * @example
 * ```ts
 * import { generateText, stepCountIs } from 'ai';
 * import { toolApproval } from '@hitl/vercel-ai';
 *
 * const result = await generateText({
 *   model,
 *   tools,
 *   toolApproval: toolApproval(manager, { riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' }, confidence: 0.9 }),
 *   stopWhen: stepCountIs(5),
 *   prompt: 'Remove user 42',
 * });
 * ```
 */
export function toolApproval(manager: Manager, options: ToolApprovalOptions): ToolApprovalFunction {
  const checkedManager = requireManager(manager);
  const checked = requireOptions(options);
  const assessment = compileAssessment(checked);
  const idPrefix = optionalIdPrefix('options.idPrefix', checked.idPrefix);
  const context = validateContextOptions(checked);
  return async ({ toolCall, messages }) => {
    const call: ToolCallInfo = { toolName: toolCall.toolName, toolCallId: toolCall.toolCallId, input: toolCall.input };
    const { evaluation } = evaluateCall(checkedManager, assessment, call, context);
    if (evaluation.outcome === 'deny') return { type: 'denied', reason: evaluation.reason };

    const answer = findApprovalResponse(messages, call.toolCallId);
    if (answer?.approved) {
      const id = approvalRequestId(answer.approvalId, idPrefix === undefined ? {} : { idPrefix });
      const record = await recordFor(checkedManager, id);
      if (record instanceof Error) return { type: 'denied', reason: record.message };
      if (record) {
        const verdict = verdictOf(record, call);
        if (!verdict) return { type: 'denied', reason: `request '${id}' is still pending` };
        if (!verdict.approved) return { type: 'denied', reason: verdict.reason ?? `request '${id}' was not approved` };
      }
    }
    return evaluation.outcome === 'approve'
      ? { type: 'approved', reason: evaluation.reason }
      : { type: 'user-approval', reason: evaluation.reason };
  };
}
