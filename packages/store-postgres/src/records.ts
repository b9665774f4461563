/** Rows and records: how an approval record is written to and read from its PostgreSQL row. */
import { HitlError, isDecision, isInteractionType, isRequestStatus } from '@hitl/core';
import type { ApprovalRecord, DecidePatch, InteractionResponse, PolicyEvaluation, RequestStatus, StoredRequest } from '@hitl/core';
import { invalidInput, isRecord } from '@hitl/core/internal';
import { readApprovals } from './approvals-sql.js';

/** A row as the store selects it: every column as text (see `RECORD_COLUMNS`). */
export interface RecordRow {
  id: string;
  seq: string;
  change_seq: string;
  type: string;
  tool_name: string;
  status: string;
  request: string;
  evaluation: string;
  input_hash: string;
  created_ms: string;
  expires_ms: string | null;
  closed_ms: string | null;
  closed_reason: string | null;
  response: string | null;
  /** Four eyes (migration 4): NULL for a request that needs one approval. */
  approvals_required?: string | null;
  approvals?: string | null;
}

/** A record with the sequence numbers of its row. */
export interface StoredRow {
  record: ApprovalRecord;
  /** Creation order: the list cursor. */
  seq: bigint;
  /** Bumped by every change: how listeners tell new changes from ones already seen. */
  changeSeq: bigint;
}

/** The earliest instant PostgreSQL's ISO 8601 input reads the way JavaScript writes it (0001-01-01). */
const MIN_TIMESTAMP_MS = -62_135_596_800_000;

/** Freezes an object and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** An ISO 8601 timestamp as PostgreSQL reads it exactly (`+275760-…` loses its sign); `invalid_input` otherwise. */
export function toTimestampParameter(field: string, value: unknown): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalidInput(field, value, 'is not an ISO 8601 timestamp');
  if (ms < MIN_TIMESTAMP_MS) throw invalidInput(field, value, 'is before the year 1');
  return new Date(ms).toISOString().replace(/^\+/, '');
}

function optionalTimestampParameter(field: string, value: unknown): string | null {
  return value === undefined ? null : toTimestampParameter(field, value);
}

function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalidInput(field, value, 'must be a non-empty string');
  return value;
}

function checkResponse(field: string, response: unknown): void {
  if (!isRecord(response)) throw invalidInput(field, response, 'must be an object');
  requireString(`${field}.requestId`, response.requestId);
  if (!isDecision(response.decision))
    throw invalidInput(`${field}.decision`, response.decision, "is not a decision ('approve', 'reject' or 'modify')");
  toTimestampParameter(`${field}.respondedAt`, response.respondedAt);
}

