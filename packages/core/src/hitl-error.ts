// `HitlError`: hitl's one error class, with a code, a cause and structured details.
const brand = Symbol.for('@hitl/core.HitlError');

/** Every code a {@link HitlError} can carry. */
export type HitlErrorCode =
  'invalid_input' | 'not_found' | 'conflict' | 'forbidden' | 'timeout' | 'cancelled' | 'notify_failed' | 'store_unavailable';

/**
 * Structured facts about a {@link HitlError}: the field at fault, the value (shortened), for
 * schema errors the path inside the value, and for errors about several requests or grants their ids.
 *
 * @example
 * ```ts
 * if (HitlError.is(error, 'invalid_input')) console.log(error.details?.path); // 'modified/user_id'
 * ```
 */
export interface HitlErrorDetails {
  field?: string;
  value?: string;
  path?: string;
  ids?: readonly string[];
}

/**
 * The one error class of hitl. `code` says what went wrong; `message` names the field and value.
 * Use {@link HitlError.is} rather than `instanceof`: it also recognises errors thrown by another
 * copy of `@hitl/core` (two versions installed side by side).
 *
 * @example
 * ```ts
 * try {
 *   await manager.respond(id, { decision: 'approve' });
 * } catch (error) {
 *   if (HitlError.is(error, 'conflict')) console.log('someone else decided first');
 *   else throw error;
 * }
 * ```
 */
export class HitlError extends Error {
  readonly code: HitlErrorCode;
  /** What the error is about, for callers that read fields rather than text: `{ field, value, path, ids }`. */
  readonly details?: HitlErrorDetails;
  private readonly [brand] = true;

  constructor(code: HitlErrorCode, message: string, options?: { cause?: unknown; details?: HitlErrorDetails | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HitlError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }

  /**
   * True when `error` is a `HitlError` (from any copy of the package), and, when `code` is given,
   * carries that code.
   *
   * @example
   * ```ts
   * if (HitlError.is(error, 'timeout')) retryLater();
   * ```
   */
  static is(error: unknown, code?: HitlErrorCode): error is HitlError {
    if (typeof error !== 'object' || error === null) return false;
    if ((error as Record<symbol, unknown>)[brand] !== true) return false;
    return code === undefined || (error as HitlError).code === code;
  }

  /** A plain `{ code, message }` object, safe to send to a client. */
  toJSON(): { code: HitlErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
