/** The approval gate both `withApproval` and the proxy put in front of MCP tool calls: judge, ask, run or refuse. */
import { HitlError, isRiskLevel } from '@hitl/core';
import {
  callbackRejection,
  checkedConfidence,
  checkedRiskLevel,
  describeValue,
  invalidInput,
  isPlainObject,
  rejectionOfResponse,
  requireManager,
  type AssessmentCallback,
} from '@hitl/core/internal';
import type { ApprovalRecord, InteractionRequest, InteractionResponse, Manager, PolicyCall, RiskLevel } from '@hitl/core';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { defaultRejectionMessage, rejectionResult, type ToolRejection } from './rejection.js';
import { riskFromAnnotations, type RiskAssessment } from './risk.js';
import type { McpLogger } from './tool-list.js';

/**
 * The MCP tool a call is for, as its server listed it (`undefined` when the server does not list it).
 *
 * @example
 * ```ts
 * const describe = (name: string, args: Record<string, unknown>, tool: ToolInfo | undefined) => `${tool?.title ?? name}: ${JSON.stringify(args)}`;
 * ```
 */
export type ToolInfo = Tool;

/**
 * How calls are gated; shared by {@link withApproval} and {@link createApprovalProxy}.
 *
 * @example
 * ```ts
 * const options: GateOptions = {
 *   manager,
 *   riskLevel: { search_docs: 'read_only' },
 *   describe: (name, args) => `${name} ${JSON.stringify(args)}`,
 * };
 * ```
 */
export interface GateOptions {
  manager: Manager;
  /**
   * The risk of a call: one level for every tool, a level per tool name, or a function. Tools it does
   * not cover take their risk from the tool's annotations (`readOnlyHint` → read_only,
   * `destructiveHint: false` → data_modification, else irreversible).
   */
  riskLevel?:
    | RiskLevel
    | Record<string, RiskLevel>
    | ((name: string, args: Record<string, unknown>, tool: ToolInfo | undefined) => RiskLevel | undefined);
  /** The caller's confidence in [0, 1]: fixed or per call. MCP carries none; absent counts as 0. */
  confidence?: number | ((name: string, args: Record<string, unknown>) => number);
  /** What the reviewer reads. Default: the tool's description, its arguments and why it has its risk. */
  describe?: (name: string, args: Record<string, unknown>, tool: ToolInfo | undefined) => string;
  /** The conversation or session the calls belong to: fixed or per call. */
  threadId?: string | ((name: string, args: Record<string, unknown>) => string | undefined);
  /** Who the agent acts for (that person may not approve their own request). */
  requestedBy?: string;
  /** How long a request waits for a human; overrides the policy's and the manager's timeout. */
  timeoutMs?: number;
  /** Turns a refusal into the text the model reads. Default {@link defaultRejectionMessage}. */
  formatRejection?: (rejection: ToolRejection) => string;
  /** `true` records auto-approved calls too (for the audit trail). Default `false`: one `evaluate`, no store round trip. */
  audit?: boolean;
}

const TOOL_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Why `name` cannot be a tool name, or `undefined` when it can (1–128 of `A-Z a-z 0-9 _ - . :`). */
export function toolNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'is not a string';
  if (TOOL_NAME.test(name)) return undefined;
  if (name.length === 0 || name.length > 128) return `has ${name.length} characters (1 to 128 allowed)`;
  return 'has characters outside A-Z a-z 0-9 _ - . :';
}

/** Checks the options once, when the gate is built; throws `HitlError('invalid_input')` naming the field. */
export function validateGateOptions(options: unknown, field = 'options'): asserts options is GateOptions {
  if (!isPlainObject(options)) throw invalidInput(field, options, 'must be an object');
  requireManager(options.manager, ['evaluate', 'submit', 'waitFor', 'cancel'], `${field}.manager`);
  const { riskLevel, confidence, describe, threadId, requestedBy, timeoutMs, formatRejection, audit } = options;
  if (riskLevel !== undefined && typeof riskLevel !== 'function' && !isRiskLevel(riskLevel)) {
    if (!isPlainObject(riskLevel))
      throw invalidInput(`${field}.riskLevel`, riskLevel, 'must be a risk level, a record of tool name to risk level, or a function');
    for (const [name, level] of Object.entries(riskLevel)) {
      if (!isRiskLevel(level))
        throw invalidInput(`${field}.riskLevel.${name}`, level, "is not a risk level ('read_only', 'data_modification' or 'irreversible')");
    }
  }
  if (confidence !== undefined && typeof confidence !== 'function' && !isUnit(confidence)) {
    throw invalidInput(`${field}.confidence`, confidence, 'must be a number between 0 and 1 or a function');
  }
  for (const [name, value] of [
    ['describe', describe],
    ['formatRejection', formatRejection],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') throw invalidInput(`${field}.${name}`, value, 'must be a function');
  }
  if (threadId !== undefined && typeof threadId !== 'function' && (typeof threadId !== 'string' || threadId === '')) {
    throw invalidInput(`${field}.threadId`, threadId, 'must be a non-empty string or a function');
  }
  if (requestedBy !== undefined && (typeof requestedBy !== 'string' || requestedBy === '')) {
    throw invalidInput(`${field}.requestedBy`, requestedBy, 'must be a non-empty string');
  }
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0)) {
    throw invalidInput(`${field}.timeoutMs`, timeoutMs, 'must be a positive number of milliseconds (Infinity waits forever)');
  }
  if (audit !== undefined && typeof audit !== 'boolean') throw invalidInput(`${field}.audit`, audit, 'must be a boolean');
}

