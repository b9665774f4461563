/** createResumer: resumes, exactly once and on any instance, the LangGraph runs a durable approvalMiddleware paused, as their requests are decided. */
import type { ApprovalRecord, ApprovalStore, Logger, Manager, ResumeClaim, Resumer } from '@hitl/core';
import { createResumeLoop, invalidInput, isPlainObject, requireManager } from '@hitl/core/internal';
import type { ResumeClaims, ResumeStep } from '@hitl/core/internal';
import { Command } from '@langchain/langgraph';
import { isDurablePause, LANGGRAPH_RESUME } from './durable-review.js';
import type { DurableResume } from './durable-review.js';

/**
 * The config a resume runs with: the thread, plus whatever {@link ResumerOptions.config} adds.
 *
 * @example
 * ```ts
 * const config: ResumeConfig = { configurable: { thread_id: 'thread-1' }, durability: 'sync' };
 * ```
 */
export interface ResumeConfig {
  configurable: { thread_id: string; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * What the resumer needs of an agent: `createAgent(...)` with a checkpointer fits.
 *
 * @example
 * ```ts
 * const agent: ResumableAgent = createAgent({ model, tools, checkpointer, middleware: [approvalMiddleware({ manager, riskLevel, durable: true })] });
 * ```
 */
export interface ResumableAgent {
  invoke(input: Command, config: ResumeConfig): Promise<unknown>;
  readonly graph: {
    getState(
      config: ResumeConfig,
    ): Promise<{ values: unknown; tasks: readonly { interrupts?: readonly { id?: string; value?: unknown }[]; result?: unknown }[] }>;
  };
}

/**
 * A run the resumer resumed: its thread, the requests it answered, and what `agent.invoke` returned
 * (the final state, or the next pause).
 *
 * @example
 * ```ts
 * const onResumed = ({ threadId, result }: ResumedRun) => console.log(threadId, result);
 * ```
 */
export interface ResumedRun {
  threadId: string;
  requestIds: string[];
  claim: ResumeClaim;
  result: unknown;
}

/**
 * Options of {@link createResumer}.
 *
 * @example
 * ```ts
 * const options: ResumerOptions = { manager, store, agent, leaseMs: 120_000, onResumed: ({ threadId }) => console.log('resumed', threadId) };
 * ```
 */
export interface ResumerOptions {
  manager: Manager;
  /** The store the manager uses: it holds the resume claims (`createMemoryStore()` or `@hitl/store-postgres`). */
  store: ApprovalStore;
  agent: ResumableAgent;
  /**
   * How long a claim protects a resume, in ms (default 60 000): a resumer that dies mid-resume is
   * replaced once it runs out, so make it longer than your longest resumed run.
   */
  leaseMs?: number;
  /** This resumer's id in the claims. Default `resumer-<uuid>`. */
  owner?: string;
  /** How many runs resume at once. Default 8. */
  concurrency?: number;
  /** More config for the resumed run (its `context`, callbacks…); `configurable.thread_id` is set by the resumer. */
  config?: (threadId: string) => Record<string, unknown>;
  /** Called after each resume, with what the run returned. */
  onResumed?: (run: ResumedRun) => void;
  logger?: Logger;
}

interface Pause {
  interruptId: string;
  requestId: string;
}

/** The durable pauses the thread is stopped on: interrupts of unfinished tasks raised by the middleware. */
function pausesOf(tasks: readonly { interrupts?: readonly { id?: string; value?: unknown }[]; result?: unknown }[]): Pause[] {
  const pauses: Pause[] = [];
  for (const task of tasks) {
    if (task.result !== undefined) continue;
    for (const item of task.interrupts ?? []) {
      if (typeof item.id === 'string' && isDurablePause(item.value))
        pauses.push({ interruptId: item.id, requestId: item.value.hitlRequestId });
    }
  }
  return pauses;
}

/** Whether the thread already holds the answer to a tool call (the run moved past it). */
function answered(values: unknown, toolCallId: unknown): boolean {
  const messages = isPlainObject(values) ? values.messages : undefined;
  if (!Array.isArray(messages) || typeof toolCallId !== 'string') return false;
  return messages.some((message: { tool_call_id?: unknown }) => message?.tool_call_id === toolCallId);
}

function validate(options: unknown): asserts options is ResumerOptions {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  requireManager(options.manager, ['get'], 'options.manager');
  const agent = options.agent as Partial<ResumableAgent> | undefined;
  if (typeof agent?.invoke !== 'function' || typeof agent.graph?.getState !== 'function') {
    throw invalidInput('options.agent', agent, 'must be an agent from createAgent() (with invoke and graph.getState)');
  }
  for (const field of ['config', 'onResumed'] as const) {
    if (options[field] !== undefined && typeof options[field] !== 'function')
      throw invalidInput(`options.${field}`, options[field], 'must be a function');
  }
}

/**
 * Resumes the runs a durable {@link approvalMiddleware} paused, on whichever instance runs it. For
 * each decided request it reads the thread from the agent's checkpointer; once every request the
 * thread is paused on is decided, it claims the resume in the store (exactly one resumer on any
 * instance gets it) and resumes the thread with `Command({ resume })`, keyed by interrupt id. The
 * middleware then reads each decision from the store: approve runs the tool, modify runs it with
 * the edited arguments, anything else hands the model a refusal.
 *
 * Decisions arrive on the store's change feed (each PostgreSQL instance hears every decision
 * through LISTEN/NOTIFY); at start, and every `leaseMs` after, a catch-up scan finds decisions
 * made while no resumer listened and claims whose holder died.
 *
 * What is guaranteed: one claim per paused turn, so two resumers never resume it both. A resumer
 * that dies mid-resume leaves its claim to run out; another then resumes the thread from its last
 * checkpoint, which may run a tool again if the process died after the tool but before the
 * checkpoint: make such tools idempotent (that part is yours).
 *
 * @example
 * ```ts
 * import { createAgent } from 'langchain';
 * import { MemorySaver } from '@langchain/langgraph';
 * import { approvalMiddleware, createResumer } from '@hitl/langchain/middleware';
 *
 * const agent = createAgent({
 *   model,
 *   tools: [deleteUser],
 *   checkpointer: new MemorySaver(),
 *   middleware: [approvalMiddleware({ manager, riskLevel: 'irreversible', durable: true })],
 * });
 * const resumer = createResumer({ manager, store, agent });
 * await resumer.start();
 * ```
 */
export function createResumer(options: ResumerOptions): Resumer {
  validate(options);
  const { manager, store, agent, config, onResumed, logger = console } = options;

  const handle = async (record: ApprovalRecord, claims: ResumeClaims): Promise<ResumeStep> => {
    const id = record.request.id;
    const threadId = record.request.threadId;
    if (threadId === undefined) {
      await claims.settle([id]);
      return 'done';
    }
    const extra = config?.(threadId) ?? {};
    const runConfig: ResumeConfig = { ...extra, configurable: { ...(extra.configurable as object | undefined), thread_id: threadId } };
    const state = await agent.graph.getState(runConfig);
    const pauses = pausesOf(state.tasks);
    if (!pauses.some((pause) => pause.requestId === id)) {
      if (!answered(state.values, record.request.metadata?.toolCallId)) return 'later';
      await claims.settle([id]);
      return 'done';
    }
    // Parallel calls of one turn pause together: the last decision resumes them all, in one run.
    const records = await Promise.all(pauses.map((pause) => (pause.requestId === id ? record : manager.get(pause.requestId))));
    if (records.some((found) => found === undefined || found.status === 'pending')) return 'done';
    const requestIds = pauses.map((pause) => pause.requestId).sort();
    const key = requestIds[0] as string;
    const claim = await claims.claim(key);
    if (!claim) return 'done';
    const resume: Record<string, DurableResume> = {};
    for (const pause of pauses) resume[pause.interruptId] = { hitlRequestId: pause.requestId };
    const result = await claims.runClaimed(claim, requestIds.slice(1), () => agent.invoke(new Command({ resume }), runConfig));
    if (result === undefined) return 'done';
    try {
      onResumed?.({ threadId, requestIds, claim, result });
    } catch (error) {
      logger.error('hitl: onResumed threw', error);
    }
    return 'done';
  };

  const loopOptions: Parameters<typeof createResumeLoop>[0] = { store, resumeWith: LANGGRAPH_RESUME, handle, logger };
  if (options.leaseMs !== undefined) loopOptions.leaseMs = options.leaseMs;
  if (options.owner !== undefined) loopOptions.owner = options.owner;
  if (options.concurrency !== undefined) loopOptions.concurrency = options.concurrency;
  return createResumeLoop(loopOptions);
}
