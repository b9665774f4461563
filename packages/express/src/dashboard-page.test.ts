// The dashboard page: served with a strict CSP and ETag; in headless Chromium, live cards, approve, reject, edits, input, feedback and annotation answers, refusals.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManager } from '@hitl/core';
import type { InteractionRequest, InteractionResponse, Manager } from '@hitl/core';
import { nextEvent } from '@hitl/core/testing';
import express, { type Request } from 'express';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createReviewRouter, type ReviewRouterOptions } from './index.js';
import { listen } from './test-support/http.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const installHint = `Install it with "apt-get install -y chromium" (or point CHROMIUM_PATH at a Chromium binary).`;
if (!hasChromium) {
  if (process.env.CI) throw new Error(`The dashboard browser tests need Chromium, and there is none at ${chromiumPath}. ${installHint}`);
  console.warn(`Skipping the dashboard browser tests: no Chromium at ${chromiumPath}. ${installHint}`);
}

function headerAuthenticate(httpRequest: Request) {
  const id = httpRequest.get('x-reviewer');
  return id ? { id } : null;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(routerOptions: Partial<ReviewRouterOptions> = {}, mountPath = '/hitl') {
  const manager = createManager({
    timeoutMs: 600_000,
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
  });
  const app = express();
  app.use(mountPath, createReviewRouter({ manager, authenticate: headerAuthenticate, ...routerOptions }));
  const server = await listen(app);
  cleanups.push(async () => {
    await server.close();
    await manager.close();
  });
  return { manager, url: `${server.url}${mountPath}` };
}

describe('GET / (dashboard page over HTTP)', () => {
  it('serves the page with a strict CSP whose hashes are exactly those of the inline script and style, and revalidates by ETag', async () => {
    const { url } = await serve();
    const first = await request(url).get('/');
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(first.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('nonce-');
    const script = /<script>([\s\S]*)<\/script>/.exec(first.text)?.[1] ?? '';
    const style = /<style>([\s\S]*)<\/style>/.exec(first.text)?.[1] ?? '';
    const hash = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${hash(style)}'`);
    expect(first.text.match(/<script/g)).toHaveLength(1);
    const etag = String(first.headers.etag);
    const second = await request(url).get('/').set('If-None-Match', etag);
    expect(second.status).toBe(304);
  });

  it('says who the reviewer is at GET /me', async () => {
    const { url } = await serve();
    expect((await request(url).get('/me').set('x-reviewer', 'alice')).body).toEqual({ id: 'alice' });
    expect((await request(url).get('/me')).status).toBe(401);
  });

  it("returns the router's signOutUrl at GET /me when it has one", async () => {
    const { url } = await serve({ signOutUrl: '/oauth2/sign_out' });
    expect((await request(url).get('/me').set('x-reviewer', 'alice')).body).toEqual({ id: 'alice', signOutUrl: '/oauth2/sign_out' });
  });

  it('is not served when dashboard is false', async () => {
    const { url } = await serve({ dashboard: false });
    expect((await request(url).get('/')).status).toBe(404);
    expect((await request(url).get('/requests').set('x-reviewer', 'alice')).status).toBe(200);
  });
});

// Skipped only outside CI when no Chromium is installed (a CI run without it fails above).
describe.skipIf(!hasChromium)('dashboard in headless Chromium', () => {
  let context: BrowserContext;
  let userDataDir: string;

  beforeAll(async () => {
    userDataDir = await mkdtemp(join(tmpdir(), 'hitl-dashboard-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      timeout: 60_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  /** Opens the dashboard as `reviewer` and waits until its event stream is live. */
  async function openDashboard(url: string, reviewer = 'alice'): Promise<{ page: Page; posts: string[]; pageErrors: string[] }> {
    const page = await context.newPage();
    cleanups.push(() => page.close());
    const posts: string[] = [];
    const pageErrors: string[] = [];
    page.on('request', (sent) => {
      if (sent.method() === 'POST') posts.push(sent.url());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.setExtraHTTPHeaders({ 'x-reviewer': reviewer });
    await page.goto(url);
    await expectText(page.getByTestId('connection-status'), 'Live');
    return { page, posts, pageErrors };
  }

  async function expectText(locator: Locator, text: string | RegExp): Promise<void> {
    await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: 20_000 });
  }

  function card(page: Page, id: string) {
    return page.locator(`[data-testid="request-card"][data-request-id="${id}"]`);
  }

  /** Starts a blocking requestInteraction and returns it with the id of its record once stored. */
  async function ask(manager: Manager, request: InteractionRequest): Promise<{ id: string; waiting: Promise<InteractionResponse> }> {
    const created = nextEvent(manager, 'request-created');
    const waiting = manager.requestInteraction(request);
    waiting.catch(() => undefined);
    return { id: (await created).record.request.id, waiting };
  }

  it('shows a request submitted after the page loaded, live, and Approve resolves the waiting call', async () => {
    const { manager, url } = await serve({}, '/admin/hitl');
    // No trailing slash: the page's relative URLs must still reach the router.
    const { page, posts, pageErrors } = await openDashboard(url);
    await expectText(page.getByTestId('empty-state'), 'No pending requests');

    const { id, waiting } = await ask(manager, {
      toolName: 'delete_user',
      description: 'Delete user 12345 and their files',
      input: { user_id: '12345', hard: true },
      riskLevel: 'irreversible',
      confidence: 0.85,
    });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.getByTestId('empty-state').isHidden()).toBe(true);
    expect(await shown.getByTestId('request-tool').textContent()).toBe('delete_user');
    expect(await shown.getByTestId('request-risk').textContent()).toBe('irreversible');
    expect(await shown.getByTestId('request-confidence').textContent()).toBe('confidence 85%');
    expect(await shown.getByTestId('request-description').textContent()).toBe('Delete user 12345 and their files');
    expect(JSON.parse((await shown.getByTestId('request-input').textContent()) ?? '')).toEqual({ user_id: '12345', hard: true });
    expect(await shown.getByTestId('request-reason').textContent()).toMatch(/destructive/);
    expect(await shown.getByTestId('request-time-left').textContent()).toMatch(/^9m 5\ds left$|^10m 0s left$/);
    await expectText(page.getByTestId('pending-count'), '1 pending');

    // Irreversible: the button says a question follows, and asks before anything is sent.
    const approve = shown.getByTestId('approve-button');
    expect(await approve.textContent()).toBe('Approve…');
    expect(await approve.getAttribute('aria-haspopup')).toBe('dialog');
    await approve.click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm an irreversible approval' });
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await dialog.getByTestId('confirm-yes').textContent()).toBe('Approve, it cannot be undone');
    expect(await page.locator('#confirm-text').textContent()).toBe(
      'Approve delete_user? It is irreversible: it runs at once and cannot be undone.',
    );
    // Cancel sends nothing: the request is still pending.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(posts).toEqual([]);
    expect((await manager.get(id))?.status).toBe('pending');

    await approve.click();
    await dialog.getByRole('button', { name: 'Approve, it cannot be undone' }).click();
    await expect(waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    await shown.waitFor({ state: 'detached', timeout: 20_000 });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('Reject sends the note typed in the card', async () => {
    const { manager, url } = await serve();
    const { page } = await openDashboard(`${url}/`, 'bob');
    const { id, waiting } = await ask(manager, {
      toolName: 'send_email',
      input: { to: 'all@example.com' },
      riskLevel: 'data_modification',
    });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    await shown.getByLabel('Note for the agent (optional, sent with your decision)').fill('Not to the whole company');
    await shown.getByTestId('reject-button').click();
    await expect(waiting).resolves.toMatchObject({ decision: 'reject', feedback: 'Not to the whole company', respondedBy: 'bob' });
  }, 60_000);

  it('Edit and approve refuses invalid JSON without sending anything, then sends the edited input', async () => {
    const { manager, url } = await serve();
    const { page, posts } = await openDashboard(url);
    const { id, waiting } = await ask(manager, { toolName: 'transfer_money', input: { amount: 1000, to: 'acct-1' } });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    await shown.getByTestId('edit-button').click();
    const editor = shown.getByLabel('Edited input (a JSON object)');
    expect(JSON.parse(await editor.inputValue())).toEqual({ amount: 1000, to: 'acct-1' });

    await editor.fill('{ "amount": 10, ');
    await shown.getByTestId('submit-modified-button').click();
    await expectText(shown.getByTestId('card-error'), 'is not valid JSON');
    await editor.fill('[10]');
    await shown.getByTestId('submit-modified-button').click();
    await expectText(shown.getByTestId('card-error'), 'must be a JSON object');
    expect(posts).toEqual([]);
    expect((await manager.get(id))?.status).toBe('pending');

    await editor.fill('{ "amount": 10, "to": "acct-1" }');
    // Unrated, so treated as irreversible: the edited approval asks first, as Approve does.
    await shown.getByTestId('submit-modified-button').click();
    await page.getByTestId('confirm-yes').click({ timeout: 20_000 });
    await expect(waiting).resolves.toMatchObject({ decision: 'modify', modified: { amount: 10, to: 'acct-1' }, respondedBy: 'alice' });
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatch(new RegExp(`/hitl/requests/${id}/respond$`));
  }, 60_000);

  it('Approve sends the note typed in the card too: it reaches the record', async () => {
    const { manager, url } = await serve();
    const { page } = await openDashboard(url, 'bob');
    const { id, waiting } = await ask(manager, {
      toolName: 'send_email',
      input: { to: 'ops@example.com' },
      riskLevel: 'data_modification',
    });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    await shown.getByLabel('Note for the agent (optional, sent with your decision)').fill('Fine, but cc the on-call lead');
    await shown.getByTestId('approve-button').click();
    await expect(waiting).resolves.toMatchObject({ decision: 'approve', feedback: 'Fine, but cc the on-call lead', respondedBy: 'bob' });
    expect((await manager.get(id))?.response?.feedback).toBe('Fine, but cc the on-call lead');
  }, 60_000);

  it('while editing, the plain Approve is gone: the only approval is "Approve with edits", and "Discard edits" restores it', async () => {
    const { manager, url } = await serve();
    const { page, posts } = await openDashboard(url);
    const { id, waiting } = await ask(manager, { toolName: 'transfer_money', input: { amount: 1000, to: 'acct-1' } });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    const approve = shown.getByTestId('approve-button');
    const editor = shown.getByLabel('Edited input (a JSON object)');

    // Edit, then discard: the original input is back and Approve is offered again.
    await shown.getByTestId('edit-button').click();
    await editor.fill('{ "amount": 1, "to": "acct-9" }');
    expect(await approve.isVisible()).toBe(false);
    expect(await shown.getByTestId('edit-button').isVisible()).toBe(false);
    expect(await shown.getByRole('button').allTextContents()).toEqual(['Reject', 'Approve with edits…', 'Discard edits']);
    await shown.getByRole('button', { name: 'Discard edits' }).click();
    expect(await approve.isVisible()).toBe(true);
    expect(await editor.isVisible()).toBe(false);
    await shown.getByTestId('edit-button').click();
    expect(JSON.parse(await editor.inputValue())).toEqual({ amount: 1000, to: 'acct-1' });

    // Edit again and approve: what is sent is the edited input, as a modify.
    await editor.fill('{ "amount": 10, "to": "acct-1" }');
    await shown.getByLabel('Note for the agent (optional, sent with your decision)').fill('capped at 10');
    await shown.getByRole('button', { name: 'Approve with edits' }).click();
    await page.getByTestId('confirm-yes').click({ timeout: 20_000 });
    await expect(waiting).resolves.toMatchObject({
      decision: 'modify',
      modified: { amount: 10, to: 'acct-1' },
      feedback: 'capped at 10',
      respondedBy: 'alice',
    });
    expect(posts).toHaveLength(1);
    expect((await manager.get(id))?.status).toBe('modified');
  }, 60_000);

  it('answers an input request with text, refusing an empty answer without sending anything', async () => {
    const { manager, url } = await serve();
    const { page, posts } = await openDashboard(url, 'bob');
    const { id, waiting } = await ask(manager, {
      type: 'input',
      toolName: 'ask_human',
      description: 'Which region should the new cluster run in?',
      input: { options: ['eu-west-1', 'us-east-1'] },
    });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await shown.getByTestId('approve-button').count()).toBe(0);
    expect(await shown.getByTestId('edit-button').count()).toBe(0);

    await shown.getByRole('button', { name: 'Send answer' }).click();
    await expectText(shown.getByTestId('card-error'), 'Type your answer first. Nothing was sent.');
    expect(posts).toEqual([]);

    await shown.getByLabel('Your answer').fill('eu-west-1, close to the customers');
    await shown.getByRole('button', { name: 'Send answer' }).click();
    // The answer is recorded as an approve whose feedback is the text.
    await expect(waiting).resolves.toMatchObject({
      decision: 'approve',
      feedback: 'eu-west-1, close to the customers',
      respondedBy: 'bob',
    });
    await shown.waitFor({ state: 'detached', timeout: 20_000 });
  }, 60_000);

  it('answers a feedback request: the text is recorded as an approve whose feedback it is', async () => {
    const { manager, url } = await serve();
    const { page, posts } = await openDashboard(url, 'bob');
    const record = await manager.submit({
      type: 'feedback',
      toolName: 'draft_reply',
      description: 'Is this reply ready to send to the customer?',
      input: { draft: 'Dear customer, your refund is on its way.' },
    });
    const id = record.request.id;
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    // Text is asked for, not an approval: no Approve, no Edit.
    expect(await shown.getByRole('button').allTextContents()).toEqual(['Send feedback', 'Decline']);

    await shown.getByLabel('Your feedback').fill('Add the refund amount and the date.');
    await shown.getByRole('button', { name: 'Send feedback' }).click();
    await shown.waitFor({ state: 'detached', timeout: 20_000 });
    expect(posts).toEqual([expect.stringMatching(new RegExp(`/hitl/requests/${id}/approve$`))]);
    const answered = await manager.get(id);
    expect(answered?.request.type).toBe('feedback');
    expect(answered?.status).toBe('approved');
    expect(answered?.response).toMatchObject({
      decision: 'approve',
      feedback: 'Add the refund amount and the date.',
      respondedBy: 'bob',
    });
    expect(answered?.response?.automatic).toBeUndefined();
  }, 60_000);

  it('answers an annotation request with text, and Decline records a reject that carries the text typed', async () => {
    const { manager, url } = await serve();
    const { page } = await openDashboard(url);
    const first = await manager.submit({ type: 'annotation', toolName: 'label_ticket', input: { ticket: 'T-1', text: 'App crashes' } });
    const second = await manager.submit({ type: 'annotation', toolName: 'label_ticket', input: { ticket: 'T-2', text: 'Hello?' } });
    const one = card(page, first.request.id);
    const two = card(page, second.request.id);
    await one.waitFor({ state: 'visible', timeout: 20_000 });
    await two.waitFor({ state: 'visible', timeout: 20_000 });

    await one.getByLabel('Your annotation').fill('bug, severity high');
    await one.getByRole('button', { name: 'Send annotation' }).click();
    await one.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await manager.get(first.request.id)).toMatchObject({
      status: 'approved',
      request: { type: 'annotation' },
      response: { decision: 'approve', feedback: 'bug, severity high', respondedBy: 'alice' },
    });

    await two.getByLabel('Your annotation').fill('spam, not a ticket');
    await two.getByRole('button', { name: 'Decline' }).click();
    await two.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await manager.get(second.request.id)).toMatchObject({
      status: 'rejected',
      response: { decision: 'reject', feedback: 'spam, not a ticket', respondedBy: 'alice' },
    });
  }, 60_000);

  it('shows the server’s refusal of an edit next to the edit controls, keeps the edits and the request pending', async () => {
    // A real refusal by the router: this reviewer may approve but not modify.
    const { manager, url } = await serve({ authorize: (_reviewer, _record, action) => action !== 'modify' });
    const { page } = await openDashboard(url);
    const { id } = await ask(manager, { toolName: 'delete_user', input: { user_id: '12345' } });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    await shown.getByTestId('edit-button').click();
    const editor = shown.getByLabel('Edited input (a JSON object)');
    await editor.fill('{ "user_id": 12345 }');
    await shown.getByRole('button', { name: 'Approve with edits' }).click();
    await page.getByTestId('confirm-yes').click({ timeout: 20_000 });
    await expectText(shown.getByTestId('card-error'), /reviewer 'alice' may not modify .* \(403 forbidden\)/);
    // The message sits right after the "Approve with edits" controls, inside the open editor.
    expect(await shown.getByTestId('card-error').evaluate((node) => node.previousElementSibling?.textContent ?? '')).toBe(
      'Approve with edits…Discard edits',
    );
    expect(await editor.inputValue()).toBe('{ "user_id": 12345 }');
    expect(await shown.getByRole('button', { name: 'Approve with edits' }).isEnabled()).toBe(true);
    expect((await manager.get(id))?.status).toBe('pending');
    await manager.cancel(id);
  }, 60_000);

  it('shows the schema error of an invalid edit and keeps the request pending', async () => {
    // needs core inputSchema validation: `respond` with `modify` checks `modified` against
    // `request.inputSchema` and answers invalid_input naming the path (400); before that lands
    // the edit is accepted and this test fails.
    const { manager, url } = await serve();
    const { page } = await openDashboard(url);
    const inputSchema = { type: 'object', properties: { user_id: { type: 'string' } }, required: ['user_id'] };
    const { id } = await ask(manager, { toolName: 'delete_user', input: { user_id: '12345' }, inputSchema } as InteractionRequest);
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    await shown.getByTestId('edit-button').click();
    await shown.getByLabel('Edited input (a JSON object)').fill('{ "user_id": 12345 }');
    await shown.getByRole('button', { name: 'Approve with edits' }).click();
    await page.getByTestId('confirm-yes').click({ timeout: 20_000 });
    await expectText(shown.getByTestId('card-error'), /user_id.*\(400 invalid_input\)/);
    expect((await manager.get(id))?.status).toBe('pending');
    await manager.cancel(id);
  }, 60_000);

  it('renders script and markup in untrusted fields as text and runs none of it', async () => {
    const { manager, url } = await serve();
    const description = '<img src=x onerror="window.__pwned = 1"> please <b>approve</b>';
    const input = {
      note: '<script>window.__pwned = 2</script>',
      html: '<svg onload="window.__pwned = 3"></svg>',
      '<img src=y onerror=window.__pwned=4>': 'key',
    };
    // Submitted before the page loads (the list path) and after (the live path). Tool names cannot
    // carry markup (submit refuses characters outside A-Z a-z 0-9 _ - . :), so the other fields do.
    const before = await ask(manager, { toolName: 'delete_all', description, input, requestedBy: '<i>agent</i>' });
    const { page, pageErrors } = await openDashboard(url);
    const after = await ask(manager, { toolName: 'delete_x', description, input });
    for (const id of [before.id, after.id]) {
      const shown = card(page, id);
      await shown.waitFor({ state: 'visible', timeout: 20_000 });
      expect(await shown.getByTestId('request-description').textContent()).toBe(description);
      expect(JSON.parse((await shown.getByTestId('request-input').textContent()) ?? '')).toEqual(input);
      expect(await shown.locator('img, script, svg, b, i').count()).toBe(0);
    }
    expect(await card(page, before.id).getByTestId('request-tool').textContent()).toBe('delete_all');
    expect(await card(page, before.id).getByTestId('request-requested-by').textContent()).toBe('<i>agent</i>');
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(pageErrors).toEqual([]);
    await manager.cancel(before.id);
    await manager.cancel(after.id);
  }, 60_000);

  it('loads requests that were pending before the page opened and drops those decided elsewhere', async () => {
    const { manager, url } = await serve();
    const early = await ask(manager, { toolName: 'delete_repo', input: { name: 'legacy' } });
    const { page } = await openDashboard(url);
    const shown = card(page, early.id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    await manager.respond(early.id, { decision: 'reject', respondedBy: 'carol' });
    await shown.waitFor({ state: 'detached', timeout: 20_000 });
    await expectText(page.getByTestId('empty-state'), 'No pending requests');
    await expect(early.waiting).resolves.toMatchObject({ decision: 'reject', respondedBy: 'carol' });
  }, 60_000);

  it('tells a reviewer without an identity why nothing loads', async () => {
    const { url } = await serve();
    const page = await context.newPage();
    cleanups.push(() => page.close());
    await page.goto(url);
    await expectText(page.getByTestId('notice'), /no reviewer identity.*\(401 unauthorized\)/);
    await expectText(page.getByTestId('connection-status'), 'Disconnected');
  }, 60_000);

  it('shows the server’s refusal inline and keeps the request pending', async () => {
    const { manager, url } = await serve({ authorize: (reviewer, _record, action) => action === 'view' || reviewer.id === 'alice' });
    const { page } = await openDashboard(url, 'bob');
    const { id } = await ask(manager, { toolName: 'delete_user', input: { user_id: '1' } });
    const shown = card(page, id);
    await shown.waitFor({ state: 'visible', timeout: 20_000 });
    // Unrated, so treated as irreversible: Approve asks first.
    await shown.getByTestId('approve-button').click();
    await page.getByTestId('confirm-yes').click();
    await expectText(shown.getByTestId('card-error'), /reviewer 'bob' may not approve .* \(403 forbidden\)/);
    expect(await shown.getByTestId('approve-button').isEnabled()).toBe(true);
    expect((await manager.get(id))?.status).toBe('pending');
    await manager.cancel(id);
  }, 60_000);
});
