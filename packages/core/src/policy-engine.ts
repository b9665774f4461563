/**
 * The policy engine: validates and compiles policies, then evaluates a call against them in order.
 * Over 300 lines because compiling a policy and evaluating a call (match cache, rules in order, reasons) are read together.
 */
import { compileCondition, type CompiledCondition } from './conditions.js';
import { isRiskLevel, rankOfRisk, type RiskLevel } from './constants.js';
import { optionalApprovals } from './four-eyes.js';
import { HitlError } from './hitl-error.js';
import { compileToolGlob, type ToolGlob } from './tool-glob.js';
import { MAX_TOOL_NAME_LENGTH, toolNameProblem } from './tool-name.js';
import { deepFreeze } from './memory-store.js';
import { compilePolicyTimers } from './outbox/policy-timers.js';
import type { ApprovalPolicy, PolicyCall, PolicyEvaluation, StoredRequest } from './types.js';
import { invalidInput, isPlainObject, optionalTimeout, optionalUnitInterval, requireNonEmptyString, describeValue } from './validation.js';

/** A policy validated and compiled by {@link compilePolicy}: what the engine (and `explainEvaluation`) walk. */
export interface CompiledPolicy {
  readonly policy: Readonly<ApprovalPolicy>;
  readonly matcher: ToolGlob;
  readonly minConfidence: number;
  readonly maxRiskRank: number;
  /** The compiled `when`; absent when the policy applies to every call its glob matches. */
  readonly condition?: CompiledCondition;
}

/** What a condition may read of a call besides its name, confidence and risk. */
export interface CallContext {
  input?: Record<string, unknown>;
  requestedBy?: string;
  threadId?: string;
  runId?: string;
  metadata?: Record<string, unknown>;
}

/**
 * How many tool names the match cache remembers. Only valid names are cached and a valid name is at
 * most {@link MAX_TOOL_NAME_LENGTH} UTF-16 code units, so the cache's keys never hold more than
 * {@link MATCH_CACHE_MAX_KEY_BYTES} bytes (4,096 × 128 × 2 = 1 MiB).
 */
const MATCH_CACHE_LIMIT = 4096;
/** The most the match cache's keys can weigh, in bytes. */
export const MATCH_CACHE_MAX_KEY_BYTES = MATCH_CACHE_LIMIT * MAX_TOOL_NAME_LENGTH * 2;
const IRREVERSIBLE_RANK = rankOfRisk('irreversible') ?? 2;

