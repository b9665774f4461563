// Renders docs/dashboard-*.png: the reviewer dashboard (@hitl/express) against a real router and
// manager holding sample requests — the pending list, a turn of two calls with its whole-turn
// buttons, an edit through the schema form with its diff, the history tab and the grants tab. Run it with `pnpm --filter @hitl/demo screenshots` after a build.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createManager, type InteractionRequest } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import { launchChromium } from '@hitl/test-kit/chromium';

const docs = (name: string) => fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url));

const manager = createManager({
  timeoutMs: 15 * 60_000,
  policies: [
    { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
    { name: 'money', toolPattern: 'refund_*', requireExplicit: true },
    { name: 'outbound-email', toolPattern: 'send_*', requireExplicit: true },
  ],
});
const app = express();
app.use('/hitl', createReviewRouter({ manager, authenticate: () => ({ id: 'alice@example.com' }), signOutUrl: '/logout' }));
const server = http.createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hitl/`;

const ask = (request: InteractionRequest) => manager.requestInteraction(request).catch(() => undefined);
// History first (older), then what is pending.
const decided = [
  {
    toolName: 'send_email',
    input: { to: 'ana@example.com', subject: 'Your refund' },
    riskLevel: 'data_modification' as const,
    requestedBy: 'support-agent',
  },
  { toolName: 'delete_user', input: { user_id: 'u-311', hard: true }, riskLevel: 'irreversible' as const, requestedBy: 'support-agent' },
  {
    toolName: 'refund_payment',
    input: { order_id: 'o-77', amount: 120 },
    riskLevel: 'irreversible' as const,
    requestedBy: 'billing-agent',
  },
];
for (const [index, request] of decided.entries()) {
  const submitted = await manager.submit(request);
  if (index === 0)
    await manager.respond(submitted.request.id, { decision: 'approve', respondedBy: 'alice@example.com', feedback: 'Template checked' });
  if (index === 1)
    await manager.respond(submitted.request.id, {
      decision: 'reject',
      respondedBy: 'bob@example.com',
      feedback: 'Legal hold on this account',
    });
  if (index === 2)
    await manager.respond(submitted.request.id, {
      decision: 'modify',
      respondedBy: 'bob@example.com',
      modified: { order_id: 'o-77', amount: 60 },
      feedback: 'Half: the rest is store credit',
    });
}
void ask({
  type: 'input',
  toolName: 'ask_human',
  description: 'Which region should the new cluster run in?',
  input: { options: ['eu-west-1', 'us-east-1'] },
  requestedBy: 'infra-agent',
});
// One agent turn (two calls made together) in a support thread: decided as a whole or one by one.
void ask({
  toolName: 'send_email',
  threadId: 'support-chat-17',
  runId: 'turn-42',
  description: 'Tell the customer their refund was issued',
  input: { to: 'ana@example.com', subject: 'Your refund', body: 'Hello Ana, we have issued your refund of 60 EUR. '.repeat(20) },
  riskLevel: 'data_modification',
  confidence: 0.92,
  requestedBy: 'support-agent',
});
void ask({
  toolName: 'refund_payment',
  threadId: 'support-chat-17',
  runId: 'turn-42',
  description: 'Refund order o-981 in full',
  input: { order_id: 'o-981', amount: 480, currency: 'EUR', notify: true },
  inputSchema: {
    type: 'object',
    properties: {
      order_id: { type: 'string' },
      amount: { type: 'integer', description: 'in cents' },
      currency: { enum: ['EUR', 'USD'] },
      notify: { type: 'boolean' },
    },
    required: ['order_id', 'amount', 'currency'],
  },
  riskLevel: 'irreversible',
  confidence: 0.41,
  requestedBy: 'billing-agent',
});
void ask({
  toolName: 'delete_user',
  description: 'Delete the account of user u-12345 and all their files',
  input: { user_id: 'u-12345', hard: true },
  riskLevel: 'irreversible',
  confidence: 0.85,
  requestedBy: 'support-agent',
});

// Remembered decisions, as "Allow in this thread" / "Always allow" / "Never allow" make them.
await manager.grant({
  effect: 'approve',
  toolPattern: 'send_email',
  scope: { threadId: 'support-chat-9' },
  maxUses: 20,
  grantedBy: 'alice@example.com',
  reason: 'Allowed in this thread',
});
await manager.grant({
  effect: 'approve',
  toolPattern: 'read_*',
  ttlMs: 8 * 3_600_000,
  grantedBy: 'bob@example.com',
  reason: 'Read-only tools for the day',
});
await manager.grant({ effect: 'deny', toolPattern: 'drop_*', grantedBy: 'ops@example.com', reason: 'Never in production' });

const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1, colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('request-card').nth(3).waitFor();
  await page.getByTestId('whoami-id').waitFor();
  await page.screenshot({ path: docs('dashboard-pending.png'), fullPage: true });

  const refund = page.locator('[data-testid="request-card"]').filter({ hasText: 'refund_payment' });
  await refund.getByTestId('edit-button').click();
  await refund.getByTestId('schema-form').getByLabel('amount').fill('240');
  await refund.getByTestId('schema-form').getByLabel('notify').uncheck();
  // The sticky header would cover the top of an element screenshot.
  await page.locator('header').evaluate((header) => ((header as unknown as { style: { position: string } }).style.position = 'static'));
  await refund.screenshot({ path: docs('dashboard-edit.png') });
  await refund.getByTestId('cancel-edit-button').click();
  await page
    .getByTestId('request-group')
    .first()
    .screenshot({ path: docs('dashboard-turn.png') });

  await page.getByRole('tab', { name: 'Grants' }).click();
  await page.getByTestId('grant-entry').nth(2).waitFor();
  await page.screenshot({ path: docs('dashboard-grants.png') });

  await page.getByRole('tab', { name: 'History' }).click();
  await page.getByTestId('history-entry').nth(2).waitFor();
  await page.screenshot({ path: docs('dashboard-history.png') });
  console.log(
    'wrote docs/dashboard-pending.png, docs/dashboard-edit.png, docs/dashboard-turn.png, docs/dashboard-history.png, docs/dashboard-grants.png',
  );
} finally {
  await browser.close();
  server.closeAllConnections();
  server.close();
  await manager.close();
}
