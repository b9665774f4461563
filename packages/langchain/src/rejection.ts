import { HitlError } from '@hitl/core';
import type { InteractionResponse } from '@hitl/core';

/**
 * Why a tool call did not run:
 * - `policy`: a policy denied it (`deny: true`, or `defaultOutcome: 'deny'`), or a deny grant did (the
 *   response's `metadata.grant` names it), nobody was asked;
 * - `reviewer`: a human rejected it;
 * - `timeout`: nobody decided in time and the manager has `onTimeout: 'reject'`;
 * - `invalid_modification`: a reviewer edited the arguments into something the tool's schema refuses.
 *
 * @example
 * ```ts
 * if (ToolRejectedError.is(error) && error.reason === 'timeout') scheduleRetry();
 * ```
 */
export type RejectionReason = 'policy' | 'reviewer' | 'timeout' | 'invalid_modification';

/**
 * What is known about a refused tool call. {@link ToolRejectedError} carries it, and
 * `formatRejection` turns it into the text the model reads.
 *
 * @example
 * ```ts
 * const formatRejection = (rejection: ToolRejection) =>
 *   rejection.reason === 'reviewer' ? `A human said no: ${rejection.feedback ?? 'no reason given'}` : defaultRejectionMessage(rejection);
 * ```
 */
export interface ToolRejection {
  reason: RejectionReason;
  toolName: string;
  /** The manager's request id; empty when nothing was stored (a call to a name no tool can have). */
  requestId: string;
  /** The reviewer's feedback, the policy's reason, the expiry note, or the schema's complaint. */
  feedback?: string;
  /** The decision as the manager recorded it. */
  response?: InteractionResponse;
}

/**
 * The text the model reads when a call is refused (`onReject: 'message'`, the default):
 * `"Rejected by reviewer: <feedback>"`, `"Denied by policy: <reason>"`,
 * `"Rejected: nobody approved the call in time (<note>)"` or
 * `"Rejected: the reviewer's edited arguments are invalid: <details>"`.
 *
 * @example
 * ```ts
 * defaultRejectionMessage({ reason: 'reviewer', toolName: 'delete_user', requestId: 'hitl-1', feedback: 'wrong user' });
 * // 'Rejected by reviewer: wrong user'
 * ```
 */
export function defaultRejectionMessage(rejection: ToolRejection): string {
  const { feedback } = rejection;
  switch (rejection.reason) {
    case 'reviewer':
      return feedback ? `Rejected by reviewer: ${feedback}` : 'Rejected by reviewer.';
    case 'policy':
      return feedback ? `Denied by policy: ${feedback}` : 'Denied by policy.';
    case 'timeout':
      return feedback ? `Rejected: nobody approved the call in time (${feedback})` : 'Rejected: nobody approved the call in time.';
    case 'invalid_modification':
      return `Rejected: the reviewer's edited arguments are invalid: ${feedback ?? 'they do not match the tool schema'}`;
  }
}

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
  readonly requestId: string;
  readonly feedback?: string;
  readonly response?: InteractionResponse;
  private readonly [rejectedBrand] = true;

  constructor(rejection: ToolRejection, message: string = defaultRejectionMessage(rejection)) {
    super('forbidden', message);
    this.name = 'ToolRejectedError';
    this.reason = rejection.reason;
    this.toolName = rejection.toolName;
    this.requestId = rejection.requestId;
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