/** Validates a policy and compiles its glob. Throws `HitlError('invalid_input')` naming the field. */
export function compilePolicy(policy: ApprovalPolicy): CompiledPolicy {
  if (!isPlainObject(policy)) throw invalidInput('policy', policy, 'must be an object');
  const name = requireNonEmptyString('policy.name', policy.name);
  const field = (key: string) => `policy '${name}': ${key}`;
  const pattern = requireNonEmptyString(field('toolPattern'), policy.toolPattern);
  let matcher: ToolGlob;
  try {
    matcher = compileToolGlob(pattern);
  } catch (error) {
    if (!HitlError.is(error, 'invalid_input')) throw error;
    throw new HitlError('invalid_input', `policy '${name}': ${error.message}`, {
      cause: error,
      details: { ...error.details, field: field('toolPattern') },
    });
  }

  const minConfidence = optionalUnitInterval(field('minConfidence'), policy.minConfidence) ?? 0;
  for (const flag of ['requireExplicit', 'deny', 'grants', 'grantCoversQuorum'] as const) {
    if (policy[flag] !== undefined && typeof policy[flag] !== 'boolean') {
      throw invalidInput(field(flag), policy[flag], 'must be a boolean');
    }
  }
  if (policy.maxRiskLevel !== undefined && !isRiskLevel(policy.maxRiskLevel)) {
    throw invalidInput(
      field('maxRiskLevel'),
      policy.maxRiskLevel,
      "is not a risk level ('read_only', 'data_modification' or 'irreversible')",
    );
  }
  if (policy.maxRiskLevel === undefined && !policy.requireExplicit && !policy.deny) {
    throw new HitlError(
      'invalid_input',
      `${field('maxRiskLevel')} is required unless requireExplicit or deny is set (it caps what the policy auto-approves)`,
      { details: { field: field('maxRiskLevel'), value: 'undefined' } },
    );
  }
  if (policy.grantCoversQuorum === true && policy.grants === false) {
    throw invalidInput(
      field('grantCoversQuorum'),
      policy.grantCoversQuorum,
      'cannot be true with grants: false (no grant satisfies this policy, so none can cover its approvals)',
    );
  }
  optionalTimeout(field('timeoutMs'), policy.timeoutMs);
  const approvals = optionalApprovals(field('approvals'), policy.approvals);
  const condition = policy.when === undefined ? undefined : compileCondition(name, policy.when);

  const copy: ApprovalPolicy = { name, toolPattern: pattern };
  if (policy.minConfidence !== undefined) copy.minConfidence = policy.minConfidence;
  if (policy.maxRiskLevel !== undefined) copy.maxRiskLevel = policy.maxRiskLevel;
  if (policy.requireExplicit !== undefined) copy.requireExplicit = policy.requireExplicit;
  if (policy.deny !== undefined) copy.deny = policy.deny;
  if (policy.timeoutMs !== undefined) copy.timeoutMs = policy.timeoutMs;
  if (policy.when !== undefined) copy.when = policy.when;
  if (approvals !== undefined) copy.approvals = approvals;
  if (policy.grants !== undefined) copy.grants = policy.grants;
  if (policy.grantCoversQuorum !== undefined) copy.grantCoversQuorum = policy.grantCoversQuorum;
  Object.assign(copy, compilePolicyTimers(policy, field));
  const compiled: CompiledPolicy = {
    policy: Object.freeze(copy),
    matcher,
    minConfidence,
    maxRiskRank: rankOfRisk(policy.maxRiskLevel) ?? -1,
  };
  return condition === undefined ? compiled : { ...compiled, condition };
}

/** The answer for a name no tool can have: deny, saying why, without touching any glob. */
function invalidToolName(toolName: unknown): PolicyEvaluation {
  return {
    outcome: 'deny',
    reason: `toolName ${describeValue(toolName)} is not a valid tool name: it ${toolNameProblem(toolName) ?? 'is invalid'}`,
  };
}

function formatConfidence(confidence: number): string {
  return confidence.toFixed(2);
}

/** How a condition is named in reasons: its CEL text (cut short) or `function <name>`. */
function conditionLabel(condition: CompiledCondition): string {
  const { source } = condition;
  return source.length > 80 ? `${source.slice(0, 77)}...` : source;
}

/**
 * An ordered list of compiled policies. A policy applies when its glob matches the tool name and
 * its condition (if any) holds; the first that applies decides. Which policies' globs match a tool
 * name is cached (the list stops at the first policy without a condition: nothing after it can
 * decide), so a repeated tool name costs one map lookup whatever the number of policies, plus one
 * test per condition walked.
 */
export class PolicyEngine {
  private compiled: CompiledPolicy[] = [];
  private readonly matchCache = new Map<string, readonly CompiledPolicy[]>();

  constructor(private readonly defaultOutcome: 'review' | 'deny') {}

  add(policy: ApprovalPolicy): void {
    const compiled = compilePolicy(policy);
    if (this.compiled.some((entry) => entry.policy.name === compiled.policy.name)) {
      throw invalidInput('policy.name', compiled.policy.name, 'is already used by another policy');
    }
    this.compiled = [...this.compiled, compiled];
    this.matchCache.clear();
  }

  /**
   * Replaces every policy at once: all of `policies` are compiled and checked (unique names) first,
   * then swapped in with one assignment, so an evaluation sees the old set or the new one, never a
   * mix. On any error nothing changes.
   */
  replace(policies: readonly ApprovalPolicy[]): void {
    const next: CompiledPolicy[] = [];
    for (const policy of policies) {
      const compiled = compilePolicy(policy);
      if (next.some((entry) => entry.policy.name === compiled.policy.name)) {
        throw invalidInput('policy.name', compiled.policy.name, 'is already used by another policy');
      }
      next.push(compiled);
    }
    this.compiled = next;
    this.matchCache.clear();
  }

  /** The compiled policies in evaluation order (the array is never mutated: replaced on change). */
  entries(): readonly CompiledPolicy[] {
    return this.compiled;
  }

