/** Turns a store's unexpected failure into `store_unavailable`, so callers see one error code for "the store broke". */
import { HitlError } from './hitl-error.js';
import { errorMessage } from './internal.js';

/** Turns a store's unexpected failure into `store_unavailable`; HitlErrors pass through. */
export function storeFailure(error: unknown): HitlError {
  if (HitlError.is(error)) return error;
  return new HitlError('store_unavailable', `the approval store failed: ${errorMessage(error)}`, { cause: error });
}
