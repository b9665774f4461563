/** The durable bridge for the AI SDK's own approval flow: store its approval requests, answer them from decisions. */
import { hashInput, HitlError, RESUME_WITH_KEY, type ApprovalRecord, type Manager } from '@hitl/core';
import { errorMessage, invalidInput } from '@hitl/core/internal';
import {
  buildRequest,
  compileAssessment,
  evaluateCall,
  optionalIdPrefix,
  refusalError,
  requireManager,
  requireOptions,
  toRecordInput,
  validateShaping,
} from './assessment.js';
import { AI_SDK_RESUME, resumableOption } from './resume-marker.js';
import { collectApprovalRequests } from './approval-messages.js';
import { toolJsonSchema } from './validate-input.js';
import type {
  ApprovalRequestSource,
  RequestOptions,
  RiskLevelOption,
  ToolApprovalMessage,
  ToolApprovalResponsePart,
  ToolCallInfo,
  ToolLike,
} from './types.js';

const DEFAULT_ID_PREFIX = 'ai-approval:';
const plainIdPattern = /^[A-Za-z0-9._:-]+$/;

/**
 * The manager request id that stands for an AI SDK `approvalId`: `idPrefix + approvalId`, or,
 * when the approval id holds characters a request id may not, `idPrefix + 'h-'` and a hash of it.
 *
 * @example
 * ```ts
 * const record = await manager.get(approvalRequestId(part.approvalId));
 * ```
 */
export function approvalRequestId(approvalId: string, options: { idPrefix?: string } = {}): string {
  if (typeof approvalId !== 'string' || approvalId === '') throw invalidInput('approvalId', approvalId, 'must be a non-empty string');
  const prefix = optionalIdPrefix('options.idPrefix', options?.idPrefix) ?? DEFAULT_ID_PREFIX;
  const id = `${prefix}${approvalId}`;
  if (plainIdPattern.test(approvalId) && id.length <= 128) return id;
  return `${prefix}h-${hashInput({ approvalId }).slice(0, 48)}`;
}

/** The answer a decided record gives to the SDK, or `undefined` while it is pending. */
export interface RecordVerdict {
  approved: boolean;
  reason?: string;
  /** The record's arguments or tool differ from the request's: refused. */
  mismatch: boolean;
}

/** Compares a record with the tool call it is meant for and reads its decision. */
export function verdictOf(record: ApprovalRecord, call: ToolCallInfo): RecordVerdict | undefined {
  if (record.request.toolName !== call.toolName) {
    return {
      approved: false,
      mismatch: true,
      reason: `refused: request '${record.request.id}' was made for tool '${record.request.toolName}', not '${call.toolName}'`,
    };
  }
  let hash: string | undefined;
  try {
    hash = hashInput(toRecordInput(call.input));
  } catch {
    hash = undefined;
  }
  if (hash !== record.inputHash) {
    return {
      approved: false,
      mismatch: true,
      reason: `refused: the arguments of tool call '${call.toolCallId}' are not the ones reviewed in request '${record.request.id}'`,
    };
  }
  const response = record.response;
  const feedback = response?.feedback !== undefined && response.feedback.trim() !== '' ? response.feedback : undefined;
  switch (record.status) {
    case 'pending':
      return undefined;
    case 'approved':
      return feedback === undefined ? { approved: true, mismatch: false } : { approved: true, mismatch: false, reason: feedback };
    case 'rejected':
      return {
        approved: false,
        mismatch: false,
        reason: feedback ?? (response?.automatic ? 'the call was rejected automatically' : 'a reviewer rejected the call'),
      };
    case 'modified': {
      let edited: string;
      try {
        edited = JSON.stringify(response?.modified ?? {});
      } catch {
        edited = '(unreadable)';
      }
      return {
        approved: false,
        mismatch: false,
        reason:
          `a reviewer changed the arguments to ${edited}; an approval response cannot carry edited arguments, so this call was not run` +
          `${feedback === undefined ? '' : ` (${feedback})`}. Call the tool again with the edited arguments if they still fit.`,
      };
    }
    case 'expired':
      return {
        approved: false,
        mismatch: false,
        reason: feedback ?? `no decision in time: ${record.closedReason ?? 'the request expired'}`,
      };
    case 'cancelled':
      return {
        approved: false,
        mismatch: false,
        reason: `the request was cancelled${record.closedReason ? `: ${record.closedReason}` : ''}`,
      };
    default:
      return { approved: false, mismatch: false, reason: `the request has an unknown status` };
  }
}

