/** `createSlackNotifier`: posts each pending request to a Slack channel and updates it once decided. */
import type { ApprovalRecord, Notifier } from '@hitl/core';
import { invalidInput, isPlainObject } from '@hitl/core/internal';
import { WebClient } from '@slack/web-api';
import { toSlackApprovalMessage } from './slack-message.js';

/**
 * Options of {@link createSlackNotifier}.
 *
 * @example
 * ```ts
 * const options: SlackNotifierOptions = { token: process.env.SLACK_BOT_TOKEN!, channel: '#approvals', mask: ['password'] };
 * ```
 */
export interface SlackNotifierOptions {
  /** A bot token (`xoxb-…`) with the `chat:write` scope. */
  token: string;
  /** The channel id or name the messages go to (the bot must be a member). */
  channel: string;
  /** The Web API base URL, ending in `/`. Default Slack's own; tests point it at a local fake. */
  slackApiUrl?: string;
  /** Input keys (at any depth, case-insensitive) whose values are never shown: `['password', 'apiKey']`. */
  mask?: string[];
  /** The notifier's name in `notify-failed` events. Default `'slack'`. */
  name?: string;
}

/** @internal A WebClient that fails fast: a notifier's failure must not linger. */
export function createWebClient(token: string, slackApiUrl: string | undefined): WebClient {
  return new WebClient(token, {
    ...(slackApiUrl === undefined ? {} : { slackApiUrl }),
    timeout: 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
    rejectRateLimitedCalls: true,
  });
}

/**
 * A notifier that posts each pending request to a Slack channel through the Web API
 * (`chat.postMessage`) as a Block Kit message with Approve, Reject and Edit buttons. Mount
 * `createSlackActionsRouter` at your Slack app's interactivity URL to make the buttons work.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createSlackNotifier } from '@hitl/slack';
 *
 * const manager = createManager({
 *   notifiers: [createSlackNotifier({ token: process.env.SLACK_BOT_TOKEN!, channel: 'C0123456789', mask: ['password'] })],
 * });
 * ```
 */
export function createSlackNotifier(options: SlackNotifierOptions): Notifier {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { token, channel, slackApiUrl, mask = [], name = 'slack' } = options;
  if (typeof token !== 'string' || token.trim() === '') throw invalidInput('token', token, 'must be a non-empty Slack bot token');
  if (typeof channel !== 'string' || channel.trim() === '')
    throw invalidInput('channel', channel, 'must be a non-empty channel id or name');
  if (!Array.isArray(mask) || mask.some((key) => typeof key !== 'string'))
    throw invalidInput('mask', mask, 'must be an array of input keys');
  if (slackApiUrl !== undefined && !/^https?:\/\/.+\/$/.test(slackApiUrl))
    throw invalidInput('slackApiUrl', slackApiUrl, "must be an http(s) URL ending in '/'");
  const client = createWebClient(token, slackApiUrl);
  return {
    name,
    async notify(record: ApprovalRecord) {
      const { text, blocks } = toSlackApprovalMessage(record, { mask });
      await client.chat.postMessage({ channel, text, blocks, unfurl_links: false, unfurl_media: false });
    },
  };
}
