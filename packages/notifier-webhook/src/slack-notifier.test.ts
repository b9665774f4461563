// The Slack incoming-webhook notifier: the Block Kit message, escaping of the agent's text, review links, errors without the secret.
import { HitlError } from '@hitl/core';
import { createManualClock } from '@hitl/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackNotifier, toSlackMessage, type SlackMessage, type SlackNotifierOptions, type WebhookNotifier } from './index.js';
import { createMemoryLogger, pendingRecord, startReceiver, type Receiver } from './receiver.test-helper.js';

const receivers: Receiver[] = [];
const notifiers: WebhookNotifier[] = [];

afterEach(async () => {
  for (const notifier of notifiers.splice(0)) await notifier.close({ deadlineMs: 0 });
  for (const receiver of receivers.splice(0)) await receiver.close();
});

async function slackReceiver(status: number, text: string): Promise<Receiver> {
  const receiver = await startReceiver(
    (_request, response) => response.writeHead(status, { 'content-type': 'text/plain' }).end(text),
    '/services/T000/B000/s3cr3tT0k3n',
  );
  receivers.push(receiver);
  return receiver;
}

function slack(options: SlackNotifierOptions): WebhookNotifier {
  const clock = createManualClock(Date.now());
  const notifier = createSlackNotifier({ now: clock.now, scheduler: clock, logger: createMemoryLogger(), random: () => 0, ...options });
  notifiers.push(notifier);
  return notifier;
}

describe('createSlackNotifier', () => {
  it('posts a Block Kit message with tool, risk, confidence, description and a review link', async () => {
    const receiver = await slackReceiver(200, 'ok');
    const notifier = slack({ webhookUrl: receiver.url, dashboardUrl: 'https://agents.example.com/hitl/?tab=pending' });
    const record = pendingRecord(Date.now());

    await notifier.notify(record, { signal: new AbortController().signal });

    const message = JSON.parse(receiver.requests[0]!.body.toString('utf8')) as SlackMessage;
    expect(notifier.name).toBe('slack');
    expect(message.text).toBe('Approval needed: delete_user (risk irreversible, confidence 0.85)');
    expect(message.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Approval needed: delete_user', emoji: false } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Tool*\n`delete_user`' },
          { type: 'mrkdwn', text: '*Risk*\nirreversible' },
          { type: 'mrkdwn', text: '*Confidence*\n0.85' },
          { type: 'mrkdwn', text: `*Expires*\n${record.expiresAt}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: 'Delete user 12345 and all their data' } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Review' },
            url: `https://agents.example.com/hitl/?tab=pending&request=${record.request.id}`,
            style: 'primary',
            action_id: 'hitl-review',
          },
        ],
      },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `Request ${record.request.id} · policy 'destructive' requires explicit approval for 'delete_user'` },
        ],
      },
    ]);
    expect(receiver.requests[0]!.headers['webhook-signature']).toBeUndefined();
  });

  it("escapes the agent's text so it cannot ping a channel or plant a link", () => {
    const record = pendingRecord(Date.now());
    const message = toSlackMessage({
      ...record,
      request: { ...record.request, description: 'Hi <!channel> see <https://evil.example|docs> & more' },
    });

    const description = message.blocks[2] as { text: { text: string } };
    expect(description.text.text).toBe('Hi &lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; more');
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(false);
  });

  it('escapes every parsed text, the top-level text included, so a tool name like <!channel> pings nobody', () => {
    const record = pendingRecord(Date.now());
    const hostile = '<!channel> & <@U024BE7LH>';
    const message = toSlackMessage({
      ...record,
      evaluation: { ...record.evaluation, reason: `policy matched ${hostile}` },
      request: { ...record.request, toolName: hostile, description: hostile },
    });

    expect(message.text).toBe('Approval needed: &lt;!channel&gt; &amp; &lt;@U024BE7LH&gt; (risk irreversible, confidence 0.85)');
    // Every text Slack parses (the top-level text and each mrkdwn object) has no raw control character.
    const parsed: string[] = [message.text];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === 'object' && value !== null) {
        const object = value as Record<string, unknown>;
        if (object.type === 'mrkdwn' && typeof object.text === 'string') parsed.push(object.text);
        Object.values(object).forEach(collect);
      }
    };
    collect(message.blocks);
    expect(parsed.length).toBeGreaterThanOrEqual(6);
    for (const text of parsed) expect(text.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[<>&]/);
    // The header is plain_text: Slack shows it as written and parses no mention there.
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `Approval needed: ${hostile}`, emoji: false } });
  });

  it('builds the review link with a function of the record', () => {
    const record = pendingRecord(Date.now());
    const message = toSlackMessage(record, { dashboardUrl: ({ request }) => `https://agents.example.com/r/${request.id}` });
    expect(JSON.stringify(message)).toContain(`"url":"https://agents.example.com/r/${record.request.id}"`);
    expect(() => toSlackMessage(record, { dashboardUrl: () => 'javascript:alert(1)' })).toThrow(
      /dashboardUrl\(record\) 'javascript:alert\(1\)' must return an http\(s\) URL/,
    );
  });

  it('names the webhook in failures without its secret path', async () => {
    const receiver = await slackReceiver(404, 'no_service');
    const notifier = slack({ webhookUrl: receiver.url });

    const error = await notifier.notify(pendingRecord(Date.now()), { signal: new AbortController().signal }).then(
      () => undefined,
      (caught: unknown) => caught as HitlError,
    );

    expect(HitlError.is(error, 'notify_failed')).toBe(true);
    expect(error!.message).toContain('answered 404 Not Found ("no_service")');
    expect(error!.message).toContain('/services/... (path hidden)');
    expect(error!.message).not.toContain('s3cr3tT0k3n');
  });

  it('refuses options that belong to createWebhookNotifier and a bad dashboardUrl', () => {
    const cases: Array<[unknown, RegExp, string]> = [
      [{ webhookUrl: 'https://hooks.slack.com/services/x', secret: 'whsec_x' }, /secret is not an option of createSlackNotifier/, 'secret'],
      [
        { webhookUrl: 'https://hooks.slack.com/services/x', url: 'https://example.com' },
        /url is not an option of createSlackNotifier/,
        'url',
      ],
      [
        { webhookUrl: 'https://hooks.slack.com/services/x', dashboardUrl: 'not a url' },
        /dashboardUrl 'not a url' is not a valid absolute URL/,
        'dashboardUrl',
      ],
      [
        { webhookUrl: 'https://hooks.slack.com/services/x', dashboardUrl: 'ftp://example.com' },
        /dashboardUrl must use http: or https:/,
        'dashboardUrl',
      ],
      [{}, /webhookUrl undefined must be a string or a URL/, 'webhookUrl'],
    ];
    for (const [options, message, field] of cases) {
      expect(() => createSlackNotifier(options as SlackNotifierOptions)).toThrow(message);
      expect(() => createSlackNotifier(options as SlackNotifierOptions)).toThrow(
        expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field }) }),
      );
    }
  });
});
