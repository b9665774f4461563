// A serverless-style AI SDK agent resumed by the `request.decided` webhook: the agent's turn ends at
// the approval request, a reviewer decides on another manager, and the receiver of the signed
// decision callback continues the conversation. The README of @hitl/notifier-webhook shows this receiver.
import type { AddressInfo } from 'node:net';
import { createManager, createMemoryStore, type ApprovalPolicy, type Manager } from '@hitl/core';
import { createWebhookNotifier, generateWebhookSecret, verifyWebhook, type WebhookEvent } from '@hitl/notifier-webhook';
import { submitApprovalRequests, toApprovalResponses } from '@hitl/vercel-ai';
import { waitUntil } from '@hitl/test-kit';
import { generateText, stepCountIs, tool, type ModelMessage } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 0, text: 0, reasoning: undefined },
};

describe('a request.decided webhook resumes an AI SDK agent', () => {
  it('runs the approved tool once the decision callback arrives, and not before', async () => {
    const secret = generateWebhookSecret();
    const deleted: string[] = [];
    const store = createMemoryStore();
    const policies: ApprovalPolicy[] = [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }];

    // The receiver: where the agent's platform takes decision callbacks.
    const conversations = new Map<string, ModelMessage[]>();
    const resumed: string[] = [];
    const parties: { agent?: Manager } = {};
    const tools = {
      delete_user: tool({
        inputSchema: z.object({ user_id: z.string() }),
        needsApproval: () => true,
        execute: async ({ user_id }) => {
          deleted.push(user_id);
          return { deleted: user_id };
        },
      }),
    };
    const model = new MockLanguageModelV3({
      doGenerate: [
        {
          content: [{ type: 'tool-call', toolCallId: '1', toolName: 'delete_user', input: JSON.stringify({ user_id: '12345' }) }],
          finishReason: { unified: 'tool-calls', raw: undefined },
          usage,
          warnings: [],
        },
        {
          content: [{ type: 'text', text: 'User 12345 is deleted.' }],
          finishReason: { unified: 'stop', raw: undefined },
          usage,
          warnings: [],
        },
      ],
    });

    const app = express();
    app.post('/hitl-events', express.raw({ type: 'application/json', limit: '1mb' }), async (request, response) => {
      let event: WebhookEvent;
      try {
        event = verifyWebhook<WebhookEvent>({
          secret,
          headers: request.headers as Record<string, string>,
          rawBody: request.body as Buffer,
        });
      } catch {
        response.status(401).end();
        return;
      }
      const conversation = conversations.get(event.data.id);
      const agent = parties.agent;
      if (event.type !== 'request.decided' || !conversation || !agent) {
        response.status(204).end();
        return;
      }
      const { message, pending } = await toApprovalResponses(agent, conversation);
      if (pending.length === 0 && message) {
        conversations.delete(event.data.id);
        const next = await generateText({ model, tools, messages: [...conversation, message], stopWhen: stepCountIs(5) });
        resumed.push(next.text);
      }
      response.status(204).end();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hitl-events`;

    // Every instance has the same notifiers: the one that records the decision sends its callback.
    const webhook = () => createWebhookNotifier({ url, secret, events: ['request.decided'], logger: { warn() {}, error() {} } });
    const agent = createManager({ store, policies, notifiers: [webhook()], timeoutMs: 24 * 3_600_000 });
    parties.agent = agent;
    const reviewers = createManager({ store, policies, notifiers: [webhook()], timeoutMs: 24 * 3_600_000 });
    cleanups.push(
      () => agent.close(),
      () => reviewers.close(),
    );

    // The agent's turn ends at the approval request; its conversation is saved under the request id.
    const messages: ModelMessage[] = [{ role: 'user', content: 'Delete user 12345' }];
    const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
    const [record] = await submitApprovalRequests(agent, first, { riskLevel: 'irreversible', confidence: 0.9 });
    expect(record?.status).toBe('pending');
    conversations.set(record!.request.id, [...messages, ...first.response.messages]);
    expect(deleted).toEqual([]);

    // A reviewer decides on another instance; the callback resumes the agent.
    await reviewers.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
    await waitUntil(() => resumed.length === 1, { what: 'the agent resumed by the decision callback' });
    expect(deleted).toEqual(['12345']);
    expect(resumed).toEqual(['User 12345 is deleted.']);
    const delivery = await waitUntil(
      async () => (await reviewers.listDeliveries({ requestId: record!.request.id, state: 'done' })).items[0],
      {
        what: 'the callback recorded as delivered',
      },
    );
    expect(delivery).toMatchObject({ topic: 'request.decided', target: 'webhook', attempts: 1 });
  });
});
