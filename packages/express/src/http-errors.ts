/** How the review API turns errors into HTTP answers: status, code, message and the error's details. */
import { HitlError, type HitlErrorCode, type HitlErrorDetails } from '@hitl/core';

/**
 * Every `error.code` the review API sends: the core's {@link HitlErrorCode}s plus the HTTP-level
 * codes of the router itself.
 *
 * @example
 * ```ts
 * const body = (await response.json()) as { error: { code: ReviewErrorCode; message: string; details?: HitlErrorDetails } };
 * if (body.error.code === 'conflict') showAlreadyDecided();
 * ```
 */
export type ReviewErrorCode = HitlErrorCode | 'unauthorized' | 'payload_too_large' | 'unsupported_media_type' | 'internal_error';

/** An error the router answers with, as `{ error: { code, message, details? } }` and an HTTP status. */
export interface HttpFailure {
  status: number;
  code: ReviewErrorCode;
  message: string;
  /** The requests (or grants) the error is about, when there are several: a bulk decision's. */
  ids?: readonly string[];
  /** The `HitlError`'s structured details (`field`, `value`, `path`, `ids`), when it has them. */
  details?: HitlErrorDetails;
}

/** Where each core error code lands. `timeout` is a state conflict (the deadline passed): 409. */
const statusOfHitlCode: Readonly<Record<HitlErrorCode, number>> = {
  invalid_input: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  timeout: 409,
  notify_failed: 502,
  cancelled: 503,
  store_unavailable: 503,
};

/** A failure raised by the router itself (401, 403 from `authorize`, 415...). */
export class RouteFailure extends Error {
  readonly status: number;
  readonly code: ReviewErrorCode;
  readonly ids?: readonly string[];

  constructor(status: number, code: ReviewErrorCode, message: string, ids?: readonly string[]) {
    super(message);
    this.name = 'RouteFailure';
    this.status = status;
    this.code = code;
    if (ids !== undefined) this.ids = ids;
  }
}

/** The shape of the errors `express.json()` (body-parser) raises: an http-errors object. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
}

function bodyParserFailure(error: BodyParserError): HttpFailure | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return { status: 413, code: 'payload_too_large', message: 'the request body is larger than the limit of this endpoint' };
    case 'entity.parse.failed':
      return { status: 400, code: 'invalid_input', message: 'the request body is not valid JSON (it must be a JSON object)' };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return {
        status: 415,
        code: 'unsupported_media_type',
        message: 'the request body must be UTF-8 JSON without an unsupported content encoding',
      };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return { status: 400, code: 'invalid_input', message: 'the request body could not be read' };
    default:
      break;
  }
  const status = typeof error.status === 'number' ? error.status : error.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return { status, code: 'payload_too_large', message: 'the request body is too large' };
    if (status === 415) return { status, code: 'unsupported_media_type', message: 'the request body has an unsupported media type' };
    return { status: 400, code: 'invalid_input', message: 'the request could not be read' };
  }
  return undefined;
}

function statusOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  return typeof status === 'number' ? status : statusCode;
}

/**
 * What an error thrown by `authenticate` answers: a `HitlError` or a `RouteFailure` as itself; an
 * error carrying `status` (or `statusCode`) 401 or 403, as `http-errors` and most auth libraries
 * make them, as that status (its message shown only when `expose` is true, as `http-errors` marks
 * client-safe messages); anything else as it is (a 500).
 */
export function authenticationFailure(error: unknown): unknown {
  if (error instanceof RouteFailure || HitlError.is(error)) return error;
  const status = statusOf(error);
  if (status !== 401 && status !== 403) return error;
  const exposed = (error as { expose?: unknown; message?: unknown }).expose === true ? (error as { message?: unknown }).message : undefined;
  const detail = typeof exposed === 'string' && exposed.trim() !== '' ? `: ${exposed.slice(0, 200)}` : '';
  return status === 401
    ? new RouteFailure(401, 'unauthorized', `no reviewer identity${detail}`)
    : new RouteFailure(403, 'forbidden', `the reviewer may not use this API${detail}`);
}

/**
 * Converts anything thrown while serving a request into a status and a client-safe message.
 * Unexpected errors become a generic 500 (`expected: false`): their message and stack stay on the
 * server.
 */
export function toHttpFailure(error: unknown): HttpFailure & { expected: boolean } {
  if (error instanceof RouteFailure) {
    const failure = { status: error.status, code: error.code, message: error.message, expected: true };
    return error.ids === undefined ? failure : { ...failure, ids: error.ids };
  }
  if (HitlError.is(error)) {
    let failure: HttpFailure & { expected: boolean } = {
      status: statusOfHitlCode[error.code] ?? 500,
      code: error.code,
      message: error.message,
      expected: true,
    };
    if (error.details?.ids !== undefined) failure = { ...failure, ids: error.details.ids };
    return error.details === undefined ? failure : { ...failure, details: error.details };
  }
  if (typeof error === 'object' && error !== null) {
    const failure = bodyParserFailure(error as BodyParserError);
    if (failure) return { ...failure, expected: true };
  }
  return { status: 500, code: 'internal_error', message: 'the server failed to handle this request', expected: false };
}
