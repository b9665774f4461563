import type { ApprovalRecord, Manager } from '@hitl/core';

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

const colors = { dim: '\x1b[2m', reset: '\x1b[0m' };

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
export function createNarrator({ manager, dashboardUrl, print = console.log }: { manager: Manager; dashboardUrl: () => string; print?: (line: string) => void }): Narrator {
  const runs = new Map<string, Run>();
  const reviewed = new Set<string>();
  let sequence = 0;
  const runOf = (record: ApprovalRecord) => {
    const toolCallId = toolCallIdOf(record);
    return toolCallId ? runs.get(toolCallId.split(':')[0] as string) : undefined;
  };
  const say = (run: Run | undefined, text: string) => {
    const at = new Date().toISOString();
    if (run) run.steps.push({ at, text });
    print(`${colors.dim}${at.slice(11, 19)}${colors.reset} ${run ? `[${run.id} ${run.framework}] ` : ''}${text}`);
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
        if (record.status === 'approved') say(run, `✅ ${tool} approved by ${who(record)}`);
        if (record.status === 'modified') say(run, `✏️  ${tool} approved by ${who(record)} with edited input ${JSON.stringify(record.response?.modified)}`);
        if (record.status === 'rejected' && !record.response?.automatic) {
          say(run, `❌ ${tool} rejected by ${who(record)}${record.response?.feedback ? `: "${record.response.feedback}"` : ''}`);
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
      const run: Run = { id: `run${++sequence}`, scenario, framework, customerId, status: 'running', steps: [], results: {} };
      runs.set(run.id, run);
      return run;
    },
    say,
    close: unsubscribe,
  };
}
