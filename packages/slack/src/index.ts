// The public entry of @hitl/slack.
export { createSlackNotifier, type SlackNotifierOptions } from './slack-notifier.js';
export { createSlackActionsRouter, type SlackActionsRouterOptions } from './slack-actions-router.js';
export {
  SlackActionId,
  toSlackApprovalMessage,
  toSlackDecidedMessage,
  type SlackApprovalMessage,
  type SlackDecisionNote,
} from './slack-message.js';
export { signSlackRequest, verifySlackRequest, type VerifySlackRequestOptions } from './verify-slack-request.js';
export {
  createSlackWebhookNotifier,
  toSlackMessage,
  type DashboardUrl,
  type SlackMessage,
  type SlackWebhookNotifierOptions,
} from './slack-webhook-notifier.js';
