/** `ToolRejectedError`, the error a refused call throws with `onReject: 'throw'`; the rejection shape is core's. */
import { defaultRejectionMessage, HitlError } from '@hitl/core';
import type { InteractionResponse, RejectionReason, ToolRejection } from '@hitl/core';

// One shape for every hitl adapter: re-exported so `import { ToolRejection } from '@hitl/langchain'` keeps working.
export { defaultRejectionMessage };
export type { RejectionReason, ToolRejection };

const rejectedBrand = Symbol.for('@hitl/langchain.ToolRejectedError');

/**
 * Thrown instead of returning a message when `onReject: 'throw'` is set and a call is refused.
 * It is a {@link HitlError} with code `'forbidden'` (so `HitlError.is(error, 'forbidden')` holds)
 * and carries the {@link ToolRejection}: `reason`, `toolName`, `requestId`, `feedback`, `response`.
 *
 * @example
 * ```ts
 * try {
 *   await guardedDelete.invoke({ user_id: '42' });
 * } catch (error) {
 *   if (ToolRejectedError.is(error)) console.log(error.reason, error.feedback);
 *   else throw error;
 * }
 * ```
 */
export class ToolRejectedError extends HitlError implements ToolRejection {
  readonly reason: RejectionReason;
  readonly toolName: string;
  /** The manager's request id; empty when nothing was stored (a call nobody could judge). */
  readonly requestId: string;
  readonly feedback?: string;
  readonly response?: InteractionResponse;
  private readonly [rejectedBrand] = true;

  constructor(rejection: ToolRejection, message: string = defaultRejectionMessage(rejection)) {
    super('forbidden', message);
    this.name = 'ToolRejectedError';
    this.reason = rejection.reason;
    this.toolName = rejection.toolName;
    this.requestId = rejection.requestId ?? '';
    if (rejection.feedback !== undefined) this.feedback = rejection.feedback;
    if (rejection.response !== undefined) this.response = rejection.response;
  }

  /**
   * True when `error` is a `ToolRejectedError`, from this or another copy of the package.
   *
   * @example
   * ```ts
   * if (ToolRejectedError.is(error) && error.reason === 'policy') alertSecurity(error.toolName);
   * ```
   */
  static override is(error: unknown): error is ToolRejectedError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[rejectedBrand] === true;
  }
}
