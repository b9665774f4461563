/** `createSlackWebhookNotifier`: the incoming-webhook Slack notifier, re-exported from @hitl/notifier-webhook. */
import {
  createSlackNotifier as createIncomingWebhookNotifier,
  toSlackMessage,
  type DashboardUrl,
  type SlackMessage,
  type SlackNotifierOptions as SlackWebhookNotifierOptions,
  type WebhookNotifier,
} from '@hitl/notifier-webhook';

export { toSlackMessage, type DashboardUrl, type SlackMessage, type SlackWebhookNotifierOptions };

/**
 * A notifier that posts each pending request to a Slack **incoming webhook** (no bot token, no
 * buttons: a Review link to your dashboard). It is `@hitl/notifier-webhook`'s Slack notifier, with
 * its queue, retries and signed delivery; import it from here, where every Slack feature lives.
 * For Approve/Reject/Edit buttons use {@link createSlackNotifier} with a bot token.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createSlackWebhookNotifier } from '@hitl/slack';
 *
 * const manager = createManager({
 *   notifiers: [createSlackWebhookNotifier({ webhookUrl: process.env.SLACK_WEBHOOK_URL!, dashboardUrl: 'https://agents.example.com/hitl/' })],
 * });
 * ```
 */
export function createSlackWebhookNotifier(options: SlackWebhookNotifierOptions): WebhookNotifier {
  return createIncomingWebhookNotifier(options);
}
