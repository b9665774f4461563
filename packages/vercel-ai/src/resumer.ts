/** createResumer for the AI SDK: continues, exactly once and on any instance, the conversations whose approval requests are decided. */
import { HitlError } from '@hitl/core';
import type { ApprovalRecord, ApprovalStore, Logger, Manager, ResumeClaim, Resumer } from '@hitl/core';
import { createResumeLoop, invalidInput, isPlainObject } from '@hitl/core/internal';
import type { ResumeClaims, ResumeStep } from '@hitl/core/internal';
import { approvalRequestId, toApprovalResponses } from './approval-bridge.js';
import { collectApprovalRequests, findApprovalResponse } from './approval-messages.js';
import { requireManager } from './assessment.js';
import { AI_SDK_RESUME } from './resume-marker.js';
import type { ToolApprovalMessage } from './types.js';

/**
 * What a continued run returns: a `generateText` result, or a `streamText` result (its stream is
 * consumed by the resumer). Only the response messages are read: `responseMessages` (ai 7) or
 * `response.messages` (ai 6).
 *
 * @example
 * ```ts
 * const run = ({ messages }: { messages: unknown[] }): Promise<ContinuedRun> => generateText({ model, tools, messages });
 * ```
 */
export interface ContinuedRun {
  response?: PromiseLike<{ messages?: readonly unknown[] }> | { messages?: readonly unknown[] };
  responseMessages?: PromiseLike<readonly unknown[]> | readonly unknown[];
  consumeStream?: () => PromiseLike<unknown>;
}

async function responseMessagesOf(result: ContinuedRun): Promise<readonly unknown[]> {
  if (typeof result.consumeStream === 'function') await result.consumeStream();
  const direct = await result.responseMessages;
  if (Array.isArray(direct)) return direct;
  const response = await result.response;
  if (Array.isArray(response?.messages)) return response.messages;
  throw new HitlError('invalid_input', 'options.run must resolve to a generateText or streamText result (it has no response messages)');
}

/**
 * A conversation the resumer continued: its thread, the requests it answered, the messages it saved.
 *
 * @example
 * ```ts
 * const onResumed = ({ threadId, messages }: ResumedConversation) => console.log(threadId, messages.length);
 * ```
 */
export interface ResumedConversation {
  threadId: string;
  requestIds: string[];
  claim: ResumeClaim;
  /** The whole conversation as saved: the loaded messages, the approval responses and the new ones. */
  messages: unknown[];
}

/**
 * Options of {@link createResumer}.
 *
 * @example
 * ```ts
 * const options: ResumerOptions = {
 *   manager,
 *   store,
 *   load: (threadId) => conversations.get(threadId),
 *   save: (threadId, messages) => void conversations.set(threadId, messages),
 *   run: ({ messages }) => generateText({ model, tools, messages }),
 * };
 * ```
 */
export interface ResumerOptions {
  manager: Manager;
  /** The store the manager uses: it holds the resume claims (`createMemoryStore()` or `@hitl/store-postgres`). */
  store: ApprovalStore;
  /** The conversation saved under `threadId` (the messages sent plus `result.response.messages`), or `undefined` when there is none yet. */
  load: (threadId: string) => Promise<readonly unknown[] | undefined> | readonly unknown[] | undefined;
  /** Saves the continued conversation. */
  save: (threadId: string, messages: unknown[]) => Promise<void> | void;
  /** Continues the run: `generateText` or `streamText` with these messages (they end with the approval responses). */
  run: (input: { threadId: string; messages: unknown[] }) => Promise<ContinuedRun> | ContinuedRun;
  /** The `idPrefix` given to `submitApprovalRequests`, if any. */
  idPrefix?: string;
  /** How long a claim protects a continuation, in ms (default 60 000); longer than your longest run. */
  leaseMs?: number;
  owner?: string;
  concurrency?: number;
  onResumed?: (conversation: ResumedConversation) => void;
  logger?: Logger;
}

