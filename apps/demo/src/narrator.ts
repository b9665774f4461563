/** The demo's narrator: prints each agent run's steps and outcomes as a story on the terminal. */
import type { ApprovalRecord, Manager } from '@hitl/core';
import { randomBytes } from 'node:crypto';

/** One line of what an agent run did, as printed in the terminal and shown on the start page. */
export interface Step {
  at: string;
  text: string;
}

export type RunStatus = 'running' | 'finished' | 'failed' | 'stopped';

export interface Run {
  id: string;
  scenario: string;
  framework: 'langchain' | 'ai-sdk';
  customerId: string;
  status: RunStatus;
  steps: Step[];
  /** What each tool call ended as, by tool name: its output, or the rejection the model read. */
  results: Record<string, { status: 'success' | 'rejected' | 'error'; output: string }>;
  error?: string;
}

export interface Narrator {
  runs: Map<string, Run>;
  startRun(scenario: string, framework: Run['framework'], customerId: string): Run;
  say(run: Run, text: string): void;
  /** Tool call ids that went to a human, so a tool that then runs is reported as approved, not auto-approved. */
  reviewed: Set<string>;
  close(): void;
}

/** Longest value (and line) the narration prints in full; longer ones are cut with a marker. */
export const maxPrinted = 300;

/** Cuts `text` to `max` characters, saying how much was left out. */
export function clip(text: string, max = maxPrinted): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more characters]`;
}

/** Colours only for a terminal, and never with NO_COLOR (https://no-color.org). */
export function colorWanted(stream: { isTTY?: boolean } = process.stdout, environment: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !environment.NO_COLOR;
}

function toolCallIdOf(record: ApprovalRecord): string | undefined {
  const value = record.request.metadata?.toolCallId;
  return typeof value === 'string' ? value : undefined;
}

function who(record: ApprovalRecord): string {
  return record.response?.respondedBy ?? 'someone';
}

/**
 * Prints each step of each run to the terminal (and keeps it for the start page), including what
 * reviewers decide: a tool call id starts with its run's id, which ties manager events to runs.
 */
export function createNarrator({
  manager,
  dashboardUrl,
  print = console.log,
  color = false,
  runPrefix = randomBytes(3).toString('hex'),
}: {
  manager: Manager;
  dashboardUrl: () => string;
  print?: (line: string) => void;
  /** Dim the timestamps with ANSI escapes. Default `false`. */
  color?: boolean;
  /** Starts every run id of this process (`<prefix>-run1`), so ids never repeat across restarts. Default: random. */
  runPrefix?: string;
}): Narrator {
  const runs = new Map<string, Run>();
  const reviewed = new Set<string>();
  let sequence = 0;
  const [dim, reset] = color ? ['\x1b[2m', '\x1b[0m'] : ['', ''];
  /** The run a record belongs to; `'orphan'` for a demo request whose run is not in this process. */
  const runOf = (record: ApprovalRecord): Run | 'orphan' | undefined => {
    const toolCallId = toolCallIdOf(record);
    if (!toolCallId) return undefined;
    return runs.get(toolCallId.split(':')[0] as string) ?? 'orphan';
  };
  const say = (target: Run | 'orphan' | undefined, text: string) => {
    const at = new Date().toISOString();
    const line = clip(text);
    const run = typeof target === 'object' ? target : undefined;
    if (run) run.steps.push({ at, text: line });
    const tag = run
      ? `[${run.id} ${run.framework}] `
      : target === 'orphan'
        ? '[orphaned: its agent is not in this process, nothing resumes] '
        : '';
    print(`${dim}${at.slice(11, 19)}${reset} ${tag}${line}`);
  };
  const unsubscribe = manager.subscribe((event) => {
    const { record } = event;
    const tool = record.request.toolName;
    const run = runOf(record);
    switch (event.type) {
      case 'request-created':
        if (record.status === 'pending') {
          const toolCallId = toolCallIdOf(record);
          if (toolCallId) reviewed.add(toolCallId);
          say(run, `⏸  ${tool} waits for a reviewer (${record.evaluation.reason}) → ${dashboardUrl()}`);
        } else if (record.status === 'rejected') {
          say(run, `⛔ ${tool} denied by policy: ${record.evaluation.reason}`);
        }
        break;
      case 'request-decided':
        if (record.status === 'approved') {
          const remembered = record.response?.grantId === undefined ? '' : `, and allowed from now on (grant ${record.response.grantId})`;
          say(run, `✅ ${tool} approved by ${who(record)}${remembered}`);
        }
        if (record.status === 'modified')
          say(
            run,
            `✏️  ${tool} approved by ${who(record)} with edited input ${clip(JSON.stringify(record.response?.modified) ?? '', 120)}`,
          );
        if (record.status === 'rejected' && !record.response?.automatic) {
          say(run, `❌ ${tool} rejected by ${who(record)}${record.response?.feedback ? `: "${clip(record.response.feedback, 120)}"` : ''}`);
        }
        break;
      case 'request-expired':
        say(run, `⌛ ${tool} expired: nobody decided before ${record.expiresAt}`);
        break;
      case 'request-cancelled':
        say(run, `🚫 ${tool} cancelled${record.closedReason ? `: ${record.closedReason}` : ''}`);
        break;
      case 'notify-failed':
        say(run, `⚠️  notifier ${event.notifier} failed: ${event.error.message}`);
        break;
    }
  });
  return {
    runs,
    reviewed,
    startRun(scenario, framework, customerId) {
      const run: Run = { id: `${runPrefix}-run${++sequence}`, scenario, framework, customerId, status: 'running', steps: [], results: {} };
      runs.set(run.id, run);
      return run;
    },
    say,
    close: unsubscribe,
  };
}
