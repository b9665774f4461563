/** The Slack incoming-webhook notifier: a pending request as a Slack message with a review link. */
import { HitlError, type ApprovalRecord } from '@hitl/core';
import { createNotifier, type WebhookNotifier, type WebhookNotifierOptions } from './webhook-notifier.js';
import { invalidInput, isPlainObject } from '@hitl/core/internal';

/**
 * Where a review link points: a dashboard address (the request id is added as `?request=<id>`), or
 * a function of the record.
 *
 * @example
 * ```ts
 * const byQuery: DashboardUrl = 'https://agents.example.com/hitl/'; // .../hitl/?request=hitl-...
 * const byPath: DashboardUrl = (record) => `https://agents.example.com/hitl/requests/${record.request.id}`;
 * ```
 */
export type DashboardUrl = string | URL | ((record: ApprovalRecord) => string);

/**
 * Options of {@link createSlackNotifier}: those of `createWebhookNotifier` without `url`, `secret`
 * and `body`, plus the Slack incoming-webhook URL and the dashboard link.
 *
 * @example
 * ```ts
 * const options: SlackNotifierOptions = {
 *   webhookUrl: process.env.SLACK_WEBHOOK_URL!,
 *   dashboardUrl: 'https://agents.example.com/hitl/',
 * };
 * ```
 */
export interface SlackNotifierOptions extends Omit<WebhookNotifierOptions, 'url' | 'secret' | 'body'> {
  /** The incoming-webhook URL Slack gave you (`https://hooks.slack.com/services/...`). */
  webhookUrl: string | URL;
  /** The reviewer dashboard; without it the message has no Review button. */
  dashboardUrl?: DashboardUrl;
}

/**
 * A Slack message: fallback `text` plus Block Kit `blocks`.
 *
 * @example
 * ```ts
 * const message: SlackMessage = toSlackMessage(record);
 * message.text; // 'Approval needed: delete_user (risk irreversible, confidence 0.85)'
 * ```
 */
export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

const HEADINGS: Record<string, string> = {
  approval: 'Approval needed',
  feedback: 'Feedback needed',
  input: 'Input needed',
  annotation: 'Annotation needed',
};

/** Escapes the three characters Slack's mrkdwn gives meaning to, so agent text cannot ping or link. */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function code(text: string): string {
  return `\`${escapeText(cut(text, 200).replace(/`/g, "'"))}\``;
}

function parseDashboardUrl(value: unknown): ((record: ApprovalRecord) => string) | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return value as (record: ApprovalRecord) => string;
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw invalidInput('dashboardUrl', value, 'must be a URL string, a URL or a function of the record');
  }
  let base: URL;
  try {
    base = new URL(value instanceof URL ? value.href : value);
  } catch {
    throw invalidInput('dashboardUrl', value, 'is not a valid absolute URL');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new HitlError('invalid_input', `dashboardUrl must use http: or https:, not '${base.protocol}'`, {
      details: { field: 'dashboardUrl', value: `'${base.protocol}'` },
    });
  }
  return (record) => {
    const link = new URL(base.href);
    link.searchParams.set('request', record.request.id);
    return link.href;
  };
}

/**
 * The Slack Block Kit message `createSlackNotifier` sends: a heading with the tool, then the tool,
 * risk, confidence and expiry, the description, a Review button linking to the dashboard (when
 * `dashboardUrl` is given), and the request id with the policy's reason. Text from the request is
 * escaped (in the blocks and in the top-level `text`), so an agent's tool name or description
 * cannot mention `@channel` or inject links.
 *
 * @example
 * ```ts
 * import { createWebhookNotifier, toSlackMessage } from '@hitl/notifier-webhook';
 *
 * // The same message, with your own tweaks, through the generic notifier:
 * const slack = createWebhookNotifier({
 *   url: process.env.SLACK_WEBHOOK_URL!,
 *   body: (record) => ({ ...toSlackMessage(record, { dashboardUrl: 'https://agents.example.com/hitl/' }), username: 'hitl' }),
 * });
 * ```
 */
