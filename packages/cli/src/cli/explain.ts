/** `hitl explain FILE --tool …`: how the file's policies decide one call, through core's `explainEvaluation`. */
import { explainEvaluation, isRiskLevel, toolNameProblem, type ExplainCall, type PolicyEvaluation, type RiskLevel } from '@hitl/core';
import type { FilePolicy, PolicyFile } from '../policy-file.js';
import { ExitCode, usageError } from './exit-codes.js';
import { describeDecision, formatTable, type CommandResult } from './output.js';

/** The longest `--input` read, in characters. */
const MAX_INPUT_LENGTH = 1_048_576;

export interface ExplainFlags {
  tool?: string | undefined;
  input?: string | undefined;
  confidence?: string | undefined;
  risk?: string | undefined;
  thread?: string | undefined;
}

/** The call the flags describe; a missing `--tool` or a malformed value is a usage error. */
export function callOfFlags(flags: ExplainFlags): ExplainCall {
  if (flags.tool === undefined || flags.tool === '') throw usageError('explain needs --tool NAME (the tool name of the call to explain)');
  // Key order is the order --json prints: the tool first.
  const call: ExplainCall = { toolName: flags.tool, input: {}, confidence: 0, riskLevel: 'irreversible' };
  if (flags.input !== undefined) {
    if (flags.input.length > MAX_INPUT_LENGTH)
      throw usageError(`--input has ${flags.input.length} characters; at most ${MAX_INPUT_LENGTH} are read`);
    let input: unknown;
    try {
      input = JSON.parse(flags.input);
    } catch (error) {
      throw usageError(`--input is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw usageError(`--input must be a JSON object, like '{"amount": 80}'`);
    call.input = input as Record<string, unknown>;
  }
  if (flags.confidence !== undefined) {
    const confidence = Number(flags.confidence);
    if (flags.confidence.trim() === '' || !Number.isFinite(confidence) || confidence < 0 || confidence > 1) {
      throw usageError(`--confidence '${flags.confidence}' must be a number between 0 and 1`);
    }
    call.confidence = confidence;
  }
  if (flags.risk !== undefined) {
    if (!isRiskLevel(flags.risk)) throw usageError(`--risk '${flags.risk}' must be one of read_only, data_modification, irreversible`);
    call.riskLevel = flags.risk as RiskLevel;
  }
  if (flags.thread !== undefined) call.threadId = flags.thread;
  return call;
}

/**
 * Which grants (remembered decisions) could decide the call before the policies' answer: `none`
 * under a deny policy (it comes first), `deny-only` when the deciding policy says `grants: false`,
 * else `any` (deny grants, then approve grants).
 */
export type GrantsThatApply = 'any' | 'deny-only' | 'none';

function grantsThatApply(policy: FilePolicy | undefined, evaluation: PolicyEvaluation): GrantsThatApply {
  if (evaluation.outcome === 'deny' && policy !== undefined) return 'none';
  return policy?.grants === false ? 'deny-only' : 'any';
}

function describeGrants(grants: GrantsThatApply, policy: FilePolicy | undefined, evaluation: PolicyEvaluation): string {
  if (grants === 'none') return 'none apply: a deny policy decides before any grant';
  if (grants === 'deny-only') return `refused: '${policy?.name}' has grants: false, so only a deny grant can decide this call`;
  const approvals = evaluation.outcome === 'review' ? (policy?.approvals ?? 1) : 1;
  const quorum =
    approvals <= 1
      ? ''
      : policy?.grantCoversQuorum === true
        ? `; an approve grant decides it outright (grantCoversQuorum), not as one of the ${approvals} approvals`
        : `; an approve grant is one of the ${approvals} approvals`;
  return `a grant covering this call decides it first (deny grants, then approve grants)${quorum}`;
}

/** The result of `hitl explain` for a parsed file and a call. */
export function explainResult(path: string, file: PolicyFile, call: ExplainCall): CommandResult {
  const explanation = explainEvaluation({ policies: file.policies, call });
  const { steps, ...evaluation } = explanation;
  const deciding = steps.find((step) => step.decides);
  // Refused before any policy is looked at.
  const invalidName = toolNameProblem(call.toolName) !== undefined;
  const rule = deciding ? deciding.check : invalidName ? 'invalid tool name' : 'default outcome (no policy applies)';
  const policy = file.policies.find((entry) => entry.name === evaluation.policy);
  const grants = invalidName ? 'none' : grantsThatApply(policy, evaluation);
  const lines = [
    `${call.toolName} → ${invalidName ? `${evaluation.outcome} (not a valid tool name)` : describeDecision(evaluation.outcome, evaluation.policy)}`,
    `  rule:    ${rule}`,
    `  reason:  ${evaluation.reason}`,
  ];
  if (!invalidName) lines.push(`  grants:  ${describeGrants(grants, policy, evaluation)}`);
  const skipped = steps.filter((step) => !step.decides);
  if (skipped.length > 0) {
    lines.push('', `Policies before it that did not apply (${skipped.length}):`);
    const table = formatTable(
      ['POLICY', 'CHECK', 'WHY'],
      skipped.map((step) => [step.policy, step.check === 'pattern' ? 'toolPattern' : 'when', step.reason]),
      120,
    );
    lines.push(...table.split('\n').map((line) => `  ${line}`));
  }
  return {
    exitCode: ExitCode.Ok,
    text: lines.join('\n'),
    json: { file: path, call, ...evaluation, grants, steps },
  };
}