  remove(name: string): boolean {
    const next = this.compiled.filter((entry) => entry.policy.name !== name);
    if (next.length === this.compiled.length) return false;
    this.compiled = next;
    this.matchCache.clear();
    return true;
  }

  list(): ApprovalPolicy[] {
    return this.compiled.map((entry) => ({ ...entry.policy }));
  }

  /** The policy with this name, if any (the one an evaluation names). */
  policyNamed(name: string): Readonly<ApprovalPolicy> | undefined {
    return this.compiled.find((entry) => entry.policy.name === name)?.policy;
  }

  /** The first policy whose glob matches this tool, whatever its condition. */
  policyFor(toolName: string): Readonly<ApprovalPolicy> | undefined {
    if (toolNameProblem(toolName) !== undefined) return undefined;
    return (this.matchCache.get(toolName) ?? this.lookup(toolName))[0]?.policy;
  }

  /**
   * The policies whose globs match a valid tool name, in order, up to and including the first one
   * without a condition; remembered in the bounded cache.
   */
  private lookup(toolName: string): readonly CompiledPolicy[] {
    const found: CompiledPolicy[] = [];
    for (const entry of this.compiled) {
      if (!entry.matcher.test(toolName)) continue;
      found.push(entry);
      if (entry.condition === undefined) break;
    }
    if (this.matchCache.size >= MATCH_CACHE_LIMIT) this.matchCache.clear();
    this.matchCache.set(toolName, found);
    return found;
  }

  /**
   * What the policies say about a call. `context` is what conditions read besides name, confidence
   * and risk; absent input is `{}`.
   */
  evaluate(toolName: unknown, confidence: unknown, riskLevel: unknown, context?: CallContext): PolicyEvaluation {
    // A name longer than any valid one is refused before it is hashed for the cache: O(1) whatever
    // its size. Only valid names enter the cache, so a cache hit needs no other check.
    if (typeof toolName !== 'string' || toolName.length > MAX_TOOL_NAME_LENGTH) return invalidToolName(toolName);
    let candidates = this.matchCache.get(toolName);
    if (candidates === undefined) {
      if (toolNameProblem(toolName) !== undefined) return invalidToolName(toolName);
      candidates = this.lookup(toolName);
    }
    let call: PolicyCall | undefined;
    let skipped: string[] | undefined;
    for (const entry of candidates) {
      const { condition } = entry;
      if (condition === undefined) return this.decide(entry, toolName, confidence, riskLevel);
      const name = entry.policy.name;
      if (call === undefined) {
        // A condition reads confidence and risk as a PolicyCall types them: odd values cannot be
        // tested, so the policy asks a human (fail closed), as it would without a condition.
        const problem = levelProblem(confidence, riskLevel);
        if (problem !== undefined)
          return { outcome: 'review', policy: name, reason: `${problem}, so policy '${name}' cannot test its condition` };
        call = policyCall(toolName, confidence, riskLevel, context);
      }
      const result = condition.test(call);
      if (!result.ok) {
        return {
          outcome: 'review',
          policy: name,
          reason: `policy '${name}' sends '${toolName}' to review: its ${result.reason}`,
        };
      }
      if (result.holds) return this.decide(entry, toolName, confidence, riskLevel, `${conditionLabel(condition)} holds`);
      (skipped ??= []).push(name);
    }
    const none =
      skipped === undefined
        ? `no policy matches '${toolName}'`
        : `no policy applies to '${toolName}' (the condition of ${skipped.map((name) => `'${name}'`).join(', ')} does not hold)`;
    return { outcome: this.defaultOutcome, reason: `${none}; the default outcome is ${this.defaultOutcome}` };
  }

