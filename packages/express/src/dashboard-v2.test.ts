// The dashboard in headless Chromium: card details, thread and run groups, history, schema-form edits, keyboard, axe-core, four eyes.
import { createManager } from '@hitl/core';
import type { InteractionRequest, Manager, ManagerOptions } from '@hitl/core';
import express, { type Request } from 'express';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { createReviewRouter, type ReviewRouterOptions } from './index.js';
import { hasChromium } from './test-support/browser.js';
import { ask, openDashboard, seriousViolations, useChromium, visibleText } from './test-support/dashboard-harness.js';
import { listen } from './test-support/http.js';

/** What the in-page functions below see of the page (this file is compiled without the DOM lib). */
interface PageGlobals {
  document: { activeElement: { getAttribute(name: string): string | null } | null };
}
const focusedRequest = (id: string) =>
  (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('data-request-id') === id;

/** What a stuck keyboard step saw: the focused element, the selected card, the open dialogs (as text, for the error). */
const keyboardState = () => {
  const doc = (
    globalThis as unknown as {
      document: {
        querySelector(selector: string): { outerHTML: string; getAttribute(name: string): string | null } | null;
        activeElement: { outerHTML: string } | null;
      };
    }
  ).document;
  return JSON.stringify({
    focused: doc.activeElement?.outerHTML.slice(0, 160),
    selected: doc.querySelector('[data-selected="true"]')?.getAttribute('data-request-id'),
    openDialog: doc.querySelector('dialog[open]')?.getAttribute('id'),
  });
};

/** Waits for one step of a keyboard walk-through, at most 20 s; a stuck step fails naming itself and what the page showed. */
async function step<T>(page: Page, name: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void page.evaluate(keyboardState).then(
        (state) => reject(new Error(`keyboard step '${name}' did not finish within 20 s; the page: ${state}`)),
        () => reject(new Error(`keyboard step '${name}' did not finish within 20 s`)),
      );
    }, 20_000);
  });
  try {
    return await Promise.race([work, stuck]);
  } finally {
    clearTimeout(timer);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(routerOptions: Partial<ReviewRouterOptions> = {}, managerOptions: Partial<ManagerOptions> = {}) {
  const manager = createManager({
    timeoutMs: 600_000,
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
    ...managerOptions,
  });
  const app = express();
  const authenticate = (httpRequest: Request) => {
    const id = httpRequest.get('x-reviewer');
    return id ? { id } : null;
  };
  app.use('/hitl', createReviewRouter({ manager, authenticate, ...routerOptions }));
  const server = await listen(app);
  cleanups.push(async () => {
    await server.close();
    await manager.close();
  });
  return { manager, url: `${server.url}/hitl` };
}

describe.skipIf(!hasChromium)('dashboard v2 in headless Chromium', () => {
  const chromium = useChromium();

  const open = (url: string, reviewer = 'alice', prepare?: (page: Page) => Promise<void>) =>
    openDashboard(chromium.context, url, { reviewer, prepare, cleanups });

  const card = (page: Page, id: string) => page.locator(`[data-testid="request-card"][data-request-id="${id}"]`);

  it('shows who I am, the policy, the expiry and what happens then, low confidence, and folds long input', async () => {
    const { manager, url } = await serve();
    const long = 'x'.repeat(2000);
    const { id } = await ask(manager, {
      toolName: 'delete_user',
      input: { user_id: '7', note: long },
      confidence: 0.3,
      timeoutMs: 120_000,
      requestedBy: 'support-agent',
    });
    const { page, pageErrors } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await visibleText(page.getByTestId('whoami'), 'Signed in as alice');
    expect(await shown.getByTestId('request-policy').textContent()).toBe('destructive');
    expect(await shown.getByTestId('request-requested-by').textContent()).toBe('support-agent');
    expect(await shown.getByTestId('request-expiry').textContent()).toMatch(/then it closes as expired and the call does not run/);
    expect(await shown.getByTestId('request-time-left').textContent()).toMatch(/^(1m [0-9]+s|2m 0s) left$/);
    expect(await shown.getByTestId('request-confidence').getAttribute('data-level')).toBe('low');
    expect(await shown.getByTestId('low-confidence').isVisible()).toBe(true);
    // Folded by height only: the whole input is still the text of the block.
    const input = shown.getByTestId('request-input');
    expect(JSON.parse((await input.textContent()) ?? '').note).toBe(long);
    const folded = (await input.boundingBox())?.height ?? 0;
    await shown.getByRole('button', { name: 'Show all input of delete_user' }).click();
    expect((await input.boundingBox())?.height ?? 0).toBeGreaterThan(folded);
    expect(await shown.getByTestId('fold-toggle').getAttribute('aria-expanded')).toBe('true');
    expect(pageErrors).toEqual([]);
    await manager.cancel(id);
  }, 60_000);

  it('shows a Sign out link next to who I am when the router has a signOutUrl, and none when it has not', async () => {
    const external = await serve({ signOutUrl: 'https://auth.example.com/logout?rd=%2F' });
    const first = await open(external.url);
    const link = first.page.getByTestId('whoami').getByRole('link', { name: 'Sign out' });
    await link.waitFor({ timeout: 20_000 });
    expect(await first.page.getByTestId('whoami').textContent()).toBe('Signed in as alice Sign out');
    expect(await link.getAttribute('href')).toBe('https://auth.example.com/logout?rd=%2F');
    expect(await seriousViolations(first.page)).toEqual([]);

    // A path without a leading '/' is resolved against the router's mount path, as the API calls are.
    const relative = await serve({ signOutUrl: 'logout' });
    const second = await open(relative.url);
    const relativeLink = second.page.getByRole('link', { name: 'Sign out' });
    await relativeLink.waitFor({ timeout: 20_000 });
    expect(await relativeLink.getAttribute('href')).toBe(`${relative.url}/logout`);

    const plain = await serve();
    const third = await open(plain.url);
    await visibleText(third.page.getByTestId('whoami'), 'Signed in as alice');
    expect(await third.page.getByTestId('whoami').textContent()).toBe('Signed in as alice');
    expect(await third.page.getByRole('link').count()).toBe(0);
    expect([...first.pageErrors, ...second.pageErrors, ...third.pageErrors]).toEqual([]);
  }, 60_000);

  it('a call sent to review by a CEL condition shows the reason naming the condition and the policy', async () => {
    const { manager, url } = await serve(
      {},
      {
        policies: [
          { name: 'big-refunds', toolPattern: 'refund', when: 'input.amount > 100', requireExplicit: true },
          { name: 'small-refunds', toolPattern: 'refund', maxRiskLevel: 'irreversible' },
        ],
      },
    );
    // Below the threshold the condition does not hold: the next policy approves without asking.
    const small = await manager.submit({ toolName: 'refund', input: { amount: 20 }, riskLevel: 'data_modification' });
    expect(small.status).toBe('approved');
    const { id } = await ask(manager, { toolName: 'refund', input: { amount: 500 }, riskLevel: 'data_modification' });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    expect(await shown.getByTestId('request-reason').textContent()).toBe(
      "policy 'big-refunds' requires explicit approval for 'refund' (input.amount > 100 holds)",
    );
    expect(await shown.getByTestId('request-policy').textContent()).toBe('big-refunds');
    expect(await page.getByTestId('request-card').count()).toBe(1);
    await manager.cancel(id);
  }, 60_000);

  /** The `GET /requests` URLs the page sends, from the moment it opens. */
  const listRequests = (urls: string[]) => async (page: Page) => {
    page.on('request', (sent) => {
      if (new URL(sent.url()).pathname.endsWith('/requests')) urls.push(sent.url());
    });
  };
  const shownIds = async (page: Page) =>
    (await page.getByTestId('request-card').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-request-id')))).sort();

  it('groups requests by thread and run, shows them on each card, and filters by them on the server', async () => {
    const { manager, url } = await serve();
    const a = await ask(manager, { toolName: 'delete_account', input: { id: 1 }, threadId: 't-1', runId: 'run-1' });
    const b = await ask(manager, { toolName: 'send_email', input: { to: 'c@example.com' }, threadId: 't-1', runId: 'run-1' });
    const c = await ask(manager, { toolName: 'read_file', input: { path: '/x' } });
    const d = await ask(manager, { toolName: 'refund', input: { amount: 5 }, threadId: 't-2', runId: 'run-9' });
    const urls: string[] = [];
    const { page, pageErrors } = await open(url, 'alice', listRequests(urls));
    await card(page, c.id).waitFor({ timeout: 20_000 });
    const group = page.getByTestId('request-group');
    expect(await group.getByTestId('group-title').allTextContents()).toEqual(['Thread t-2 · run run-9', 'Thread t-1 · run run-1']);
    const first = group.filter({ hasText: 'Thread t-1 · run run-1' });
    expect(
      await first.getByTestId('request-card').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-request-id')).sort()),
    ).toEqual([a.id, b.id].sort());
    expect(await card(page, a.id).getByTestId('request-thread').textContent()).toBe('t-1');
    expect(await card(page, a.id).getByTestId('request-run').textContent()).toBe('run-1');
    expect(await card(page, c.id).locator('xpath=ancestor::li[@data-testid="request-group"]').count()).toBe(0);

    // Filter by run: the server answers for it, and live arrivals outside it stay out.
    await page.getByTestId('pending-filter-run').fill('run-9');
    await page.getByTestId('pending-filter-run').press('Enter');
    await card(page, a.id).waitFor({ state: 'detached', timeout: 20_000 });
    await card(page, d.id).waitFor({ timeout: 20_000 });
    expect(urls.at(-1)).toMatch(/status=pending.*runId=run-9/);
    expect(await shownIds(page)).toEqual([d.id]);
    await visibleText(page.getByTestId('pending-count'), '1 pending (filtered)');
    const outside = await ask(manager, { toolName: 'send_email', input: { to: 'd' }, threadId: 't-3', runId: 'run-1' });
    const inside = await ask(manager, { toolName: 'refund', input: { amount: 6 }, threadId: 't-2', runId: 'run-9' });
    await card(page, inside.id).waitFor({ timeout: 20_000 });
    expect(await card(page, outside.id).count()).toBe(0);

    // Clear, then "Show only this thread" on a card: the thread filter, applied by the server.
    await page.getByTestId('pending-filter-clear').click();
    await card(page, outside.id).waitFor({ timeout: 20_000 });
    await card(page, a.id)
      .getByRole('button', { name: /^Show only this thread delete_account/ })
      .click();
    await card(page, c.id).waitFor({ state: 'detached', timeout: 20_000 });
    await card(page, b.id).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('pending-filter-thread').inputValue()).toBe('t-1');
    expect(urls.at(-1)).toMatch(/threadId=t-1/);
    expect(await shownIds(page)).toEqual([a.id, b.id].sort());

    // Deciding the group's last request removes the group.
    await card(page, a.id).getByTestId('reject-button').click();
    await card(page, a.id).waitFor({ state: 'detached', timeout: 20_000 });
    await card(page, b.id).getByTestId('reject-button').click();
    await group.first().waitFor({ state: 'detached', timeout: 20_000 });
    await visibleText(page.getByTestId('empty-state'), 'No pending request matches the filters.');
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('a request that arrives live while the list is on its way stays, though the list was read before it existed', async () => {
    const { manager, url } = await serve();
    const before = await ask(manager, { toolName: 'read_file', input: { path: '/a' }, riskLevel: 'read_only' });
    let arrived: { id: string } | undefined;
    const { page } = await open(url, 'alice', async (prepared) => {
      // The list is read by the server now, and handed to the page only after a new request was created (and streamed).
      await prepared.route(/\/requests\?/, async (route) => {
        const response = await route.fetch();
        arrived = await ask(manager, { toolName: 'send_email', input: { to: 'late' }, riskLevel: 'data_modification' });
        await prepared.getByTestId('request-card').filter({ hasText: 'send_email' }).waitFor({ timeout: 20_000 });
        await route.fulfill({ response });
      });
    });
    await card(page, before.id).waitFor({ timeout: 20_000 });
    await visibleText(page.getByTestId('pending-count'), '2 pending');
    expect(arrived).toBeDefined();
    expect(await card(page, arrived?.id ?? '').count()).toBe(1);
  }, 60_000);

  it('history: thread, run and creation-time filters go to the server; entries show thread and run', async () => {
    let clock = 0;
    const { manager, url } = await serve({}, { now: () => clock });
    /** A request created (and approved at once) at `iso`, by the manager's clock. */
    const decidedAt = async (iso: string, request: InteractionRequest) => {
      clock = Date.parse(iso);
      const asked = await ask(manager, request);
      await manager.respond(asked.id, { decision: 'approve', respondedBy: 'bob' });
      return asked;
    };
    const one = await decidedAt('2026-03-01T10:00:00Z', { toolName: 'send_email', input: { to: 'a' }, threadId: 't-1', runId: 'r-1' });
    const two = await decidedAt('2026-03-01T11:00:00Z', { toolName: 'refund', input: { amount: 1 }, threadId: 't-1', runId: 'r-2' });
    await decidedAt('2026-03-01T12:00:00Z', { toolName: 'read_file', input: { path: '/x' }, threadId: 't-2', runId: 'r-3' });
    const urls: string[] = [];
    const { page } = await open(url, 'alice', listRequests(urls));
    await page.getByRole('tab', { name: 'History' }).click();
    const entries = page.getByTestId('history-entry');
    await entries.nth(2).waitFor({ timeout: 20_000 });
    const shown = async () => (await entries.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-request-id')))).sort();
    const entry = page.locator(`[data-testid="history-entry"][data-request-id="${two.id}"]`);
    expect(await entry.getByTestId('history-thread').textContent()).toBe('t-1');
    expect(await entry.getByTestId('history-run').textContent()).toBe('r-2');

    await page.getByTestId('history-filter-thread').fill('t-1');
    await page.getByTestId('history-filter-thread').press('Enter');
    await expect.poll(shown, { timeout: 20_000 }).toEqual([one.id, two.id].sort());
    expect(urls.at(-1)).toMatch(/threadId=t-1/);
    await page.getByTestId('history-filter-run').fill('r-2');
    await page.getByTestId('history-filter-run').press('Enter');
    await expect.poll(shown, { timeout: 20_000 }).toEqual([two.id]);
    expect(urls.at(-1)).toMatch(/threadId=t-1.*runId=r-2/);

    // Times are typed in the reviewer's local time and sent as UTC instants.
    await page.getByTestId('history-filter-clear').click();
    await expect.poll(shown, { timeout: 20_000 }).toHaveLength(3);
    const local = (iso: string) =>
      page.evaluate((ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16), Date.parse(iso));
    await page.getByTestId('history-filter-after').fill(await local('2026-03-01T10:30:00Z'));
    await page.getByTestId('history-filter-before').fill(await local('2026-03-01T11:30:00Z'));
    await expect.poll(shown, { timeout: 20_000 }).toEqual([two.id]);
    expect(decodeURIComponent(urls.at(-1) ?? '')).toMatch(/createdAfter=2026-03-01T10:30:00.000Z&createdBefore=2026-03-01T11:30:00.000Z/);
  }, 60_000);

  it('edits through a form generated from the input schema, shows the diff, and sends exactly that as a modify once confirmed', async () => {
    const { manager, url } = await serve();
    const inputSchema = {
      type: 'object',
      properties: {
        user_id: { type: 'string', minLength: 3 },
        amount: { type: 'integer' },
        notify: { type: 'boolean' },
        mode: { enum: ['soft', 'hard'] },
      },
      required: ['user_id', 'amount', 'mode'],
    };
    const { id, waiting } = await ask(manager, {
      toolName: 'refund',
      input: { user_id: 'u-12345', amount: 100, notify: false, mode: 'hard' },
      inputSchema,
    });
    const posts: string[] = [];
    const { page } = await open(url, 'alice', async (prepared) => {
      prepared.on('request', (sent) => {
        if (sent.method() === 'POST') posts.push(sent.url());
      });
    });
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await shown.getByTestId('edit-button').click();
    const form = shown.getByTestId('schema-form');
    expect(await form.getByLabel('user_id').inputValue()).toBe('u-12345');
    await form.getByLabel('amount').fill('40');
    await form.getByLabel('notify').check();
    await form.getByLabel('mode').selectOption({ label: '"soft"' });
    expect(await shown.getByTestId('diff-line').allTextContents()).toEqual([
      'amount: 100 → 40',
      'mode: "hard" → "soft"',
      'notify: false → true',
    ]);
    expect(JSON.parse(await shown.getByLabel('Edited input (a JSON object)').inputValue())).toEqual({
      user_id: 'u-12345',
      amount: 40,
      notify: true,
      mode: 'soft',
    });

    // An unrated refund counts as irreversible: "Approve with edits…" asks first, saying what it approves.
    const sendEdits = shown.getByRole('button', { name: /^Approve with edits… refund/ });
    expect(await sendEdits.getAttribute('aria-haspopup')).toBe('dialog');
    const dialog = page.getByRole('alertdialog', { name: 'Confirm an irreversible approval with edits' });

    // The server's refusal lands on the field it names (minLength 3).
    await form.getByLabel('user_id').fill('ab');
    await sendEdits.click();
    await dialog.getByRole('button', { name: 'Approve with edits, it cannot be undone' }).click({ timeout: 20_000 });
    await visibleText(form.getByTestId('field-error'), /modified\/user_id .*3 characters/);
    expect(await form.getByLabel('user_id').getAttribute('aria-invalid')).toBe('true');
    expect((await manager.get(id))?.status).toBe('pending');
    expect(posts).toHaveLength(1);

    // Cancel sends nothing: the edits stay open and the request pending.
    await form.getByLabel('user_id').fill('u-999');
    await sendEdits.click();
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator('#confirm-text').textContent()).toBe(
      'Approve refund with your edits? Its risk was not given, so it is treated as irreversible: it runs at once with the edited arguments and cannot be undone.',
    );
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 20_000 });
    expect(posts).toHaveLength(1);
    expect((await manager.get(id))?.status).toBe('pending');
    expect(await form.getByLabel('user_id').inputValue()).toBe('u-999');

    await sendEdits.click();
    await dialog.getByRole('button', { name: 'Approve with edits, it cannot be undone' }).click({ timeout: 20_000 });
    await expect(waiting).resolves.toMatchObject({
      decision: 'modify',
      modified: { user_id: 'u-999', amount: 40, notify: true, mode: 'soft' },
      respondedBy: 'alice',
    });
  }, 60_000);

  it('history: who decided what, when, why, with the arguments that ran; filters and search', async () => {
    const { manager, url } = await serve();
    const one = await ask(manager, { toolName: 'send_email', input: { to: 'a@example.com' } });
    const two = await ask(manager, { toolName: 'delete_user', input: { user_id: '9' } });
    const three = await ask(manager, { toolName: 'refund', input: { amount: 100 } });
    await manager.respond(one.id, { decision: 'approve', respondedBy: 'alice', feedback: 'fine' });
    await manager.respond(two.id, { decision: 'reject', respondedBy: 'bob', feedback: 'never delete' });
    await manager.respond(three.id, { decision: 'modify', respondedBy: 'bob', modified: { amount: 10 } });
    const { page } = await open(url);
    await page.getByRole('tab', { name: 'History' }).click();
    const entries = page.getByTestId('history-entry');
    await entries.nth(2).waitFor({ timeout: 20_000 });
    const refund = page.locator(`[data-testid="history-entry"][data-request-id="${three.id}"]`);
    expect(await refund.getByTestId('history-status').textContent()).toBe('approved with edits');
    expect(await refund.getByTestId('history-by').textContent()).toBe('bob');
    expect(JSON.parse((await refund.getByTestId('history-arguments').textContent()) ?? '')).toEqual({ amount: 10 });
    await page.getByLabel('Reviewer').fill('bob');
    expect(await entries.count()).toBe(2);
    await visibleText(page.getByTestId('history-scope'), 'Reviewer and search looked in all 3 decisions that match the other filters.');
    // The outcome is a filter of the server: the list is loaded again for it.
    await page.getByLabel('Outcome').selectOption('rejected');
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBe(1);
    expect(await entries.getByTestId('history-why').textContent()).toBe('never delete');
    await page.getByLabel('Outcome').selectOption('');
    await page.getByLabel('Reviewer').fill('');
    expect(await page.getByTestId('history-scope').isHidden()).toBe(true);
    await page.getByLabel('Search').fill('a@example');
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBe(1);
    await page.getByLabel('Search').fill('');
    // The tool is typed (or picked from the names seen) and sent to the server.
    expect(
      await page.locator('#filter-tool-names option').evaluateAll((options) => options.map((option) => option.getAttribute('value'))),
    ).toEqual(['delete_user', 'refund', 'send_email']);
    await page.getByLabel('Tool').fill('refund');
    await page.getByLabel('Tool').press('Enter');
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBe(1);
    expect(await entries.getAttribute('data-request-id')).toBe(three.id);
  }, 60_000);

  it('history: tool and outcome go to the server and find a decision older than the pages loaded; reviewer and search say they look only in what was loaded', async () => {
    let clock = Date.parse('2026-03-01T00:00:00Z');
    const { manager, url } = await serve({}, { now: () => clock });
    // The oldest decision: a rare tool, rejected by carol.
    const old = await manager.submit({ toolName: 'wipe_disk', input: { disk: 'sdb' }, riskLevel: 'irreversible' });
    await manager.respond(old.request.id, { decision: 'reject', respondedBy: 'carol', feedback: 'not this disk' });
    // Then 210 newer approvals: more than a page of 200.
    for (let index = 0; index < 210; index += 1) {
      clock += 1000;
      const newer = await manager.submit({ toolName: 'send_email', input: { to: `user-${index}` }, riskLevel: 'data_modification' });
      await manager.respond(newer.request.id, { decision: 'approve', respondedBy: 'bob' });
    }
    const urls: string[] = [];
    const { page, pageErrors } = await open(url, 'alice', listRequests(urls));
    await page.getByRole('tab', { name: 'History' }).click();
    const entries = page.getByTestId('history-entry');
    const oldEntry = page.locator(`[data-testid="history-entry"][data-request-id="${old.request.id}"]`);
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBe(200);
    expect(await oldEntry.count()).toBe(0);
    await page.getByTestId('history-more').waitFor({ state: 'visible', timeout: 20_000 });

    // Reviewer and search look in what was loaded, and say so.
    await page.getByLabel('Reviewer').fill('carol');
    await visibleText(
      page.getByTestId('history-scope'),
      'Reviewer and search look only in the 200 decisions loaded; load older decisions to search further.',
    );
    await visibleText(page.getByTestId('history-empty'), 'No decided request matches.');
    await page.getByLabel('Reviewer').fill('');

    // The tool goes to the server: the old decision is found without loading older pages.
    await page.getByLabel('Tool').fill('wipe_disk');
    await page.getByLabel('Tool').press('Enter');
    await oldEntry.waitFor({ timeout: 20_000 });
    expect(await entries.count()).toBe(1);
    expect(new URL(urls.at(-1) ?? '').searchParams.get('toolName')).toBe('wipe_disk');
    expect(await page.getByTestId('history-more').isHidden()).toBe(true);

    // So does the outcome.
    await page.getByLabel('Tool').fill('');
    await page.getByLabel('Tool').press('Enter');
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBe(200);
    await page.getByLabel('Outcome').selectOption('rejected');
    await oldEntry.waitFor({ timeout: 20_000 });
    expect(await entries.count()).toBe(1);
    expect(new URL(urls.at(-1) ?? '').searchParams.get('status')).toBe('rejected');
    expect(await oldEntry.getByTestId('history-by').textContent()).toBe('carol');

    // Reviewer again over every outcome: loading older decisions finds it, and the page says all were searched.
    await page.getByLabel('Outcome').selectOption('');
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBe(200);
    await page.getByLabel('Reviewer').fill('carol');
    await page.getByTestId('history-more').click();
    await oldEntry.waitFor({ timeout: 20_000 });
    await visibleText(page.getByTestId('history-scope'), 'Reviewer and search looked in all 211 decisions that match the other filters.');
    // The time filters say what they filter by: when the request was asked.
    expect(await page.getByTestId('history-filter-after').evaluate((node) => node.closest('label')?.textContent?.trim())).toBe(
      'Asked after',
    );
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it(
    'keyboard: j/k select, a approves (an irreversible one after confirming), r rejects, ? helps; focus moves to the next card',
    { timeout: 120_000 },
    async () => {
      const { manager, url } = await serve();
      const older = await ask(manager, { toolName: 'read_file', input: { path: '/a' }, riskLevel: 'read_only' });
      const newer = await ask(manager, { toolName: 'delete_user', input: { user_id: '1' }, riskLevel: 'irreversible' });
      const third = await ask(manager, { toolName: 'send_email', input: { to: 'x' }, riskLevel: 'data_modification' });
      const { page } = await open(url);
      await card(page, older.id).waitFor({ timeout: 20_000 });
      // Newest first: send_email, delete_user, read_file.
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      expect(await card(page, newer.id).getAttribute('data-selected')).toBe('true');
      await page.keyboard.press('a');
      const dialog = page.getByTestId('confirm-dialog');
      await dialog.waitFor({ state: 'visible', timeout: 20_000 });
      expect(await dialog.textContent()).toMatch(/Approve delete_user\?.*cannot be undone/);
      await page.getByTestId('confirm-no').click({ timeout: 20_000 });
      expect((await manager.get(newer.id))?.status).toBe('pending');
      await page.keyboard.press('a');
      await page.getByTestId('confirm-yes').click({ timeout: 20_000 });
      await expect(step(page, 'a (confirmed) approves delete_user', newer.waiting)).resolves.toMatchObject({
        decision: 'approve',
        respondedBy: 'alice',
      });
      // Focus went to the next card (read_file), which the next key decides.
      await step(page, 'focus moves to read_file', page.waitForFunction(focusedRequest, older.id, { timeout: 0 }));
      await page.keyboard.press('r');
      await expect(step(page, 'r rejects read_file', older.waiting)).resolves.toMatchObject({ decision: 'reject', respondedBy: 'alice' });
      await step(page, 'focus moves to send_email', page.waitForFunction(focusedRequest, third.id, { timeout: 0 }));
      await page.keyboard.press('k');
      await page.keyboard.press('a');
      await expect(step(page, 'a approves send_email', third.waiting)).resolves.toMatchObject({ decision: 'approve' });
      await page.keyboard.press('?');
      await page.getByTestId('help-dialog').waitFor({ state: 'visible', timeout: 20_000 });
      // Typing in a field is typing, not a shortcut.
      await page.keyboard.press('Escape');
      const fourth = await ask(manager, { toolName: 'send_email', input: { to: 'y' }, riskLevel: 'data_modification' });
      await card(page, fourth.id).getByTestId('feedback-input').fill('a r j', { timeout: 20_000 });
      expect((await manager.get(fourth.id))?.status).toBe('pending');
      await manager.cancel(fourth.id);
    },
  );

  it("Cancel then a at once (before the dialog's close event): the new question keeps its action, and confirming approves", async () => {
    const { manager, url } = await serve();
    const { id, waiting } = await ask(manager, { toolName: 'delete_user', input: { user_id: '9' }, riskLevel: 'irreversible' });
    const { page, pageErrors } = await open(url);
    await card(page, id).waitFor({ timeout: 20_000 });
    await page.keyboard.press('j');
    await page.keyboard.press('a');
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible', timeout: 20_000 });
    // Cancel and the next `a` in one task: the browser queues the first close's event after both.
    await page.evaluate(() => {
      // The test's types have no DOM: the page's globals, as far as this step uses them.
      const page = globalThis as unknown as {
        document: { getElementById(id: string): { click(): void } | null; dispatchEvent(event: unknown): boolean };
        KeyboardEvent: new (type: string, init: { key: string; bubbles: boolean }) => unknown;
      };
      page.document.getElementById('confirm-no')?.click();
      page.document.dispatchEvent(new page.KeyboardEvent('keydown', { key: 'a', bubbles: true }));
    });
    await page.getByTestId('confirm-dialog').waitFor({ state: 'visible', timeout: 20_000 });
    await page.getByTestId('confirm-yes').click({ timeout: 20_000 });
    await expect(step(page, 'the second confirmation approves', waiting)).resolves.toMatchObject({
      decision: 'approve',
      respondedBy: 'alice',
    });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('Approve on an irreversible card asks first; decided elsewhere meanwhile, the question closes and nothing is sent', async () => {
    const { manager, url } = await serve();
    const { id } = await ask(manager, { toolName: 'delete_user', input: { user_id: '3' } });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    // Unrated risk counts as irreversible: the label says a question follows.
    expect(await shown.getByTestId('request-risk').textContent()).toBe('risk not given (treated as irreversible)');
    await shown.getByRole('button', { name: /^Approve… delete_user/ }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm an irreversible approval' });
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await dialog.textContent()).toContain(
      'Its risk was not given, so it is treated as irreversible: it runs at once and cannot be undone.',
    );
    await manager.respond(id, { decision: 'reject', respondedBy: 'bob' });
    await dialog.waitFor({ state: 'hidden', timeout: 20_000 });
    await shown.waitFor({ state: 'detached', timeout: 20_000 });
    expect((await manager.get(id))?.response).toMatchObject({ decision: 'reject', respondedBy: 'bob' });
  }, 60_000);

  it('offline: the status says so, Approve says nothing was sent and the request stays pending; back online, live again and Approve works', async () => {
    const { manager, url } = await serve();
    const { id, waiting } = await ask(manager, { toolName: 'send_email', input: { to: 'ops' }, riskLevel: 'data_modification' });
    const { page, pageErrors } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    const status = page.getByTestId('connection-status');

    // Online, but the decision gets no answer: it may have arrived, and the card says how to tell.
    await page.route(/\/approve$/, (route) => route.abort('connectionreset'));
    await shown.getByTestId('approve-button').click();
    await visibleText(
      shown.getByTestId('card-error'),
      'The server could not be reached and no answer came back. If this card is still here when the status says Live, nothing was decided: try again.',
    );
    await page.unroute(/\/approve$/);
    expect((await manager.get(id))?.status).toBe('pending');

    cleanups.push(() => chromium.context.setOffline(false));
    await chromium.context.setOffline(true);
    await visibleText(status, /^Offline/);
    await shown.getByTestId('approve-button').click();
    await visibleText(
      shown.getByTestId('card-error'),
      'The page is offline, so nothing was sent: nothing was decided. Try again when the status says Live.',
    );
    // The message sits next to the buttons, which work again.
    expect(await shown.getByTestId('card-error').evaluate((node) => node.previousElementSibling?.getAttribute('class'))).toBe('actions');
    expect(await shown.getByTestId('approve-button').isEnabled()).toBe(true);
    expect((await manager.get(id))?.status).toBe('pending');

    await chromium.context.setOffline(false);
    await visibleText(status, 'Live');
    await shown.getByTestId('approve-button').click();
    await expect(waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    await shown.waitFor({ state: 'detached', timeout: 20_000 });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('a card decided elsewhere while the stream was away says by whom and offers nothing (409)', async () => {
    const { manager } = await serve();
    const { id } = await ask(manager, { toolName: 'send_email', input: { to: 'all' }, riskLevel: 'data_modification' });
    // The router hears of nothing after this point: the page does not learn of the decision.
    let deaf = false;
    const heard: Manager = Object.create(manager) as Manager;
    heard.subscribe = (listener) => manager.subscribe((event) => (deaf ? undefined : listener(event)));
    const app = express();
    app.use(
      '/hitl',
      createReviewRouter({ manager: heard, authenticate: (httpRequest: Request) => ({ id: httpRequest.get('x-reviewer') ?? 'x' }) }),
    );
    const server = await listen(app);
    cleanups.push(() => server.close());
    const { page } = await open(`${server.url}/hitl`);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    deaf = true;
    await manager.respond(id, { decision: 'reject', respondedBy: 'bob' });
    await shown.getByTestId('approve-button').click();
    await visibleText(shown.getByTestId('card-error'), 'Already rejected by bob.');
    expect(await shown.getByTestId('approve-button').isDisabled()).toBe(true);
    expect(await shown.getByTestId('reject-button').isDisabled()).toBe(true);
    expect(await shown.getAttribute('data-stale')).toBe('true');
    expect((await manager.get(id))?.response?.respondedBy).toBe('bob');
  }, 60_000);

  it('axe-core finds no serious or critical violation, and every control has a distinct accessible name', async () => {
    const { manager, url } = await serve();
    await ask(manager, {
      toolName: 'delete_user',
      input: { user_id: '1' },
      confidence: 0.2,
      inputSchema: { type: 'object', properties: { user_id: { type: 'string' } } },
    });
    await ask(manager, { toolName: 'send_email', input: { to: 'a', body: 'y'.repeat(2000) }, riskLevel: 'data_modification' });
    await ask(manager, { type: 'input', toolName: 'ask_human', input: {} });
    await ask(manager, { toolName: 'send_email', input: { to: 'b' }, riskLevel: 'data_modification' });
    const { page } = await open(url);
    await page.getByTestId('request-card').nth(3).waitFor({ timeout: 20_000 });
    await page.getByTestId('edit-button').first().click();
    const audit = () => seriousViolations(page);
    expect(await audit()).toEqual([]);

    // The accessible names Chromium computes, for every control a reviewer can reach.
    const cdp = await chromium.context.newCDPSession(page);
    const tree = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: Array<{ ignored: boolean; role?: { value?: string }; name?: { value?: string } }>;
    };
    const controls = new Set(['button', 'textbox', 'checkbox', 'combobox', 'tab', 'searchbox', 'spinbutton']);
    const names = tree.nodes
      .filter((node) => !node.ignored && controls.has(String(node.role?.value)))
      .map((node) => String(node.name?.value ?? ''));
    expect(names.length).toBeGreaterThan(15);
    expect(names.every((name) => name.trim() !== '')).toBe(true);
    // Two send_email cards: their controls are told apart by what they act on.
    const duplicates = names.filter((name, index) => names.indexOf(name) !== index);
    expect(duplicates).toEqual([]);

    await page.getByRole('tab', { name: 'History' }).click();
    await page.getByTestId('history-list').waitFor({ state: 'attached' });
    expect(await audit()).toEqual([]);
  }, 60_000);

  it('four eyes: shows "1 of 2 approvals (alice)" live to every reviewer, refuses alice twice with 409, and closes on the second approver', async () => {
    const { manager, url } = await serve(
      {},
      { policies: [{ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 }] },
    );
    const { id, waiting } = await ask(manager, {
      toolName: 'transfer_funds',
      input: { amount: 25_000 },
      riskLevel: 'data_modification',
      requestedBy: 'agent-7',
    });
    const alice = await open(url, 'alice');
    const bob = await open(url, 'bob');
    const aliceCard = card(alice.page, id);
    const bobCard = card(bob.page, id);
    await visibleText(
      aliceCard.getByTestId('request-approvals'),
      '0 of 2 approvals. 2 more distinct approvers are needed: anyone but agent-7 (who asked).',
    );
    // A request that needs several approvers cannot be modified: no Edit on offer.
    expect(await aliceCard.getByTestId('edit-button').isVisible()).toBe(false);
    // Remembering an approval here is one approval of each later call, and the hint says so.
    expect(await aliceCard.getByTestId('always-button').getAttribute('title')).toBe(
      'Always allow: adds your approval to this call, and from now on counts as your approval of every transfer_funds call in any thread (those waiting too); each still needs its other approvers.',
    );

    await aliceCard.getByTestId('approve-button').click();
    const partly = '1 of 2 approvals (alice). Another approver is needed: anyone but alice and agent-7 (who asked).';
    await visibleText(aliceCard.getByTestId('request-approvals'), partly);
    expect(await aliceCard.getByTestId('approve-button').isDisabled()).toBe(true);
    expect(await aliceCard.getByTestId('reject-button').isDisabled()).toBe(false);
    // Bob's page hears it over the event stream.
    await visibleText(bobCard.getByTestId('request-approvals'), partly);

    // Alice again (written differently) through the API: 409 with a message that says why.
    const again = await fetch(`${url}/requests/${id}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-reviewer': 'Alice' },
      body: '{}',
    });
    expect(again.status).toBe(409);
    const body = (await again.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('conflict');
    expect(body.error.message).toMatch(/'Alice' has already approved request .*another reviewer must approve it/);
    const shown = (await (await fetch(`${url}/requests/${id}`, { headers: { 'x-reviewer': 'bob' } })).json()) as {
      status: string;
      approvalsRequired: number;
      approvals: { by: string }[];
    };
    expect(shown).toMatchObject({ status: 'pending', approvalsRequired: 2, approvals: [{ by: 'alice' }] });

    await bobCard.getByTestId('approve-button').click();
    await bobCard.waitFor({ state: 'detached', timeout: 20_000 });
    await aliceCard.waitFor({ state: 'detached', timeout: 20_000 });
    expect(await waiting).toMatchObject({ decision: 'approve', respondedBy: 'bob' });
    expect((await manager.get(id))?.approvals?.map((approval) => approval.by)).toEqual(['alice', 'bob']);
    expect([...alice.pageErrors, ...bob.pageErrors]).toEqual([]);
  }, 60_000);
});
