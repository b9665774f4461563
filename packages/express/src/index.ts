export { createReviewRouter, type ReviewAction, type ReviewRouterOptions, type Reviewer } from './review-router.js';
export type { ReviewErrorCode } from './http-errors.js';
