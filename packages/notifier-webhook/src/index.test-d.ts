// Type tests of @hitl/notifier-webhook: notifiers the manager accepts, a required url, the body function and payload types.
import { createManager, type ApprovalRecord, type Notifier } from '@hitl/core';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createSlackNotifier,
  createWebhookNotifier,
  verifyWebhook,
  type WebhookNotifier,
  type WebhookNotifierOptions,
  type WebhookNotifierStats,
  type WebhookPayload,
} from './index.js';

describe('types', () => {
  it('makes notifiers the manager accepts', () => {
    const webhook = createWebhookNotifier({ url: 'https://example.com/hooks' });
    expectTypeOf(webhook).toEqualTypeOf<WebhookNotifier>();
    expectTypeOf(webhook).toMatchTypeOf<Notifier>();
    expectTypeOf(webhook.stats()).toEqualTypeOf<WebhookNotifierStats>();
    expectTypeOf(webhook.close).returns.resolves.toEqualTypeOf<{ abandoned: number }>();
    createManager({ notifiers: [webhook, createSlackNotifier({ webhookUrl: 'https://hooks.slack.com/services/x' })] });
  });

  it('requires a url and types the body function', () => {
    // @ts-expect-error url is required
    createWebhookNotifier({});
    expectTypeOf<WebhookNotifierOptions['body']>().toEqualTypeOf<((record: ApprovalRecord) => unknown) | undefined>();
  });

  it('returns the payload type asked for', () => {
    const payload = verifyWebhook<WebhookPayload>({ secret: 'whsec_x', headers: {}, rawBody: '' });
    expectTypeOf(payload).toEqualTypeOf<WebhookPayload>();
    expectTypeOf(verifyWebhook({ secrets: ['whsec_x'], headers: new Headers(), rawBody: new Uint8Array() })).toBeUnknown();
  });
});