/**
 * Options of {@link submitApprovalRequests}.
 *
 * @example
 * ```ts
 * const options: SubmitApprovalRequestsOptions = {
 *   riskLevel: { delete_user: 'irreversible', send_email: 'data_modification' },
 *   confidence: 0.8,
 *   requestedBy: 'user:42',
 * };
 * ```
 */
export interface SubmitApprovalRequestsOptions extends RequestOptions {
  /** Per tool name, one level for all, or a function of the call. Unknown tools count as `'irreversible'`. */
  riskLevel: RiskLevelOption;
  /** Prefix of the request ids made from approval ids. Default `'ai-approval:'`. */
  idPrefix?: string;
  /** The tools given to `generateText`: each request then carries its tool's JSON Schema (`inputSchema`), so an edit is validated. */
  tools?: Record<string, ToolLike>;
  /**
   * `true`: a {@link createResumer} continues the conversation once the requests are decided, on any
   * instance. Needs `threadId` (the key your `load`/`save` pair stores the conversation under).
   */
  resumable?: boolean;
}

/**
 * Stores the SDK's `tool-approval-request`s as manager requests, so reviewers can decide them
 * (in the Express dashboard, say) long after the agent's call returned, in another process if the
 * store is shared. Each request's id is {@link approvalRequestId}`(approvalId)`, its input the
 * tool call's arguments (so its `inputHash` binds the decision to them) and its metadata
 * `{ source: 'ai-sdk', approvalId, toolCallId }`.
 *
 * The manager's policies decide at once where they can: a `deny` policy stores the request as
 * rejected, an approving policy as approved. Requests the SDK already decided (ai 7 automatic
 * approvals) and requests already answered in the source are skipped. Submitting the same
 * request again returns the stored record; the same approval id with other arguments throws
 * `HitlError('conflict')`.
 *
 * @returns The records, in the order of the requests.
 * @example
 * ```ts
 * const result = await generateText({ model, tools, messages });
 * const records = await submitApprovalRequests(manager, result, { riskLevel: { delete_user: 'irreversible' } });
 * await saveConversation([...messages, ...result.response.messages]);
 * ```
 */
export async function submitApprovalRequests(
  manager: Manager,
  source: ApprovalRequestSource,
  options: SubmitApprovalRequestsOptions,
): Promise<ApprovalRecord[]> {
  const checkedManager = requireManager(manager);
  const checked = requireOptions(options);
  const assessment = compileAssessment(checked);
  const shaping = validateShaping(checked);
  const idPrefix = optionalIdPrefix('options.idPrefix', checked.idPrefix);
  const tools = checked.tools as Record<string, ToolLike> | undefined;
  if (tools !== undefined && (typeof tools !== 'object' || tools === null))
    throw invalidInput('options.tools', tools, 'must be the tools object given to generateText');
  const resumable = resumableOption(checked);
  const requests = await collectApprovalRequests(source);
  const records: ApprovalRecord[] = [];
  for (const approval of requests) {
    const call: ToolCallInfo = { toolName: approval.toolName, toolCallId: approval.toolCallId, input: approval.input };
    const metadata: Record<string, unknown> = { source: 'ai-sdk', approvalId: approval.approvalId, toolCallId: approval.toolCallId };
    if (approval.reason !== undefined) metadata.reason = approval.reason;
    if (resumable) metadata[RESUME_WITH_KEY] = AI_SDK_RESUME;
    const evaluated = evaluateCall(checkedManager, assessment, call, shaping);
    // A call nobody can judge (its riskLevel or confidence callback failed) is not stored for a human: refused loudly.
    if (evaluated.refusal) throw refusalError(evaluated);
    const request = buildRequest(call, evaluated, shaping, metadata);
    request.id = approvalRequestId(approval.approvalId, idPrefix === undefined ? {} : { idPrefix });
    const inputSchema = await toolJsonSchema(tools?.[approval.toolName]?.inputSchema);
    if (inputSchema !== undefined) request.inputSchema = inputSchema;
    records.push(await checkedManager.submit(request));
  }
  return records;
}

