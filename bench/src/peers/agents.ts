// The agents the peer rows compare: one LangChain `createAgent` setup (fake model, two tools) run
// with no approval, with LangChain's humanInTheLoopMiddleware, or with hitl's approvalMiddleware.
import { execFileSync } from 'node:child_process';
import { createManager, type ApprovalRecord, type ApprovalStore, type Manager } from '@hitl/core';
import { approvalMiddleware } from '@hitl/langchain/middleware';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import type { BaseMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createAgent, FakeToolCallingModel, HumanMessage, humanInTheLoopMiddleware } from 'langchain';
import { z } from 'zod';
import { versionRecord, versionsOf } from './versions.js';

/** The LangChain packages every peer row runs (the same copies serve both sides). */
export const LANGCHAIN_PACKAGES = ['langchain', '@langchain/core', '@langchain/langgraph'] as const;

let commit: string | undefined;

/** This repository's commit (read once per run), so a row says which hitl it measured. */
export function hitlVersion(): string {
  if (commit === undefined) {
    try {
      commit = `hitl@${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}`;
    } catch {
      commit = 'hitl (this repository)';
    }
  }
  return commit;
}

/** What a row prints as the versions it compared, and the same as a record for results.json. */
export function comparedVersions(extra: readonly string[] = []): { text: string; record: Record<string, string> } {
  const names = [...LANGCHAIN_PACKAGES, ...extra];
  return { text: `${versionsOf(names)}; ${hitlVersion()}`, record: versionRecord(names) };
}

export const now = (): bigint => process.hrtime.bigint();
export const msBetween = (from: bigint, to: bigint): number => Number(to - from) / 1e6;

/** When the reviewed tool ran, per thread: how rows time "decision → tool ran" and count double runs. */
export class ToolRuns {
  private readonly runs = new Map<string, bigint[]>();
  record(thread: string): void {
    const list = this.runs.get(thread);
    if (list) list.push(now());
    else this.runs.set(thread, [now()]);
  }
  count(thread: string): number {
    return this.runs.get(thread)?.length ?? 0;
  }
  firstAt(thread: string): bigint {
    const first = this.runs.get(thread)?.[0];
    if (first === undefined) throw new Error(`the reviewed tool never ran on thread '${thread}'`);
    return first;
  }
  forget(thread: string): void {
    this.runs.delete(thread);
  }
}

const threadOf = (config: unknown): string => {
  const thread = (config as { configurable?: { thread_id?: unknown } } | undefined)?.configurable?.thread_id;
  if (typeof thread !== 'string') throw new Error('a tool ran without a thread_id');
  return thread;
};

/** `get_weather` (auto-approved by every setup) and `delete_user` (always reviewed), recording its runs. */
export function createTools(runs: ToolRuns) {
  const getWeather = tool(async ({ city }: { city: string }) => `It is sunny in ${city}.`, {
    name: 'get_weather',
    description: 'Get the weather for a city',
    schema: z.object({ city: z.string() }),
  });
  const deleteUser = tool(
    async ({ user_id }: { user_id: string }, config) => {
      runs.record(threadOf(config));
      return `Deleted user ${user_id}.`;
    },
    { name: 'delete_user', description: 'Delete a user account', schema: z.object({ user_id: z.string() }) },
  );
  return { getWeather, deleteUser };
}

/**
 * The fake model: one tool call on a fresh conversation, then a final answer. Models built with the
 * same `indexRef` share their turn counter, so an agent resumed on another instance continues the
 * conversation where the first left it (as one deployed model would).
 */
export function fakeModel(toolName: 'get_weather' | 'delete_user', indexRef: { current: number } = { current: 0 }) {
  const args = toolName === 'get_weather' ? { city: 'Paris' } : { user_id: '42' };
  return new FakeToolCallingModel({ toolCalls: [[{ name: toolName, args, id: `call-${toolName}` }], []], indexRef });
}

/** hitl's policies for the two tools: reads approved when confident, deletions always reviewed. */
export function createPeerManager(store?: ApprovalStore): Manager {
  return createManager({
    ...(store ? { store } : {}),
    logger: { warn() {}, error() {}, info() {}, debug() {} },
    policies: [
      { name: 'reads', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
      { name: 'deletions', toolPattern: 'delete_*', requireExplicit: true },
    ],
  });
}

type Tools = ReturnType<typeof createTools>;
type Model = ReturnType<typeof fakeModel>;

/** What the rows use of a `createAgent` agent (its full type names LangChain internals). */
export interface PeerAgent {
  invoke(input: unknown, config?: Record<string, unknown>): Promise<{ messages: BaseMessage[]; __interrupt__?: unknown[] }>;
  getState(config: { configurable: { thread_id: string } }): Promise<{ tasks: readonly { interrupts: readonly unknown[] }[] }>;
}

export function plainAgent(model: Model, tools: Tools): PeerAgent {
  return createAgent({ model, tools: [tools.getWeather, tools.deleteUser] }) as unknown as PeerAgent;
}

/** LangChain's own human in the loop: deletions interrupt; it needs a checkpointer to resume. */
export function langGraphAgent(model: Model, tools: Tools, checkpointer: BaseCheckpointSaver): PeerAgent {
  return createAgent({
    model,
    tools: [tools.getWeather, tools.deleteUser],
    checkpointer,
    middleware: [humanInTheLoopMiddleware({ interruptOn: { get_weather: false, delete_user: true } })],
  }) as unknown as PeerAgent;
}

export function hitlAgent(model: Model, tools: Tools, manager: Manager): PeerAgent {
  return createAgent({
    model,
    tools: [tools.getWeather, tools.deleteUser],
    middleware: [approvalMiddleware({ manager, riskLevel: { get_weather: 'read_only', delete_user: 'irreversible' }, confidence: 0.9 })],
  }) as unknown as PeerAgent;
}

export const ask = (text: string) => ({ messages: [new HumanMessage(text)] });

/** LangGraph's resume value for humanInTheLoopMiddleware: approve the one pending call. */
export const approveResume = { decisions: [{ type: 'approve' as const }] };

/**
 * A reviewer watching a manager: `next(thread)` resolves with the pending request of that thread
 * as soon as the manager reports it (`request-created`), as a dashboard would see it.
 */
export function watchRequests(manager: Manager): { next(thread: string): Promise<ApprovalRecord>; stop(): void } {
  const seen = new Map<string, ApprovalRecord>();
  const waiting = new Map<string, (record: ApprovalRecord) => void>();
  const stop = manager.subscribe((event) => {
    if (event.type !== 'request-created' || event.record.status !== 'pending') return;
    const thread = event.record.request.threadId;
    if (thread === undefined) return;
    const resolve = waiting.get(thread);
    if (resolve) {
      waiting.delete(thread);
      resolve(event.record);
    } else seen.set(thread, event.record);
  });
  return {
    next(thread) {
      const record = seen.get(thread);
      if (record) {
        seen.delete(thread);
        return Promise.resolve(record);
      }
      return new Promise((resolve) => waiting.set(thread, resolve));
    },
    stop,
  };
}
