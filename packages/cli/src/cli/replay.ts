/** `hitl replay FILE`: stored requests re-evaluated under a policy file, and what would change. */
import { createManager, type Manager, type PolicyCall, type PolicyEvaluation, type PolicyOutcome } from '@hitl/core';
import { evaluationOfType } from '@hitl/core/internal';
import type { PolicyFile } from '../policy-file.js';
import { ExitCode } from './exit-codes.js';
import { formatTable, type CommandResult } from './output.js';
import type { ReplaySource, StoredDecision } from './replay-source.js';

/** A record the file would decide differently. */
export interface ReplayChange {
  id: string;
  toolName: string;
  createdAt: string;
  status: string;
  before: PolicyEvaluation;
  after: PolicyEvaluation;
}

/** The evaluation `submit` would record for the request under the file's policies. */
function reevaluate(manager: Manager, record: StoredDecision): PolicyEvaluation {
  const { request } = record;
  const call = {
    toolName: request.toolName,
    input: request.input ?? {},
    confidence: request.confidence,
    riskLevel: request.riskLevel,
  } as PolicyCall;
  for (const key of ['requestedBy', 'threadId', 'runId', 'metadata'] as const) {
    if (request[key] !== undefined) Object.assign(call, { [key]: request[key] });
  }
  // As `submit` records it: only approval requests are decided by a policy.
  return evaluationOfType(request.type, manager.evaluate(call));
}

const label = (evaluation: PolicyEvaluation) =>
  evaluation.policy === undefined ? evaluation.outcome : `${evaluation.outcome} (${evaluation.policy})`;

/** Compares every record's stored evaluation with the file's. */
export function replayResult(
  path: string,
  file: PolicyFile,
  source: Omit<ReplaySource, 'databaseUrl'>,
  records: StoredDecision[],
  failOnChange: boolean,
): CommandResult {
  const manager = createManager({ policies: file.policies });
  const changes: ReplayChange[] = [];
  const transitions = new Map<string, { from: PolicyOutcome; to: PolicyOutcome; count: number }>();
  try {
    for (const record of records) {
      const after = reevaluate(manager, record);
      if (after.outcome === record.evaluation.outcome) continue;
      const { request } = record;
      changes.push({
        id: request.id,
        toolName: request.toolName,
        createdAt: record.createdAt,
        status: record.status,
        before: record.evaluation,
        after,
      });
      const key = `${record.evaluation.outcome} → ${after.outcome}`;
      const entry = transitions.get(key) ?? { from: record.evaluation.outcome, to: after.outcome, count: 0 };
      entry.count++;
      transitions.set(key, entry);
    }
  } finally {
    void manager.close();
  }
  const table = `"${source.schema}"."${source.table}"`;
  const since = source.since === undefined ? '' : ` since ${source.since.toISOString()}`;
  const lines = [
    `Replayed ${records.length} ${records.length === 1 ? 'request' : 'requests'} from ${table}${since} (newest first, at most ${source.limit}) under ${path}`,
  ];
  if (changes.length === 0) {
    lines.push('No decision would change.');
  } else {
    lines.push(`${changes.length} would be decided differently:`, '');
    const rows = changes.map((change) => [change.id, change.toolName, change.createdAt, label(change.before), label(change.after)]);
    lines.push(
      ...formatTable(['ID', 'TOOL', 'CREATED', 'STORED', 'UNDER THE FILE'], rows)
        .split('\n')
        .map((line) => `  ${line}`),
    );
  }
  const summary = [...transitions.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
    .map(([key, entry]) => [key, String(entry.count)]);
  summary.push(['unchanged', String(records.length - changes.length)]);
  lines.push(
    '',
    ...formatTable(['CHANGE', 'COUNT'], summary)
      .split('\n')
      .map((line) => `  ${line}`),
  );
  return {
    exitCode: failOnChange && changes.length > 0 ? ExitCode.Failed : ExitCode.Ok,
    text: lines.join('\n'),
    json: {
      file: path,
      source: { schema: source.schema, table: source.table, since: source.since?.toISOString() ?? null, limit: source.limit },
      records: records.length,
      changed: changes.length,
      unchanged: records.length - changes.length,
      transitions: [...transitions.values()],
      changes,
    },
  };
}