function isUnit(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

/** One gated call: what to run it with once it may run. */
export interface GatedCall {
  name: string;
  args: Record<string, unknown>;
  tool: ToolInfo | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Called once the call waits for a human, with its pending record; may open another channel to
   * decide it (the first decision from any channel wins). The returned function runs when the wait ends.
   */
  onPending?: ((record: ApprovalRecord) => (() => void) | void) | undefined;
  /** Runs the tool on the server with these arguments (the original ones, or the reviewer's edit). */
  forward: (args: Record<string, unknown>) => Promise<CallToolResult>;
}

/** A gate: asks the manager about a call and either runs it or returns a refusal result. */
export type ToolGate = (call: GatedCall) => Promise<CallToolResult>;

function assessRisk(options: GateOptions, call: GatedCall): RiskAssessment {
  const { riskLevel } = options;
  let level: unknown;
  if (typeof riskLevel === 'function') level = riskLevel(call.name, call.args, call.tool);
  else if (typeof riskLevel === 'string') level = riskLevel;
  else if (riskLevel !== undefined && Object.hasOwn(riskLevel, call.name)) level = riskLevel[call.name];
  if (level === undefined) return riskFromAnnotations(call.tool);
  return { level: checkedRiskLevel(call.name, level), source: 'options', reason: 'set by the riskLevel option' };
}

function defaultDescription(call: GatedCall, risk: RiskAssessment): string {
  let args: string;
  try {
    args = JSON.stringify(call.args);
  } catch {
    args = String(call.args);
  }
  const lines = [
    call.tool?.description ? `${call.tool.description}` : `MCP tool '${call.name}'`,
    `Arguments: ${args}`,
    `Risk: ${risk.level} (${risk.reason})`,
  ];
  return lines.join('\n');
}

type Verdict = { run: true; args: Record<string, unknown> } | { run: false; rejection: ToolRejection };

async function ask(manager: Manager, request: InteractionRequest, call: GatedCall): Promise<Verdict> {
  const { signal, args } = call;
  const toolName = request.toolName;
  let record;
  try {
    record = await manager.submit(request);
  } catch (error) {
    if (HitlError.is(error, 'invalid_input') && request.inputSchema !== undefined && /inputSchema/.test(error.message)) {
      // A schema the manager cannot store is dropped, not fatal: the server still validates what it runs.
      const { inputSchema: _dropped, ...withoutSchema } = request;
      record = await manager.submit({ ...withoutSchema, metadata: { ...request.metadata, inputSchemaRefused: error.message } });
    } else {
      throw error;
    }
  }
  const requestId = record.request.id;
  let response: InteractionResponse | undefined = record.response;
  let automaticReason: 'policy' | 'timeout' = 'policy';
  if (record.status === 'pending') {
    automaticReason = 'timeout';
    let stopChannel: (() => void) | void = undefined;
    try {
      stopChannel = call.onPending?.(record);
      response = await manager.waitFor(requestId, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) await manager.cancel(requestId, 'the MCP client cancelled the call').catch(() => undefined);
      if (HitlError.is(error, 'timeout'))
        return { run: false, rejection: { reason: 'timeout', toolName, requestId, feedback: error.message } };
      throw error;
    } finally {
      if (typeof stopChannel === 'function') stopChannel();
    }
  }
  if (!response)
    throw new HitlError('store_unavailable', `request '${requestId}' is ${record.status} but has no response`, {
      details: { ids: [requestId] },
    });
  if (response.decision === 'approve') return { run: true, args };
  if (response.decision === 'modify') {
    if (isPlainObject(response.modified)) return { run: true, args: response.modified };
    return {
      run: false,
      rejection: { reason: 'reviewer', toolName, requestId, feedback: 'the reviewer sent no edited arguments', response },
    };
  }
  return {
    run: false,
    rejection: rejectionOfResponse(toolName, requestId, response, { automaticReason, policyReason: record.evaluation.reason }),
  };
}

/**
 * Builds the gate both the client wrapper and the proxy use. A call the manager auto-approves runs at
 * once (one synchronous `evaluate`); one that needs review is submitted with the tool's description,
 * arguments, risk (and why), JSON Schema and thread, and waits; a refusal of any kind comes back as a
 * tool result with `isError: true` that the model reads. Only the caller's cancellation throws
 * (`HitlError('cancelled')`), after the pending request is cancelled.
 */
export function createToolGate(options: GateOptions & { logger?: McpLogger | undefined }): ToolGate {
  validateGateOptions(options);
  const { manager, confidence, describe, threadId, requestedBy, timeoutMs, audit = false } = options;
  const refuse = (rejection: ToolRejection): CallToolResult => {
    const text = options.formatRejection ? options.formatRejection(rejection) : defaultRejectionMessage(rejection);
    return rejectionResult(rejection, text);
  };
  /** A `riskLevel`/`confidence` callback threw or gave an invalid value: refused (and logged), never run. */
  const refuseCallback = (callback: AssessmentCallback, name: string, error: unknown): CallToolResult => {
    const rejection = callbackRejection(callback, name, error);
    (options.logger ?? console).warn(`hitl: refused a call to '${name}': ${rejection.feedback ?? callback}`);
    return refuse(rejection);
  };

  const review = (call: GatedCall, risk: RiskAssessment, score: number | undefined, thread: string | undefined): Promise<Verdict> => {
    if (call.signal?.aborted) throw new HitlError('cancelled', `the call to '${call.name}' was cancelled before it was sent for review`);
    const mcp: Record<string, unknown> = { tool: call.name, risk: { level: risk.level, source: risk.source, reason: risk.reason } };
    if (call.tool?.annotations) mcp.annotations = call.tool.annotations;
    const request: InteractionRequest = {
      toolName: call.name,
      description: describe ? describe(call.name, call.args, call.tool) : defaultDescription(call, risk),
      input: call.args,
      riskLevel: risk.level,
      metadata: { mcp },
    };
    if (score !== undefined) request.confidence = score;
    if (thread !== undefined) request.threadId = thread;
    if (requestedBy !== undefined) request.requestedBy = requestedBy;
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    if (isPlainObject(call.tool?.inputSchema)) request.inputSchema = call.tool.inputSchema;
    return ask(manager, request, call);
  };

  return async (call) => {
    const problem = toolNameProblem(call.name);
    if (problem !== undefined) {
      return refuse({
        reason: 'invalid_tool',
        toolName: String(call.name),
        feedback: `tool name ${describeValue(call.name)} is not a valid tool name: it ${problem}`,
      });
    }
    let risk: RiskAssessment;
    let score: number | undefined;
    try {
      risk = assessRisk(options, call);
    } catch (error) {
      return refuseCallback('riskLevel', call.name, error);
    }
    try {
      score = checkedConfidence(call.name, typeof confidence === 'function' ? confidence(call.name, call.args) : confidence);
    } catch (error) {
      return refuseCallback('confidence', call.name, error);
    }
    let verdict: Verdict;
    try {
      const thread = typeof threadId === 'function' ? threadId(call.name, call.args) : threadId;
      // Conditions see what submit would show them: the arguments and the context.
      const policyCall: PolicyCall = { toolName: call.name, input: call.args, confidence: score ?? 0, riskLevel: risk.level };
      if (thread !== undefined) policyCall.threadId = thread;
      if (requestedBy !== undefined) policyCall.requestedBy = requestedBy;
      const fastApprove = !audit && manager.evaluate(policyCall).outcome === 'approve';
      verdict = fastApprove ? { run: true, args: call.args } : await review(call, risk, score, thread);
    } catch (error) {
      if (HitlError.is(error, 'cancelled') && call.signal?.aborted) throw error;
      // Fail closed: whatever went wrong on the way to a decision, the tool does not run.
      const message = error instanceof Error ? error.message : String(error);
      return refuse({ reason: 'unavailable', toolName: call.name, feedback: `the call could not be sent for approval: ${message}` });
    }
    if (!verdict.run) return refuse(verdict.rejection);
    // The server's own errors (unknown tool, bad arguments) pass through unchanged.
    return call.forward(verdict.args);
  };
}
