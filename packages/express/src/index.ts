// The public entry of @hitl/express.
export { createReviewRouter, type GrantAction, type ReviewAction, type ReviewRouterOptions, type Reviewer } from './review-router.js';
export type { ReviewErrorCode } from './http-errors.js';
export {
  createDecisionLinks,
  type DecisionLinks,
  type DecisionLinksOptions,
  type DecisionLinksRouterOptions,
  type ReviewerLinks,
  type UsedTokenStore,
} from './decision-links.js';
