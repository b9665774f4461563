/** `ToolRejection`: why an adapter refused a tool call, and the text the model reads about it. */
import type { InteractionResponse } from './types.js';

/**
 * Why a tool call did not run:
 * - `policy`: a policy denied it (`deny: true`, or `defaultOutcome: 'deny'`), or a deny grant did (the
 *   response's `metadata.grant` names it), nobody was asked;
 * - `reviewer`: a human rejected it;
 * - `timeout`: nobody decided in time and the manager has `onTimeout: 'reject'`;
 * - `invalid_modification`: a reviewer edited the arguments into something the tool's schema refuses;
 * - `invalid_tool`: the call names something that cannot be a tool name;
 * - `callback_failed`: your `riskLevel` or `confidence` callback threw or returned something that is
 *   not a risk level / a number in [0, 1], so nobody could judge the call (the feedback names it);
 * - `unavailable`: the call could not be sent for approval (the store failed, for example).
 *
 * @example
 * ```ts
 * import type { RejectionReason } from '@hitl/core';
 * const retryable = (reason: RejectionReason) => reason === 'timeout' || reason === 'unavailable';
 * ```
 */
export type RejectionReason =
  'policy' | 'reviewer' | 'timeout' | 'invalid_modification' | 'invalid_tool' | 'callback_failed' | 'unavailable';

/**
 * What is known about a refused tool call, the same in every hitl adapter (LangChain, AI SDK, MCP).
 * Their `formatRejection` option turns it into what the model reads.
 *
 * @example
 * ```ts
 * import { defaultRejectionMessage, type ToolRejection } from '@hitl/core';
 * const formatRejection = (rejection: ToolRejection) =>
 *   rejection.reason === 'reviewer' ? `A human said no: ${rejection.feedback ?? 'no reason given'}` : defaultRejectionMessage(rejection);
 * ```
 */
export interface ToolRejection {
  reason: RejectionReason;
  toolName: string;
  /** The manager's request id, when a request was recorded. */
  requestId?: string;
  /** The reviewer's feedback, the policy's reason, the expiry note, or what was wrong. */
  feedback?: string;
  /** The decision as the manager recorded it, when there was one. */
  response?: InteractionResponse;
}

/**
 * The text the model reads when a call is refused: `"Rejected by reviewer: <feedback>"`,
 * `"Denied by policy: <reason>"`, `"Rejected: nobody approved the call in time (<note>)"`,
 * `"Rejected: the reviewer's edited arguments are invalid: <details>"` or `"Refused: <problem>"`.
 *
 * @example
 * ```ts
 * import { defaultRejectionMessage } from '@hitl/core';
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
    case 'invalid_tool':
    case 'callback_failed':
    case 'unavailable':
      return `Refused: ${feedback ?? 'the call could not be sent for approval'}`;
  }
}

/**
 * The rejection for a decided request that did not approve the call (internal: adapters use it).
 * An automatic reject is a `timeout` when the expiry made it, else `automaticReason` (`'policy'` for
 * a request decided when it was submitted); the policy's reason is the feedback when nobody gave one.
 */
export function rejectionOfResponse(
  toolName: string,
  requestId: string,
  response: InteractionResponse,
  options: { automaticReason?: 'policy' | 'timeout'; policyReason?: string | undefined } = {},
): ToolRejection {
  const automaticReason = response.metadata?.cause === 'expiry' ? 'timeout' : (options.automaticReason ?? 'policy');
  const reason = response.automatic ? automaticReason : 'reviewer';
  const rejection: ToolRejection = { reason, toolName, requestId, response };
  const feedback = response.feedback ?? (reason === 'policy' ? options.policyReason : undefined);
  if (feedback !== undefined) rejection.feedback = feedback;
  return rejection;
}
