/** Validation of createReviewRouter's options: every bad option is a startup error naming the option and its value. */
import { HitlError } from '@hitl/core';
import { isPlainObject, requireManager } from '@hitl/core/internal';
import type { Reviewer, ReviewRouterOptions } from './router-types.js';

const byteSizePattern = /^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i;

/** Like `invalidInput`, but the value is shown by its kind ('boolean', 'object') and the message names createReviewRouter. */
function invalidOption(field: string, value: unknown, problem: string): HitlError {
  const shown = typeof value === 'string' ? `'${value.slice(0, 60)}'` : typeof value === 'number' ? String(value) : typeof value;
  return new HitlError('invalid_input', `createReviewRouter: options.${field} ${shown} ${problem}`, {
    details: { field: `options.${field}`, value: shown },
  });
}

/**
 * Why `value` cannot be the dashboard's sign-out link, or undefined when it can: a path on this
 * origin or an http(s) URL. No other scheme (`javascript:`), no `//host` nor backslash (a path that
 * browsers would read as another host), no spaces or control characters.
 */
function signOutUrlProblem(value: unknown): string | undefined {
  const allowed = "must be a path such as '/logout' or an http(s) URL";
  if (typeof value !== 'string' || value === '' || value.length > 2048) return allowed;
  if (/[\s\\\p{Cc}]/u.test(value)) return `${allowed}, without spaces, backslashes or control characters`;
  if (/^https?:\/\//i.test(value)) return URL.canParse(value) ? undefined : `is not a valid URL; it ${allowed}`;
  if (value.startsWith('//')) return `${allowed} (a URL without its scheme is not accepted: write https://…)`;
  // A scheme is what comes before the first ':' that precedes any '/', '?' or '#'.
  if (/^[^/?#]*:/.test(value)) return allowed;
  return undefined;
}

export function validateOptions(options: ReviewRouterOptions<Reviewer>): void {
  if (!isPlainObject(options))
    throw new HitlError('invalid_input', 'createReviewRouter: options must be an object', { details: { field: 'options' } });
  requireManager(options.manager, ['get', 'list', 'respond', 'subscribe'], 'options.manager');
  if (options.allowAnonymous !== undefined && typeof options.allowAnonymous !== 'boolean') {
    throw invalidOption('allowAnonymous', options.allowAnonymous, 'must be a boolean');
  }
  if (options.authenticate === undefined) {
    if (options.allowAnonymous !== true) {
      throw new HitlError(
        'invalid_input',
        'createReviewRouter: options.authenticate is required to identify reviewers; pass allowAnonymous: true to let anyone who reaches the router decide requests',
        { details: { field: 'options.authenticate', value: 'undefined' } },
      );
    }
  } else if (typeof options.authenticate !== 'function') {
    throw invalidOption('authenticate', options.authenticate, 'must be a function (request) => { id, roles? } | null');
  }
  if (options.manageDeliveries !== undefined && typeof options.manageDeliveries !== 'function') {
    throw invalidOption('manageDeliveries', options.manageDeliveries, 'must be a function (reviewer) => boolean');
  }
  if (options.authorize !== undefined && typeof options.authorize !== 'function') {
    throw invalidOption('authorize', options.authorize, 'must be a function (reviewer, record, action) => boolean');
  }
  if (options.authorizeGrant !== undefined && typeof options.authorizeGrant !== 'function') {
    throw invalidOption('authorizeGrant', options.authorizeGrant, 'must be a function (reviewer, grant, action) => boolean');
  }
  if (options.dashboard !== undefined && typeof options.dashboard !== 'boolean') {
    throw invalidOption('dashboard', options.dashboard, 'must be a boolean');
  }
  if (options.signOutUrl !== undefined) {
    const problem = signOutUrlProblem(options.signOutUrl);
    if (problem) throw invalidOption('signOutUrl', options.signOutUrl, problem);
  }
  const { bodyLimit } = options;
  if (bodyLimit !== undefined) {
    const valid =
      typeof bodyLimit === 'number'
        ? Number.isSafeInteger(bodyLimit) && bodyLimit > 0
        : typeof bodyLimit === 'string' && byteSizePattern.test(bodyLimit);
    if (!valid) throw invalidOption('bodyLimit', bodyLimit, "must be a positive number of bytes or a size such as '64kb'");
  }
  const positive = (field: 'heartbeatMs' | 'eventBufferSize' | 'resumeWindowMs', value: unknown, allowZero: boolean, integer: boolean) => {
    if (value === undefined) return;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (value === 0 && !allowZero) ||
      (integer && !Number.isInteger(value))
    ) {
      throw invalidOption(field, value, `must be a ${allowZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'finite number'}`);
    }
  };
  positive('heartbeatMs', options.heartbeatMs, false, false);
  positive('eventBufferSize', options.eventBufferSize, false, true);
  positive('resumeWindowMs', options.resumeWindowMs, true, false);
  if (options.eventBufferSize !== undefined && options.eventBufferSize > 100_000) {
    throw invalidOption('eventBufferSize', options.eventBufferSize, 'must be at most 100000');
  }
  if (
    options.logger !== undefined &&
    (typeof options.logger !== 'object' || options.logger === null || typeof options.logger.error !== 'function')
  ) {
    throw invalidOption('logger', options.logger, 'must have an error function');
  }
  const { scheduler } = options;
  if (
    scheduler !== undefined &&
    (typeof scheduler !== 'object' ||
      scheduler === null ||
      typeof scheduler.setTimeout !== 'function' ||
      typeof scheduler.clearTimeout !== 'function')
  ) {
    throw invalidOption('scheduler', scheduler, 'must have setTimeout and clearTimeout functions');
  }
}