export function toSlackMessage(record: ApprovalRecord, options: { dashboardUrl?: DashboardUrl } = {}): SlackMessage {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  return buildMessage(record, parseDashboardUrl(options.dashboardUrl));
}

function buildMessage(record: ApprovalRecord, linkOf: ((record: ApprovalRecord) => string) | undefined): SlackMessage {
  const { request } = record;
  const heading = HEADINGS[request.type] ?? 'Review needed';
  const risk = request.riskLevel ?? 'irreversible';
  const confidence = (request.confidence ?? 0).toFixed(2);
  const fields = [
    { type: 'mrkdwn', text: `*Tool*\n${code(request.toolName)}` },
    { type: 'mrkdwn', text: `*Risk*\n${escapeText(risk)}` },
    { type: 'mrkdwn', text: `*Confidence*\n${confidence}` },
    { type: 'mrkdwn', text: `*Expires*\n${record.expiresAt === undefined ? 'never' : escapeText(record.expiresAt)}` },
  ];
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${heading}: ${request.toolName}`, 150), emoji: false } },
    { type: 'section', fields },
  ];
  if (request.description !== undefined && request.description.trim() !== '') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeText(cut(request.description, 2_900)) } });
  }
  if (linkOf) {
    const link = linkOf(record);
    if (typeof link !== 'string' || !/^https?:\/\//.test(link)) {
      throw invalidInput('dashboardUrl(record)', link, 'must return an http(s) URL');
    }
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Review' }, url: cut(link, 3_000), style: 'primary', action_id: 'hitl-review' },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: escapeText(cut(`Request ${request.id} · ${record.evaluation.reason}`, 2_900)) }],
  });
  // The top-level text is parsed like mrkdwn (it is the notification and the fallback): `<!channel>`
  // there pings everyone, so every part from the request is escaped, after cutting (an entity is
  // never cut in half). The header block is plain_text, which Slack shows as is and never parses.
  return {
    text: `${heading}: ${escapeText(cut(request.toolName, 2_000))} (risk ${escapeText(risk)}, confidence ${confidence})`,
    blocks,
  };
}

/**
 * A notifier that posts each pending request to a Slack incoming webhook as a Block Kit message
 * (see {@link toSlackMessage}), with a Review button linking to your dashboard. Same queue,
 * retries, timeouts and `close` as `createWebhookNotifier`; messages name the webhook URL without
 * its secret path.
 *
 * @deprecated Import `createSlackWebhookNotifier` from `@hitl/slack` (the same notifier); this export
 * stays until the next major version.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { createSlackNotifier } from '@hitl/notifier-webhook';
 *
 * const manager = createManager({
 *   notifiers: [createSlackNotifier({ webhookUrl: process.env.SLACK_WEBHOOK_URL!, dashboardUrl: 'https://agents.example.com/hitl/' })],
 * });
 * ```
 */
export function createSlackNotifier(options: SlackNotifierOptions): WebhookNotifier {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const { webhookUrl, dashboardUrl, ...rest } = options;
  for (const field of ['url', 'secret', 'body'] as const) {
    if ((rest as Record<string, unknown>)[field] !== undefined) {
      throw new HitlError(
        'invalid_input',
        `${field} is not an option of createSlackNotifier; use createWebhookNotifier for a custom ${field}`,
        {
          details: { field },
        },
      );
    }
  }
  const linkOf = parseDashboardUrl(dashboardUrl);
  return createNotifier(
    { ...rest, url: webhookUrl },
    {
      defaultName: 'slack',
      urlField: 'webhookUrl',
      defaultBody: (record) => buildMessage(record, linkOf),
      label: (url) => `${url.origin}/${url.pathname.split('/')[1] ?? ''}/... (path hidden)`,
    },
  );
}