/** JSON text for a jsonb parameter; `invalid_input` when the value cannot be written as JSON. */
function jsonParameter(field: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new HitlError('invalid_input', `${field} cannot be stored as JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      details: { field },
    });
  }
  if (text === undefined) throw invalidInput(field, value, 'cannot be stored as JSON');
  return text;
}

/** The parameters of the insert statement (`$1`–`$12`) for a record, checked first. */
export function insertParameters(record: unknown): unknown[] {
  if (!isRecord(record)) throw invalidInput('record', record, 'must be an object');
  const request = record.request;
  if (!isRecord(request)) throw invalidInput('record.request', request, 'must be an object');
  const id = requireString('record.request.id', request.id);
  if (!isInteractionType(request.type)) throw invalidInput('record.request.type', request.type, 'is not an interaction type');
  const toolName = requireString('record.request.toolName', request.toolName);
  if (!isRequestStatus(record.status)) throw invalidInput('record.status', record.status, 'is not a request status');
  const evaluation = record.evaluation;
  if (!isRecord(evaluation) || typeof evaluation.outcome !== 'string' || typeof evaluation.reason !== 'string') {
    throw invalidInput('record.evaluation', evaluation, 'must be an object with an outcome and a reason');
  }
  const inputHash = requireString('record.inputHash', record.inputHash);
  if (record.closedReason !== undefined && typeof record.closedReason !== 'string') {
    throw invalidInput('record.closedReason', record.closedReason, 'must be a string');
  }
  if (record.response !== undefined) checkResponse('record.response', record.response);
  return [
    id,
    request.type,
    toolName,
    record.status,
    jsonParameter('record.request', request),
    jsonParameter('record.evaluation', evaluation),
    inputHash,
    toTimestampParameter('record.createdAt', record.createdAt),
    optionalTimestampParameter('record.expiresAt', record.expiresAt),
    optionalTimestampParameter('record.closedAt', record.closedAt),
    record.closedReason ?? null,
    record.response === undefined ? null : jsonParameter('record.response', record.response),
  ];
}

/** The parameters `$3`–`$6` of the decide statements for a patch, checked first. */
export function decideParameters(patch: unknown): [DecidePatch['status'], string | null, string, string | null] {
  if (!isRecord(patch)) throw invalidInput('patch', patch, 'must be an object');
  const status = patch.status;
  if (!isRequestStatus(status) || status === 'pending') {
    throw invalidInput('patch.status', status, 'must be a final status (approved, rejected, modified, expired or cancelled)');
  }
  if (patch.closedReason !== undefined && typeof patch.closedReason !== 'string') {
    throw invalidInput('patch.closedReason', patch.closedReason, 'must be a string');
  }
  if (patch.response !== undefined) checkResponse('patch.response', patch.response);
  return [
    status,
    patch.response === undefined ? null : jsonParameter('patch.response', patch.response),
    toTimestampParameter('patch.closedAt', patch.closedAt),
    patch.closedReason ?? null,
  ];
}

/** Why a row cannot be read as a record. */
class BadRow extends Error {}

function parseJson(column: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRow(`column ${column} is not JSON`);
  }
}

function isoOf(column: string, text: string): string {
  const ms = Number(text);
  if (!Number.isFinite(ms) || Math.abs(ms) > 8_640_000_000_000_000) throw new BadRow(`column ${column} is out of range`);
  return new Date(ms).toISOString();
}

/**
 * Reads a row into a frozen record. A row that does not hold a record (edited by hand, written by
 * something else) is a `HitlError('store_unavailable')` naming the row and what is wrong with it.
 */
export function rowToStored(row: RecordRow, table: string): StoredRow {
  try {
    const request = parseJson('request', row.request);
    if (!isRecord(request)) throw new BadRow('column request is not a JSON object');
    if (request.id !== row.id) throw new BadRow('request.id does not match column id');
    if (!isInteractionType(request.type) || request.type !== row.type)
      throw new BadRow('request.type is not the interaction type in column type');
    if (typeof request.toolName !== 'string' || request.toolName !== row.tool_name)
      throw new BadRow('request.toolName does not match column tool_name');
    if (!isRequestStatus(row.status)) throw new BadRow(`status '${row.status}' is not a request status`);
    const evaluation = parseJson('evaluation', row.evaluation);
    if (!isRecord(evaluation) || typeof evaluation.outcome !== 'string' || typeof evaluation.reason !== 'string') {
      throw new BadRow('column evaluation is not a policy evaluation');
    }
    const record: ApprovalRecord = {
      request: request as unknown as StoredRequest,
      status: row.status as RequestStatus,
      evaluation: evaluation as unknown as PolicyEvaluation,
      inputHash: row.input_hash,
      createdAt: isoOf('created_at', row.created_ms),
    };
    if (row.expires_ms !== null) record.expiresAt = isoOf('expires_at', row.expires_ms);
    if (row.response !== null) {
      const response = parseJson('response', row.response);
      if (
        !isRecord(response) ||
        typeof response.requestId !== 'string' ||
        !isDecision(response.decision) ||
        typeof response.respondedAt !== 'string'
      ) {
        throw new BadRow('column response is not an interaction response');
      }
      record.response = response as unknown as InteractionResponse;
    }
    if (row.closed_reason !== null) record.closedReason = row.closed_reason;
    if (row.closed_ms !== null) record.closedAt = isoOf('closed_at', row.closed_ms);
    readApprovals(row, record);
    return { record: deepFreeze(record), seq: BigInt(row.seq), changeSeq: BigInt(row.change_seq) };
  } catch (error) {
    const problem = error instanceof BadRow ? error.message : `unreadable row (${String(error)})`;
    throw new HitlError('store_unavailable', `row '${row.id}' of ${table} is not a valid approval record: ${problem}`, { cause: error });
  }
}
