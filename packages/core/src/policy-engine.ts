import { isRiskLevel, rankOfRisk, type RiskLevel } from './constants.js';
import { HitlError } from './hitl-error.js';
import { compileToolGlob, type ToolGlob } from './tool-glob.js';
import { MAX_TOOL_NAME_LENGTH, toolNameProblem } from './tool-name.js';
import type { ApprovalPolicy, PolicyEvaluation } from './types.js';
import { invalidInput, isPlainObject, optionalTimeout, optionalUnitInterval, requireNonEmptyString, describeValue } from './validation.js';

interface CompiledPolicy {
  readonly policy: Readonly<ApprovalPolicy>;
  readonly matcher: ToolGlob;
  readonly minConfidence: number;
  readonly maxRiskRank: number;
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
    throw new HitlError('invalid_input', `policy '${name}': ${error.message}`, { cause: error, details: error.details });
  }

  const minConfidence = optionalUnitInterval(field('minConfidence'), policy.minConfidence) ?? 0;
  for (const flag of ['requireExplicit', 'deny'] as const) {
    if (policy[flag] !== undefined && typeof policy[flag] !== 'boolean') {
      throw invalidInput(field(flag), policy[flag], 'must be a boolean');
    }
  }
  if (policy.maxRiskLevel !== undefined && !isRiskLevel(policy.maxRiskLevel)) {
    throw invalidInput(field('maxRiskLevel'), policy.maxRiskLevel, "is not a risk level ('read_only', 'data_modification' or 'irreversible')");
  }
  if (policy.maxRiskLevel === undefined && !policy.requireExplicit && !policy.deny) {
    throw new HitlError(
      'invalid_input',
      `${field('maxRiskLevel')} is required unless requireExplicit or deny is set (it caps what the policy auto-approves)`,
    );
  }
  optionalTimeout(field('timeoutMs'), policy.timeoutMs);

  const copy: ApprovalPolicy = { name, toolPattern: pattern };
  if (policy.minConfidence !== undefined) copy.minConfidence = policy.minConfidence;
  if (policy.maxRiskLevel !== undefined) copy.maxRiskLevel = policy.maxRiskLevel;
  if (policy.requireExplicit !== undefined) copy.requireExplicit = policy.requireExplicit;
  if (policy.deny !== undefined) copy.deny = policy.deny;
  if (policy.timeoutMs !== undefined) copy.timeoutMs = policy.timeoutMs;
  return {
    policy: Object.freeze(copy),
    matcher,
    minConfidence,
    maxRiskRank: rankOfRisk(policy.maxRiskLevel) ?? -1,
  };
}

/** The answer for a name no tool can have: deny, saying why, without touching any glob. */
function invalidToolName(toolName: unknown): PolicyEvaluation {
  return { outcome: 'deny', reason: `toolName ${describeValue(toolName)} is not a valid tool name: it ${toolNameProblem(toolName) ?? 'is invalid'}` };
}

function formatConfidence(confidence: number): string {
  return confidence.toFixed(2);
}

/**
 * An ordered list of compiled policies. The first policy whose glob matches the tool name decides;
 * which policy matches a tool name is cached, so repeated tool names cost one map lookup whatever
 * the number of policies.
 */
export class PolicyEngine {
  private compiled: CompiledPolicy[] = [];
  private readonly matchCache = new Map<string, CompiledPolicy | null>();

  constructor(private readonly defaultOutcome: 'review' | 'deny') {}

  add(policy: ApprovalPolicy): void {
    const compiled = compilePolicy(policy);
    if (this.compiled.some((entry) => entry.policy.name === compiled.policy.name)) {
      throw invalidInput('policy.name', compiled.policy.name, 'is already used by another policy');
    }
    this.compiled = [...this.compiled, compiled];
    this.matchCache.clear();
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

  /** The policy that decides for this tool, if any. */
  policyFor(toolName: string): Readonly<ApprovalPolicy> | undefined {
    return this.match(toolName)?.policy;
  }

  private match(toolName: string): CompiledPolicy | undefined {
    if (toolNameProblem(toolName) !== undefined) return undefined;
    return (this.matchCache.get(toolName) ?? this.lookup(toolName)) ?? undefined;
  }

  /** The first policy whose glob matches a valid tool name, remembered in the bounded cache. */
  private lookup(toolName: string): CompiledPolicy | null {
    const found = this.compiled.find((entry) => entry.matcher.test(toolName)) ?? null;
    if (this.matchCache.size >= MATCH_CACHE_LIMIT) this.matchCache.clear();
    this.matchCache.set(toolName, found);
    return found;
  }

  evaluate(toolName: unknown, confidence: unknown, riskLevel: unknown): PolicyEvaluation {
    // A name longer than any valid one is refused before it is hashed for the cache: O(1) whatever
    // its size. Only valid names enter the cache, so a cache hit needs no other check.
    if (typeof toolName !== 'string' || toolName.length > MAX_TOOL_NAME_LENGTH) return invalidToolName(toolName);
    let cached = this.matchCache.get(toolName);
    if (cached === undefined) {
      if (toolNameProblem(toolName) !== undefined) return invalidToolName(toolName);
      cached = this.lookup(toolName);
    }
    const entry = cached ?? undefined;
    if (!entry) {
      return {
        outcome: this.defaultOutcome,
        reason: `no policy matches '${toolName}'; the default outcome is ${this.defaultOutcome}`,
      };
    }
    const { policy } = entry;
    const name = policy.name;
    if (policy.deny) return { outcome: 'deny', policy: name, reason: `'${toolName}' is denied by policy '${name}'` };
    if (policy.requireExplicit) {
      return { outcome: 'review', policy: name, reason: `policy '${name}' requires explicit approval for '${toolName}'` };
    }
    const level = confidence ?? 0;
    if (typeof level !== 'number' || !Number.isFinite(level) || level < 0 || level > 1) {
      return { outcome: 'review', policy: name, reason: `confidence ${describeValue(confidence)} is not a number between 0 and 1` };
    }
    const riskRank = riskLevel === undefined ? IRREVERSIBLE_RANK : rankOfRisk(riskLevel);
    if (riskRank === undefined) {
      return { outcome: 'review', policy: name, reason: `risk level ${describeValue(riskLevel)} is unknown` };
    }
    if (level < entry.minConfidence) {
      return {
        outcome: 'review',
        policy: name,
        reason: `confidence ${formatConfidence(level)} is below ${formatConfidence(entry.minConfidence)} required by '${name}'`,
      };
    }
    const risk = (riskLevel ?? 'irreversible') as RiskLevel;
    if (riskRank > entry.maxRiskRank) {
      return {
        outcome: 'review',
        policy: name,
        reason: `risk '${risk}' is above '${policy.maxRiskLevel}' allowed by '${name}'`,
      };
    }
    return {
      outcome: 'approve',
      policy: name,
      reason: `auto-approved by '${name}': confidence ${formatConfidence(level)} >= ${formatConfidence(entry.minConfidence)}, risk '${risk}' <= '${policy.maxRiskLevel}'`,
    };
  }
}