  /** The decision of a policy that applies; `holds` names its condition when it has one. */
  private decide(entry: CompiledPolicy, toolName: string, confidence: unknown, riskLevel: unknown, holds?: string): PolicyEvaluation {
    const { policy } = entry;
    const name = policy.name;
    const because = holds === undefined ? '' : ` (${holds})`;
    if (policy.deny) return { outcome: 'deny', policy: name, reason: `'${toolName}' is denied by policy '${name}'${because}` };
    if (policy.requireExplicit) {
      return { outcome: 'review', policy: name, reason: `policy '${name}' requires explicit approval for '${toolName}'${because}` };
    }
    const level = confidence ?? 0;
    if (typeof level !== 'number' || !Number.isFinite(level) || level < 0 || level > 1) {
      return { outcome: 'review', policy: name, reason: `confidence ${describeValue(confidence)} is not a number between 0 and 1` };
    }
    const riskRank = riskLevel === undefined ? IRREVERSIBLE_RANK : rankOfRisk(riskLevel);
    if (riskRank === undefined) return { outcome: 'review', policy: name, reason: `risk level ${describeValue(riskLevel)} is unknown` };
    if (level < entry.minConfidence) {
      return {
        outcome: 'review',
        policy: name,
        reason: `confidence ${formatConfidence(level)} is below ${formatConfidence(entry.minConfidence)} required by '${name}'${because}`,
      };
    }
    const risk = (riskLevel ?? 'irreversible') as RiskLevel;
    if (riskRank > entry.maxRiskRank) {
      return {
        outcome: 'review',
        policy: name,
        reason: `risk '${risk}' is above '${policy.maxRiskLevel}' allowed by '${name}'${because}`,
      };
    }
    const levels = `confidence ${formatConfidence(level)} >= ${formatConfidence(entry.minConfidence)}, risk '${risk}' <= '${policy.maxRiskLevel}'`;
    return {
      outcome: 'approve',
      policy: name,
      reason: holds === undefined ? `auto-approved by '${name}': ${levels}` : `policy '${name}' approves: ${holds}, ${levels}`,
    };
  }
}

/** Why confidence or risk cannot be judged (then a human decides), or undefined when both are fine. */
export function levelProblem(confidence: unknown, riskLevel: unknown): string | undefined {
  const level = confidence ?? 0;
  if (typeof level !== 'number' || !Number.isFinite(level) || level < 0 || level > 1) {
    return `confidence ${describeValue(confidence)} is not a number between 0 and 1`;
  }
  if (riskLevel !== undefined && rankOfRisk(riskLevel) === undefined) return `risk level ${describeValue(riskLevel)} is unknown`;
  return undefined;
}

/** The call a condition sees: absent confidence is 0, absent risk `irreversible`, absent input `{}`. */
export function policyCall(toolName: string, confidence: unknown, riskLevel: unknown, context: CallContext | undefined): PolicyCall {
  const call: PolicyCall = {
    toolName,
    input: context?.input ?? {},
    confidence: (confidence ?? 0) as number,
    riskLevel: (riskLevel ?? 'irreversible') as RiskLevel,
  };
  if (context === undefined) return call;
  if (context.requestedBy !== undefined) call.requestedBy = context.requestedBy;
  if (context.threadId !== undefined) call.threadId = context.threadId;
  if (context.runId !== undefined) call.runId = context.runId;
  if (context.metadata !== undefined) call.metadata = context.metadata;
  return call;
}

/**
 * What conditions read of a stored request. The stored input and metadata are the manager's own
 * copies: they are frozen first, so a function condition cannot change what gets stored and hashed.
 */
export function contextOfRequest(request: StoredRequest): CallContext {
  const context: CallContext = { input: deepFreeze(request.input ?? {}) };
  if (request.requestedBy !== undefined) context.requestedBy = request.requestedBy;
  if (request.threadId !== undefined) context.threadId = request.threadId;
  if (request.runId !== undefined) context.runId = request.runId;
  if (request.metadata !== undefined) context.metadata = deepFreeze(request.metadata);
  return context;
}

/** `Manager.evaluate` in both forms: a {@link PolicyCall} object, or name, confidence, risk and input. */
export function evaluateCall(
  engine: PolicyEngine,
  toolNameOrCall: unknown,
  confidence?: unknown,
  riskLevel?: unknown,
  input?: Record<string, unknown>,
): PolicyEvaluation {
  if (typeof toolNameOrCall !== 'object' || toolNameOrCall === null) {
    return engine.evaluate(toolNameOrCall, confidence, riskLevel, input === undefined ? undefined : { input });
  }
  const call = toolNameOrCall as Partial<PolicyCall>;
  return engine.evaluate(call.toolName, call.confidence, call.riskLevel, call);
}