/**
 * What {@link toApprovalResponses} returns.
 *
 * @example
 * ```ts
 * const { message, pending } = await toApprovalResponses(manager, conversation);
 * if (pending.length === 0 && message) await generateText({ model, tools, messages: [...conversation, message] });
 * ```
 */
export interface ApprovalResponses {
  /** One `tool-approval-response` per decided request. */
  responses: ToolApprovalResponsePart[];
  /** `{ role: 'tool', content: responses }`, or `undefined` when nothing is decided yet. */
  message: ToolApprovalMessage | undefined;
  /** Approval ids still waiting for a reviewer (left out of `responses`). */
  pending: string[];
  /** Approval ids refused because their tool call no longer matches the reviewed request. */
  refused: string[];
}

/**
 * Turns the manager's decisions on stored approval requests into the `tool-approval-response`
 * parts (and the `role: 'tool'` message) of the next `generateText` / `streamText` call:
 *
 * - approved: `approved: true` (the SDK then runs the tool);
 * - rejected, expired, cancelled: `approved: false` with the reason, which the model reads;
 * - modified: `approved: false`, with the edited arguments in the reason (an SDK approval
 *   response cannot carry edited arguments);
 * - pending: left out and listed in `pending`. The SDK refuses a prompt with a tool call that has
 *   no result, so resume only when `pending` is empty;
 * - a tool call whose arguments (or tool name) differ from the reviewed request's `inputHash`:
 *   `approved: false`, listed in `refused`.
 *
 * Pass the messages you are about to send (or the result the requests came from), so the check
 * covers exactly the arguments the SDK will run. A request that was never submitted throws
 * `HitlError('not_found')`.
 *
 * @example
 * ```ts
 * // Hours later, in another process sharing the store:
 * const conversation = await loadConversation();
 * const { message, pending } = await toApprovalResponses(manager, conversation);
 * if (pending.length === 0 && message) {
 *   const next = await generateText({ model, tools, messages: [...conversation, message] });
 * }
 * ```
 */
export async function toApprovalResponses(
  manager: Manager,
  approvalRequests: ApprovalRequestSource,
  options: { idPrefix?: string } = {},
): Promise<ApprovalResponses> {
  const checkedManager = requireManager(manager);
  const idPrefix = optionalIdPrefix('options.idPrefix', requireOptions(options).idPrefix);
  const requests = await collectApprovalRequests(approvalRequests);
  const result: ApprovalResponses = { responses: [], message: undefined, pending: [], refused: [] };
  for (const approval of requests) {
    const id = approvalRequestId(approval.approvalId, idPrefix === undefined ? {} : { idPrefix });
    const record = await checkedManager.get(id);
    if (!record) {
      throw new HitlError(
        'not_found',
        `approval '${approval.approvalId}' has no manager request '${id}': store it with submitApprovalRequests first`,
        { details: { ids: [id] } },
      );
    }
    const verdict = verdictOf(record, approval);
    if (!verdict) {
      result.pending.push(approval.approvalId);
      continue;
    }
    if (verdict.mismatch) result.refused.push(approval.approvalId);
    const part: ToolApprovalResponsePart = { type: 'tool-approval-response', approvalId: approval.approvalId, approved: verdict.approved };
    if (verdict.reason !== undefined) part.reason = verdict.reason;
    result.responses.push(part);
  }
  if (result.responses.length > 0) result.message = { role: 'tool', content: result.responses };
  return result;
}

/** Reads a record for the resume check; a store failure means "deny" (fail closed). */
export async function recordFor(manager: Manager, id: string): Promise<ApprovalRecord | undefined | Error> {
  try {
    return await manager.get(id);
  } catch (error) {
    return new Error(`the approval record '${id}' could not be read: ${errorMessage(error)}`);
  }
}
