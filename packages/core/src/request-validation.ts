/** Validation of what callers hand a manager: its options, a request to submit, a reviewer's response. */
import { isDecision, isInteractionType, isRiskLevel } from './constants.js';
import { canonicalJson } from './canonical-json.js';
import { requireIdentity, sameIdentity } from './identity.js';
import { HitlError } from './hitl-error.js';
import { normalizeInputSchema } from './input-schema.js';
import { requireToolName } from './tool-name.js';
import type { Decision } from './constants.js';
import type { ApprovalRecord, InteractionRequest, ManagerOptions, Notifier, RespondInput, StoredRequest } from './types.js';
import {
  describeValue,
  invalidInput,
  isPlain,
  isPlainObject,
  optionalPlainObject,
  optionalString,
  optionalTimeout,
  optionalUnitInterval,
  requireId,
  requireNonEmptyString,
} from './validation.js';

/** A JSON copy of a JSON-safe object, so later changes by the caller cannot reach the stored record. */
export function jsonCopy(field: string, value: Record<string, unknown>): { copy: Record<string, unknown>; text: string } {
  const text = canonicalJson(value, field);
  return { copy: JSON.parse(text) as Record<string, unknown>, text };
}

export function validateOptions(options: ManagerOptions): void {
  if (!isPlain(options)) throw invalidInput('options', options, 'must be an object');
  optionalTimeout('options.timeoutMs', options.timeoutMs);
  if (options.onTimeout !== undefined && options.onTimeout !== 'error' && options.onTimeout !== 'reject') {
    throw invalidInput('options.onTimeout', options.onTimeout, "must be 'error' or 'reject'");
  }
  if (options.defaultOutcome !== undefined && options.defaultOutcome !== 'review' && options.defaultOutcome !== 'deny') {
    throw invalidInput('options.defaultOutcome', options.defaultOutcome, "must be 'review' or 'deny'");
  }
  if (options.notifiers !== undefined) {
    if (!Array.isArray(options.notifiers)) throw invalidInput('options.notifiers', options.notifiers, 'must be an array');
    options.notifiers.forEach((notifier: Notifier, index) => {
      if (typeof notifier !== 'object' || notifier === null || typeof notifier.notify !== 'function') {
        throw invalidInput(`options.notifiers[${index}]`, notifier, 'must be an object with a notify function');
      }
      requireNonEmptyString(`options.notifiers[${index}].name`, notifier.name);
    });
  }
  if (options.policies !== undefined && !Array.isArray(options.policies)) {
    throw invalidInput('options.policies', options.policies, 'must be an array');
  }
  if (options.shadowPolicies !== undefined && !Array.isArray(options.shadowPolicies)) {
    throw invalidInput('options.shadowPolicies', options.shadowPolicies, 'must be an array');
  }
  const store = options.store;
  if (store !== undefined) {
    for (const method of ['create', 'get', 'list', 'decide', 'subscribe'] as const) {
      if (typeof store !== 'object' || store === null || typeof store[method] !== 'function') {
        throw invalidInput(`options.store.${method}`, store?.[method], 'must be a function (options.store must implement ApprovalStore)');
      }
    }
  }
  for (const name of ['now', 'generateId'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw invalidInput(`options.${name}`, options[name], 'must be a function');
    }
  }
  if (options.hooks !== undefined && !isPlain(options.hooks)) throw invalidInput('options.hooks', options.hooks, 'must be an object');
}

/** Checks a request and copies it into the stored shape; `inputText` is the canonical JSON of its input. */
export function normalizeRequest(request: InteractionRequest, generateId: () => string): { stored: StoredRequest; inputText: string } {
  if (!isPlain(request)) throw invalidInput('request', request, 'must be an object');
  const id = request.id === undefined ? requireId('generated id', generateId()) : requireId('request.id', request.id);
  const type = request.type ?? 'approval';
  if (!isInteractionType(type))
    throw invalidInput('request.type', type, "is not an interaction type ('approval', 'feedback', 'input' or 'annotation')");
  const toolName = requireToolName('request.toolName', request.toolName);
  const stored: StoredRequest = { id, type, toolName };
  const description = optionalString('request.description', request.description);
  if (description !== undefined) stored.description = description;
  let inputText = '{}';
  if (optionalPlainObject('request.input', request.input) !== undefined) {
    const { copy, text } = jsonCopy('request.input', request.input as Record<string, unknown>);
    stored.input = copy;
    inputText = text;
  }
  if (request.riskLevel !== undefined) {
    if (!isRiskLevel(request.riskLevel)) {
      throw invalidInput(
        'request.riskLevel',
        request.riskLevel,
        "is not a risk level ('read_only', 'data_modification' or 'irreversible')",
      );
    }
    stored.riskLevel = request.riskLevel;
  }
  const confidence = optionalUnitInterval('request.confidence', request.confidence);
  if (confidence !== undefined) stored.confidence = confidence;
  const timeout = optionalTimeout('request.timeoutMs', request.timeoutMs);
  if (timeout !== undefined) stored.timeoutMs = timeout;
  if (request.requestedBy !== undefined) stored.requestedBy = requireIdentity('request.requestedBy', request.requestedBy);
  if (request.threadId !== undefined) stored.threadId = requireIdentity('request.threadId', request.threadId);
  if (request.runId !== undefined) stored.runId = requireIdentity('request.runId', request.runId);
  if (request.inputSchema !== undefined) stored.inputSchema = normalizeInputSchema('request.inputSchema', request.inputSchema).copy;
  if (optionalPlainObject('request.metadata', request.metadata) !== undefined) {
    stored.metadata = jsonCopy('request.metadata', request.metadata as Record<string, unknown>).copy;
  }
  return { stored, inputText };
}

