/**
 * `@hitl/core/internal`: helpers hitl's own packages share (error messages, value descriptions, the
 * manager check, the default scheduler, option validation).
 *
 * For hitl's own packages only. Nothing here carries a semver promise: it changes in any release,
 * like tRPC's `unstable-core-do-not-import`. Applications use `@hitl/core`.
 */
import { HitlError } from './hitl-error.js';
import type { Manager, Scheduler } from './types.js';

export { checkGetManyIds, describeValue, invalidInput, isPlain, isPlainObject, MAX_GET_MANY, optionalTimeout } from './validation.js';
export { normalizeListQuery, matchesListQuery } from './memory-store.js';
export { checkAddApprovalInput, alreadyApproved, MAX_APPROVALS, requiredApprovals } from './four-eyes.js';
export { identityKey } from './identity.js';
export { isResumable, normalizeUnresumedQuery, resumeClaimsUnsupported, validateResumeClaimArguments } from './resume-claim.js';
export { rejectionOfResponse } from './tool-rejection.js';
export { requestFacts } from './request-facts.js';
export { callbackRejection, checkedConfidence, checkedRiskLevel, type AssessmentCallback } from './assessment-callbacks.js';
export { isGrantLive, matchesGrantQuery } from './grants/grant-validation.js';
export {
  checkJobInputs,
  matchesJobFilter,
  normalizeClaim,
  normalizeNextDue,
  normalizeOutboxQuery,
  requireInstant,
} from './outbox/job-validation.js';
/** How `submit` records an evaluation for a request's type (only `approval` requests are decided by a policy): for `hitl replay`. */
export { evaluationOfType } from './request-evaluation.js';

/** True for any non-null object that is not an array (class instances included, unlike `isPlainObject`). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The message of an error, or the value as text. A `cause` with a string `code` (a network or
 * database error's) is added when the message does not already say it.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** `setTimeout`/`clearTimeout` of the running process: the scheduler when none is injected. */
export const defaultScheduler: Scheduler = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Throws `HitlError('invalid_input')` (details: the field) unless `value` has every one of
 * `methods`: the check adapters make on the manager they are given.
 */
export function requireManager(value: unknown, methods: readonly (keyof Manager)[], field = 'manager'): asserts value is Manager {
  for (const method of methods) {
    if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[method] !== 'function') {
      throw new HitlError('invalid_input', `${field} must be a Manager from createManager() (it has no ${method}() method)`, {
        details: { field },
      });
    }
  }
}
export { createResumeLoop, MAX_RESUME_ATTEMPTS } from './resume-loop.js';
export type { ResumeClaims, ResumeLoop, ResumeLoopOptions, ResumeStep } from './resume-loop.js';
