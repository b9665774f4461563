/** The durable mode of approvalMiddleware: a call that needs a human pauses the run with LangGraph's `interrupt` and reads the decision from the store when resumed. */
import { hashInput, HitlError, RESUME_WITH_KEY } from '@hitl/core';
import type { ApprovalRecord, InteractionRequest, Manager } from '@hitl/core';
import { interrupt } from '@langchain/langgraph';
import type { Verdict } from './review.js';
import { verdictOfResponse } from './review.js';

/** The `metadata.resumeWith` value of requests paused by the durable middleware. */
export const LANGGRAPH_RESUME = 'langgraph';

/**
 * The value of the LangGraph interrupt a durable `approvalMiddleware` raises: `result.__interrupt__[i].value`.
 * The hitl request it waits for is `hitlRequestId`; the resumer answers it.
 *
 * @example
 * ```ts
 * const paused = result.__interrupt__?.map((item) => (item.value as DurablePause).hitlRequestId);
 * ```
 */
export interface DurablePause {
  hitlRequestId: string;
  toolName: string;
  toolCallId: string;
  args: Record<string, unknown>;
  description: string;
}

/**
 * What the resumer sends back for one interrupt (`Command({ resume: { [interruptId]: DurableResume } })`).
 * The decision itself is read from the store, never from this value.
 *
 * @example
 * ```ts
 * await agent.invoke(new Command({ resume: { [interrupt.id]: { hitlRequestId } satisfies DurableResume } }), config);
 * ```
 */
export interface DurableResume {
  hitlRequestId: string;
}

/** Whether an interrupt value is a durable pause of this middleware. */
export function isDurablePause(value: unknown): value is DurablePause {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as DurablePause).hitlRequestId === 'string' &&
    typeof (value as DurablePause).toolCallId === 'string'
  );
}

/**
 * The request id of a tool call in a thread: the same on every execution of the paused node (the
 * node runs again when the thread resumes), so submitting again finds the stored record.
 */
export function durableRequestId(threadId: string, toolCallId: string): string {
  return `lc-${hashInput({ threadId, toolCallId }).slice(0, 48)}`;
}

/** The verdict of a decided record, with expiry and cancellation (which carry no response from the sweeper) read as refusals. */
export function verdictOfRecord(record: ApprovalRecord, automaticReason: 'policy' | 'timeout'): Verdict {
  const { toolName, id } = record.request;
  if (record.response) return verdictOfResponse(toolName, id, record.response, record.status === 'expired' ? 'timeout' : automaticReason);
  if (record.status === 'expired') {
    return {
      run: false,
      rejection: { reason: 'timeout', toolName, requestId: id, feedback: record.closedReason ?? 'the request expired' },
    };
  }
  return {
    run: false,
    rejection: {
      reason: 'reviewer',
      toolName,
      requestId: id,
      feedback: `the request was ${record.status}${record.closedReason ? `: ${record.closedReason}` : ''}`,
    },
  };
}

/**
 * Stores the request (or finds it, when the node runs again after a resume) and, when it waits for
 * a human, pauses the run with `interrupt`. The run continues only when a resumer answers this
 * interrupt; the decision is then read from the store, never from the resume value, and a resume
 * before the decision is refused.
 */
export async function durableVerdict(
  manager: Manager,
  request: InteractionRequest,
  pause: Omit<DurablePause, 'hitlRequestId'>,
): Promise<Verdict> {
  const record = await manager.submit({ ...request, metadata: { ...request.metadata, [RESUME_WITH_KEY]: LANGGRAPH_RESUME } });
  const requestId = record.request.id;
  // Decided by a policy at once: no human, no pause.
  if (record.evaluation.outcome !== 'review') return verdictOfRecord(record, 'policy');
  const resumed: unknown = interrupt<DurablePause, DurableResume>({ ...pause, hitlRequestId: requestId });
  if ((resumed as DurableResume | undefined)?.hitlRequestId !== requestId) {
    throw new HitlError('conflict', `the run was resumed with a value that does not name request '${requestId}'`);
  }
  // On the resumed execution, submit above already read the record as it is now.
  const decided = record.status !== 'pending' ? record : await manager.get(requestId);
  if (!decided) throw new HitlError('not_found', `request '${requestId}' does not exist`);
  if (decided.status === 'pending') throw new HitlError('conflict', `the run was resumed before request '${requestId}' was decided`);
  return verdictOfRecord(decided, 'timeout');
}