function validate(options: unknown): asserts options is ResumerOptions {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  requireManager(options.manager, 'options.manager');
  for (const field of ['load', 'save', 'run'] as const) {
    if (typeof options[field] !== 'function') throw invalidInput(`options.${field}`, options[field], 'must be a function');
  }
  if (options.onResumed !== undefined && typeof options.onResumed !== 'function')
    throw invalidInput('options.onResumed', options.onResumed, 'must be a function');
}

/**
 * Continues the conversations whose approval requests were stored with
 * `submitApprovalRequests(manager, result, { threadId, resumable: true })`, once every request of
 * the turn is decided, on whichever instance runs it: it loads the conversation (`load`), builds the
 * `tool-approval-response` message with {@link toApprovalResponses}, claims the continuation in the
 * store (exactly one resumer on any instance gets it), calls `run` (your `generateText` or
 * `streamText`; the SDK then runs the approved tools) and saves the result (`save`).
 *
 * Decisions arrive on the store's change feed; at start, and every `leaseMs` after, a catch-up scan
 * finds decisions made while no resumer listened and claims whose holder died. A resumer that dies
 * mid-run leaves its claim to run out, and another continues from the saved conversation: a tool
 * that ran before the crash but whose result was not saved runs again, so make such tools
 * idempotent (that part is yours; hitl guarantees the claim).
 *
 * @example
 * ```ts
 * import { createResumer } from '@hitl/vercel-ai';
 * import { generateText } from 'ai';
 *
 * const resumer = createResumer({
 *   manager,
 *   store,
 *   load: (threadId) => conversations.get(threadId),
 *   save: (threadId, messages) => void conversations.set(threadId, messages),
 *   run: ({ messages }) => generateText({ model, tools, messages }),
 * });
 * await resumer.start();
 * ```
 */
export function createResumer(options: ResumerOptions): Resumer {
  validate(options);
  const { manager, load, save, run, onResumed, logger = console } = options;
  const idOptions = options.idPrefix === undefined ? {} : { idPrefix: options.idPrefix };

  const handle = async (record: ApprovalRecord, claims: ResumeClaims): Promise<ResumeStep> => {
    const id = record.request.id;
    const threadId = record.request.threadId;
    const approvalId = record.request.metadata?.approvalId;
    const toolCallId = record.request.metadata?.toolCallId;
    if (threadId === undefined || typeof approvalId !== 'string' || typeof toolCallId !== 'string') {
      await claims.settle([id]);
      return 'done';
    }
    const loaded = await load(threadId);
    // Not saved yet (the decision was quicker than the save): look again shortly.
    if (loaded === undefined) return 'later';
    const messages = [...loaded];
    const open = await collectApprovalRequests(messages);
    if (!open.some((request) => request.approvalId === approvalId)) {
      if (findApprovalResponse(messages, toolCallId) === undefined) return 'later';
      await claims.settle([id]);
      return 'done';
    }
    // Approval requests of one turn are answered together: the last decision continues the run.
    const { message, pending } = await toApprovalResponses(manager, messages, idOptions);
    if (pending.length > 0 || message === undefined) return 'done';
    const requestIds = open.map((request) => approvalRequestId(request.approvalId, idOptions)).sort();
    const key = requestIds[0] as string;
    const claim = await claims.claim(key);
    if (!claim) return 'done';
    const sent: unknown[] = [...messages, message satisfies ToolApprovalMessage];
    const saved = await claims.runClaimed(claim, requestIds.slice(1), async () => {
      const continued = [...sent, ...(await responseMessagesOf(await run({ threadId, messages: sent })))];
      await save(threadId, continued);
      return continued;
    });
    if (saved === undefined) return 'done';
    try {
      onResumed?.({ threadId, requestIds, claim, messages: saved });
    } catch (error) {
      logger.error('hitl: onResumed threw', error);
    }
    return 'done';
  };

  const loopOptions: Parameters<typeof createResumeLoop>[0] = { store: options.store, resumeWith: AI_SDK_RESUME, handle, logger };
  if (options.leaseMs !== undefined) loopOptions.leaseMs = options.leaseMs;
  if (options.owner !== undefined) loopOptions.owner = options.owner;
  if (options.concurrency !== undefined) loopOptions.concurrency = options.concurrency;
  return createResumeLoop(loopOptions);
}
