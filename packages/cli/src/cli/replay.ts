/** `hitl replay FILE`: stored requests re-evaluated under a policy file, and what would change. */
import { createManager, type PolicyEvaluation, type PolicyOutcome } from '@hitl/core';
import type { PolicyFile } from '../policy-file.js';
import { ExitCode } from './exit-codes.js';
import { formatTable, type CommandResult } from './output.js';
import { decidedByGrant, replayRecord, type ReplayChangeKind } from './replay-record.js';
import type { ReplaySource, StoredDecision } from './replay-source.js';

/** A record the file would decide differently: another outcome, or the same one by another policy or grant. */
export interface ReplayChange {
  id: string;
  toolName: string;
  createdAt: string;
  status: string;
  kind: ReplayChangeKind;
  /** What decided the record when it was stored: its policy evaluation, or the grant that decided it. */
  before: PolicyEvaluation;
  /** What would decide it under the file. */
  after: PolicyEvaluation;
  /** Why the grant that decided the record would not decide it under the file. */
  because?: string;
}

/** How many records changed from one outcome to another (`kind: 'outcome'`), or kept it under another policy (`'policy'`). */
export interface ReplayTransition {
  from: PolicyOutcome;
  to: PolicyOutcome;
  kind: ReplayChangeKind;
  count: number;
}

/** What `hitl replay --json` prints. */
export interface ReplayJson {
  file: string;
  source: { schema: string; table: string; since: string | null; limit: number };
  records: number;
  /** Records with either kind of change. */
  changed: number;
  outcomeChanged: number;
  policyChanged: number;
  unchanged: number;
  /** Records a grant decided, replayed with that grant (assumed still in force). */
  grants: { decided: number; assumedInForce: true };
  transitions: ReplayTransition[];
  changes: ReplayChange[];
}

/** Grant ids made by core start with `grant-`: they name themselves. */
const grantLabel = (id: string) => (id.startsWith('grant-') ? id : `grant ${id}`);

function label(evaluation: PolicyEvaluation): string {
  const deciders = [evaluation.policy, evaluation.grant === undefined ? undefined : grantLabel(evaluation.grant)].filter(Boolean);
  return deciders.length === 0 ? evaluation.outcome : `${evaluation.outcome} (${deciders.join(', ')})`;
}

const transitionLabel = (transition: ReplayTransition) =>
  `${transition.from} → ${transition.to}${transition.kind === 'policy' ? ' (another policy)' : ''}`;

function headline(changes: readonly ReplayChange[]): string {
  const outcome = changes.filter((change) => change.kind === 'outcome').length;
  const policy = changes.length - outcome;
  if (policy === 0) return `${outcome} would be decided differently:`;
  const sameOutcome = `by another policy with the same outcome`;
  if (outcome === 0) return `${policy} would be decided ${sameOutcome}:`;
  return `${changes.length} would change: ${outcome} decided differently, ${policy} ${sameOutcome}:`;
}

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
  const transitions = new Map<string, ReplayTransition>();
  let grantDecided = 0;
  try {
    for (const record of records) {
      if (decidedByGrant(record)) grantDecided++;
      const { before, after, kind, because } = replayRecord(manager, file.policies, record);
      if (kind === undefined) continue;
      const { request } = record;
      const change: ReplayChange = {
        id: request.id,
        toolName: request.toolName,
        createdAt: record.createdAt,
        status: record.status,
        kind,
        before,
        after,
      };
      if (because !== undefined) change.because = because;
      changes.push(change);
      const key = `${kind}:${before.outcome}:${after.outcome}`;
      const entry = transitions.get(key) ?? { from: before.outcome, to: after.outcome, kind, count: 0 };
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
  if (grantDecided > 0) {
    lines.push(
      `${grantDecided} decided by a grant ${grantDecided === 1 ? 'is' : 'are'} replayed with that grant, assumed still in force (not revoked, expired or used up).`,
    );
  }
  if (changes.length === 0) {
    lines.push('No decision would change.');
  } else {
    lines.push(headline(changes), '');
    const why = changes.some((change) => change.because !== undefined);
    const rows = changes.map((change) => {
      const row = [change.id, change.toolName, change.createdAt, label(change.before), label(change.after), change.kind];
      return why ? [...row, change.because ?? ''] : row;
    });
    const header = ['ID', 'TOOL', 'CREATED', 'STORED', 'UNDER THE FILE', 'CHANGE', ...(why ? ['WHY'] : [])];
    lines.push(
      ...formatTable(header, rows, 80)
        .split('\n')
        .map((line) => `  ${line}`),
    );
  }
  const ordered = [...transitions.values()].sort(
    (a, b) =>
      Number(a.kind === 'policy') - Number(b.kind === 'policy') ||
      b.count - a.count ||
      transitionLabel(a).localeCompare(transitionLabel(b)),
  );
  const summary = ordered.map((transition) => [transitionLabel(transition), String(transition.count)]);
  summary.push(['unchanged', String(records.length - changes.length)]);
  lines.push(
    '',
    ...formatTable(['CHANGE', 'COUNT'], summary)
      .split('\n')
      .map((line) => `  ${line}`),
  );
  const json: ReplayJson = {
    file: path,
    source: { schema: source.schema, table: source.table, since: source.since?.toISOString() ?? null, limit: source.limit },
    records: records.length,
    changed: changes.length,
    outcomeChanged: changes.filter((change) => change.kind === 'outcome').length,
    policyChanged: changes.filter((change) => change.kind === 'policy').length,
    unchanged: records.length - changes.length,
    grants: { decided: grantDecided, assumedInForce: true },
    transitions: ordered,
    changes,
  };
  return {
    exitCode: failOnChange && changes.length > 0 ? ExitCode.Failed : ExitCode.Ok,
    text: lines.join('\n'),
    json,
  };
}