/** A reviewer's response, checked: the decision, and the optional fields it may carry. */
export interface CheckedResponse {
  decision: Decision;
  feedback: string | undefined;
  respondedBy: string | undefined;
  metadata: Record<string, unknown> | undefined;
  modified: Record<string, unknown> | undefined;
  idempotencyKey: string | undefined;
}

/** Checks `respond`'s input; `modified` is required with (and only allowed with) `modify`. */
export function checkResponse(input: RespondInput): CheckedResponse {
  if (!isPlain(input)) throw invalidInput('response', input, 'must be an object');
  const { decision } = input;
  if (!isDecision(decision)) throw invalidInput('decision', decision, "is not a decision ('approve', 'reject' or 'modify')");
  const feedback = optionalString('feedback', input.feedback);
  const respondedBy = input.respondedBy === undefined ? undefined : requireIdentity('respondedBy', input.respondedBy);
  const metadata = optionalPlainObject('metadata', input.metadata);
  let modified: Record<string, unknown> | undefined;
  if (decision === 'modify') {
    if (input.modified === undefined) throw invalidInput('modified', input.modified, "is required when decision is 'modify'");
    if (!isPlainObject(input.modified)) throw invalidInput('modified', input.modified, 'must be a plain object');
    modified = jsonCopy('modified', input.modified).copy;
  } else if (input.modified !== undefined) {
    throw invalidInput('modified', input.modified, "is only allowed when decision is 'modify'");
  }

  const idempotencyKey = optionalString('idempotencyKey', input.idempotencyKey);
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 200)) {
    throw invalidInput('idempotencyKey', idempotencyKey, 'must be 1 to 200 characters');
  }
  return { decision, feedback, respondedBy, metadata, modified, idempotencyKey };
}

/**
 * An idempotent retry is the same call: same tool, same kind of interaction, same risk, same
 * arguments. Anything else under an existing id is a `conflict`: it must not inherit the existing
 * record's decision.
 */
export function requireSameRequest(existing: ApprovalRecord, inputHash: string, request: StoredRequest): void {
  const id = existing.request.id;
  if (existing.request.toolName !== request.toolName) {
    throw new HitlError('conflict', `request '${id}' already exists for tool '${existing.request.toolName}', not '${request.toolName}'`, {
      details: { field: 'toolName', value: describeValue(request.toolName), ids: [id] },
    });
  }
  if (existing.request.type !== request.type) {
    throw new HitlError('conflict', `request '${id}' already exists as a '${existing.request.type}' request, not '${request.type}'`, {
      details: { field: 'type', value: describeValue(request.type), ids: [id] },
    });
  }
  if ((existing.request.riskLevel ?? 'irreversible') !== (request.riskLevel ?? 'irreversible')) {
    throw new HitlError('conflict', `request '${id}' already exists with risk level '${existing.request.riskLevel ?? 'irreversible'}'`, {
      details: { field: 'riskLevel', value: describeValue(request.riskLevel), ids: [id] },
    });
  }
  if (existing.inputHash !== inputHash) {
    throw new HitlError('conflict', `request '${id}' already exists with different input`, { details: { field: 'input', ids: [id] } });
  }
}

/** The no-self-approval rule: `forbidden` when the requester decides, or when a requester exists and nobody says who decides. */
export function requireNotRequester(record: ApprovalRecord, respondedBy: string | undefined): void {
  const requestedBy = record.request.requestedBy;
  if (requestedBy !== undefined) {
    // An anonymous decision cannot prove it is not the requester's own.
    if (respondedBy === undefined) {
      throw new HitlError(
        'forbidden',
        `request '${record.request.id}' was made by '${requestedBy}': a decision on it must say who respondedBy`,
        {
          details: { field: 'respondedBy' },
        },
      );
    }
    if (sameIdentity(respondedBy, requestedBy)) {
      throw new HitlError(
        'forbidden',
        `respondedBy '${respondedBy}' is '${requestedBy}', who made request '${record.request.id}', and may not decide it`,
        {
          details: { field: 'respondedBy', value: respondedBy },
        },
      );
    }
  }
}
