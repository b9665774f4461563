// The public entry of @hitl/notifier-webhook.
export {
  createWebhookNotifier,
  type WebhookCloseOptions,
  type WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookNotifierStats,
  type WebhookRetryOptions,
} from './webhook-notifier.js';
export { createSlackNotifier, toSlackMessage, type DashboardUrl, type SlackMessage, type SlackNotifierOptions } from './slack-notifier.js';
export { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from './verify-webhook.js';
export { toWebhookPayload, type WebhookPayload } from './payload.js';
export { toWebhookEvent, type WebhookEvent } from './webhook-event.js';
export { webhookIdOf } from './event-delivery.js';
export { generateWebhookSecret } from './secret.js';
