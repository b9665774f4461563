/** LangChain's interrupts carried through the manager: `submitInterrupt` and `waitForInterruptDecisions`. */
import { hashInput, HitlError } from '@hitl/core';
import { errorMessage, invalidInput, isPlainObject, requireManager } from '@hitl/core/internal';
import type { ApprovalRecord, InteractionRequest, InteractionResponse, Manager } from '@hitl/core';
import type { ToolCall } from '@langchain/core/messages/tool';
import type { ActionRequest, Decision as HitlDecision, HITLRequest, HITLResponse } from 'langchain';
import { defaultRejectionMessage } from './rejection.js';
import { callbackFailure, defaultDescription } from './review.js';
import { ALL_DECISIONS, judge, validatePolicyOptions, type InterruptPolicyOptions } from './interrupt-on.js';

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
    throw invalidInput('interrupt.value', value, 'must be a humanInTheLoopMiddleware request ({ actionRequests, reviewConfigs })');
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
export async function submitInterrupt(
  manager: Manager,
  interrupt: HitlInterrupt,
  options: SubmitInterruptOptions,
): Promise<ApprovalRecord[]> {
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
      const request: InteractionRequest = {
        id: recordId(interruptId, index),
        toolName: action.name,
        description,
        input: action.args,
        riskLevel,
        metadata,
      };
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

function rejectDecision(
  action: ActionRequest,
  record: ApprovalRecord,
  response: InteractionResponse | undefined,
  note?: string,
): HitlDecision {
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
    if (!record)
      throw new HitlError('not_found', `request '${id}' does not exist: submit the interrupt with submitInterrupt() first`, {
        details: { ids: [id] },
      });
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
      throw new HitlError(
        'conflict',
        `request '${id}' was decided for other arguments than interrupt action ${index} ('${action.name}') now carries`,
        {
          details: { ids: [id] },
        },
      );
    }
  });
  const responses = await Promise.all(
    actions.map((_action, index) => manager.waitFor(recordId(interruptId, index), signal ? { signal } : {})),
  );
  const decided = await Promise.all(actions.map((_action, index) => manager.get(recordId(interruptId, index))));
  const decisions = actions.map((action, index): HitlDecision => {
    const response = responses[index];
    const record = decided[index] ?? records[index];
    if (!record)
      throw new HitlError('not_found', `request '${recordId(interruptId, index)}' does not exist`, {
        details: { ids: [recordId(interruptId, index)] },
      });
    const allowed = reviewConfigs.find((config) => config.actionName === action.name)?.allowedDecisions ?? ALL_DECISIONS;
    if (response?.decision === 'approve') {
      return allowed.includes('approve')
        ? { type: 'approve' }
        : rejectDecision(action, record, response, `'${action.name}' may not be approved here`);
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
