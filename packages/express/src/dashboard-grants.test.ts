// The dashboard's remembered decisions ("Allow in this thread", "Always allow", "Never allow") and
// Grants tab, end to end in headless Chromium against a real router and manager; and that no such
// control does more than it says.
import { describe, expect, it } from 'vitest';
import { hasChromium } from './test-support/browser.js';
import { ask, seriousViolations, useDashboard, visibleText } from './test-support/dashboard-harness.js';

describe.skipIf(!hasChromium)('dashboard remembered decisions and grants in headless Chromium', () => {
  const { chromium, serve, open, card, group } = useDashboard();

  it('"Allow in this thread" approves, remembers for that thread only, and decides the next call of the thread at once', async () => {
    const { manager, url } = await serve();
    const first = await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', threadId: 't-1' });
    const waitingToo = await ask(manager, { toolName: 'send_email', input: { to: 'a2' }, riskLevel: 'data_modification', threadId: 't-1' });
    const elsewhere = await ask(manager, { toolName: 'send_email', input: { to: 'b' }, riskLevel: 'data_modification', threadId: 't-2' });
    const noThread = await ask(manager, { toolName: 'send_email', input: { to: 'c' }, riskLevel: 'data_modification' });
    const { page, pageErrors } = await open(url);
    await card(page, noThread.id).waitFor({ timeout: 20_000 });
    // What it does, as its description says: this call, those waiting in the thread, and later ones.
    expect(await card(page, first.id).getByTestId('allow-thread-button').getAttribute('title')).toBe(
      'Allow in this thread: approves this call, and from now on every send_email call in thread t-1 (those waiting too) without asking.',
    );
    // Only a request with a thread offers it.
    expect(await card(page, noThread.id).getByTestId('allow-thread-button').count()).toBe(0);
    await card(page, first.id)
      .getByRole('button', { name: /^Allow in this thread send_email/ })
      .click();
    await expect(first.waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    await expect(waitingToo.waiting).resolves.toMatchObject({ decision: 'approve' });
    await card(page, waitingToo.id).waitFor({ state: 'detached', timeout: 20_000 });
    const { items } = await manager.listGrants({ active: true });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ effect: 'approve', toolPattern: 'send_email', scope: { threadId: 't-1' }, grantedBy: 'alice' });
    expect((await manager.get(first.id))?.response?.grantId).toBe(items[0]?.id);
    // The next send_email of thread t-1 runs without asking; thread t-2 and no thread still ask.
    await expect(
      manager.requestInteraction({ toolName: 'send_email', input: { to: 'd' }, riskLevel: 'data_modification', threadId: 't-1' }),
    ).resolves.toMatchObject({ decision: 'approve' });
    expect((await manager.get(elsewhere.id))?.status).toBe('pending');
    expect((await manager.get(noThread.id))?.status).toBe('pending');
    await card(page, first.id).waitFor({ state: 'detached', timeout: 20_000 });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('"Always allow" on an irreversible call asks first in words that say so; Cancel sends nothing, confirming approves and remembers everywhere', async () => {
    const { manager, url } = await serve();
    const { id, waiting } = await ask(manager, {
      toolName: 'delete_user',
      input: { user_id: '1' },
      riskLevel: 'irreversible',
      threadId: 't-1',
    });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await shown.getByRole('button', { name: /^Always allow… delete_user/ }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm: always allow' });
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await dialog.textContent()).toMatch(
      /every delete_user call in any thread.*delete_user is irreversible: what it does cannot be undone/,
    );
    await page.getByTestId('confirm-no').click();
    expect((await manager.get(id))?.status).toBe('pending');
    expect((await manager.listGrants()).items).toEqual([]);
    await shown.getByRole('button', { name: /^Always allow… delete_user/ }).click();
    await page.getByRole('button', { name: 'Approve and always allow' }).click();
    await expect(waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    expect((await manager.listGrants({ active: true })).items).toMatchObject([
      { effect: 'approve', toolPattern: 'delete_user', scope: {}, grantedBy: 'alice' },
    ]);
  }, 60_000);

  it('"Never allow" rejects with the note and remembers a deny: the next call of that tool is refused without asking', async () => {
    const { manager, url } = await serve();
    const { id, waiting } = await ask(manager, { toolName: 'drop_table', input: { table: 'users' }, riskLevel: 'data_modification' });
    const alreadyWaiting = await ask(manager, { toolName: 'drop_table', input: { table: 'logs' }, riskLevel: 'data_modification' });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await shown.getByTestId('feedback-input').fill('not on production');
    await shown.getByRole('button', { name: /^Never allow drop_table/ }).click();
    await expect(waiting).resolves.toMatchObject({ decision: 'reject', respondedBy: 'alice', feedback: 'not on production' });
    expect((await manager.listGrants({ active: true })).items).toMatchObject([
      { effect: 'deny', toolPattern: 'drop_table', grantedBy: 'alice' },
    ]);
    await expect(
      manager.requestInteraction({ toolName: 'drop_table', input: { table: 'orders' }, riskLevel: 'data_modification' }),
    ).resolves.toMatchObject({ decision: 'reject' });
    // As its description says ("every new call"): the one already waiting is still the reviewer's.
    expect((await manager.get(alreadyWaiting.id))?.status).toBe('pending');
    expect(await card(page, alreadyWaiting.id).count()).toBe(1);
  }, 60_000);

  it('a stale card then "Always allow": the card says who decided it, and no grant is made', async () => {
    const { manager, url, deafen } = await serve();
    const { id } = await ask(manager, {
      toolName: 'send_email',
      input: { to: 'all' },
      riskLevel: 'data_modification',
      threadId: 't-1',
      runId: 'run-s',
    });
    const sibling = await ask(manager, {
      toolName: 'refund',
      input: { amount: 2 },
      riskLevel: 'data_modification',
      threadId: 't-1',
      runId: 'run-s',
    });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await card(page, sibling.id).waitFor({ timeout: 20_000 });
    const run = group(page, 'run run-s');
    await visibleText(run.getByTestId('approve-turn-button'), 'Approve whole turn (2 requests)');
    deafen();
    await manager.respond(id, { decision: 'reject', respondedBy: 'bob' });
    await shown.getByRole('button', { name: /^Always allow send_email/ }).click();
    await visibleText(shown.getByTestId('card-error'), 'Already rejected by bob.');
    expect(await shown.getAttribute('data-stale')).toBe('true');
    for (const testid of ['approve-button', 'allow-thread-button', 'always-button', 'never-button'])
      expect(await shown.getByTestId(testid).isDisabled()).toBe(true);
    expect((await manager.listGrants()).items).toEqual([]);
    expect((await manager.get(id))?.response).toMatchObject({ decision: 'reject', respondedBy: 'bob' });
    // Its turn counts it out: the turn's buttons offer only what is still pending.
    await visibleText(run.getByTestId('approve-turn-button'), 'Approve whole turn (1 request)');
  }, 60_000);

  it('a reviewer who may approve but not remember: "Always allow" is refused and decides nothing; Approve still works', async () => {
    const { manager, url } = await serve({}, { authorize: (_reviewer, _record, action) => action !== 'grant' });
    const { id, waiting } = await ask(manager, {
      toolName: 'send_email',
      input: { to: 'a' },
      riskLevel: 'data_modification',
      threadId: 't-1',
    });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await shown.getByTestId('always-button').click();
    await visibleText(shown.getByTestId('card-error'), /\(403 forbidden\)/);
    expect((await manager.get(id))?.status).toBe('pending');
    expect((await manager.listGrants()).items).toEqual([]);
    expect(await shown.getByTestId('approve-button').isDisabled()).toBe(false);
    await shown.getByTestId('approve-button').click();
    await expect(waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    expect((await manager.listGrants()).items).toEqual([]);
  }, 60_000);

  it('while editing, remembering is not offered (it would approve the original input)', async () => {
    const { manager, url } = await serve();
    const { id } = await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', threadId: 't-1' });
    const { page } = await open(url);
    const shown = card(page, id);
    await shown.waitFor({ timeout: 20_000 });
    await shown.getByTestId('edit-button').click();
    expect(await shown.getByTestId('always-button').isVisible()).toBe(false);
    expect(await shown.getByTestId('allow-thread-button').isVisible()).toBe(false);
    await shown.getByTestId('cancel-edit-button').click();
    expect(await shown.getByTestId('always-button').isVisible()).toBe(true);
    await manager.cancel(id);
  }, 60_000);

  it('the Grants tab lists grants in force with their facts, follows grants made and revoked elsewhere, and revokes', async () => {
    const { manager, url } = await serve();
    const thread = await manager.grant({
      effect: 'approve',
      toolPattern: 'send_email',
      scope: { threadId: 't-9' },
      maxUses: 5,
      grantedBy: 'bob',
      reason: 'newsletter week',
    });
    const revoked = await manager.grant({ effect: 'approve', toolPattern: 'old_tool', grantedBy: 'bob' });
    await manager.revokeGrant(revoked.id, { revokedBy: 'bob' });
    const { page, pageErrors } = await open(url);
    await page.getByRole('tab', { name: 'Grants' }).click();
    const entry = (id: string) => page.locator(`[data-testid="grant-entry"][data-grant-id="${id}"]`);
    await entry(thread.id).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('grant-entry').count()).toBe(1);
    expect(await entry(thread.id).getByTestId('grant-tool').textContent()).toBe('send_email');
    expect(await entry(thread.id).getByTestId('grant-effect').textContent()).toBe('always allow');
    expect(await entry(thread.id).getByTestId('grant-scope').textContent()).toBe('thread t-9');
    expect(await entry(thread.id).getByTestId('grant-uses').textContent()).toBe('0 of 5 times');
    expect(await entry(thread.id).getByTestId('grant-expiry').textContent()).toBe('never (until revoked)');
    expect(await entry(thread.id).getByTestId('grant-by').textContent()).toBe('bob');
    expect(await entry(thread.id).getByTestId('grant-reason').textContent()).toBe('newsletter week');
    // A call the grant decides counts as a use, shown while the tab is open.
    await expect(
      manager.requestInteraction({ toolName: 'send_email', input: { to: 'x' }, riskLevel: 'data_modification', threadId: 't-9' }),
    ).resolves.toMatchObject({ decision: 'approve' });
    await visibleText(entry(thread.id).getByTestId('grant-uses'), '1 of 5 times');

    // Made elsewhere while the tab is open: it appears; revoked elsewhere: it goes.
    const never = await manager.grant({ effect: 'deny', toolPattern: 'drop_*', ttlMs: 3_600_000, grantedBy: 'ops' });
    await entry(never.id).waitFor({ timeout: 20_000 });
    expect(await entry(never.id).getByTestId('grant-effect').textContent()).toBe('never allow');
    expect(await entry(never.id).getByTestId('grant-scope').textContent()).toBe('everywhere');
    expect(await entry(never.id).getByTestId('grant-expiry').textContent()).not.toBe('never (until revoked)');
    await manager.revokeGrant(never.id, { revokedBy: 'ops' });
    await entry(never.id).waitFor({ state: 'detached', timeout: 20_000 });

    await entry(thread.id)
      .getByRole('button', { name: `Revoke send_email ${thread.id}` })
      .click();
    await entry(thread.id).waitFor({ state: 'detached', timeout: 20_000 });
    expect((await manager.listGrants({ active: true })).items).toEqual([]);
    expect((await manager.listGrants({ active: false })).items.find((grant) => grant.id === thread.id)).toMatchObject({
      revokedBy: 'alice',
    });
    await visibleText(page.getByTestId('grants-empty'), 'No grant is in force');
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('axe-core finds no serious violation with turns, remember buttons and grants; every control has a distinct name', async () => {
    const { manager, url } = await serve();
    await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', threadId: 't-1', runId: 'run-1' });
    await ask(manager, { toolName: 'send_email', input: { to: 'b' }, riskLevel: 'irreversible', threadId: 't-1', runId: 'run-1' });
    await ask(manager, { toolName: 'send_email', input: { to: 'c' }, riskLevel: 'data_modification', threadId: 't-2', runId: 'run-2' });
    await manager.grant({ effect: 'approve', toolPattern: 'read_*', grantedBy: 'bob' });
    await manager.grant({ effect: 'approve', toolPattern: 'read_*', scope: { threadId: 't-1' }, grantedBy: 'bob' });
    const { page } = await open(url);
    await page.getByTestId('request-card').nth(2).waitFor({ timeout: 20_000 });
    const audit = () => seriousViolations(page);
    const names = async () => {
      const cdp = await chromium.context.newCDPSession(page);
      const tree = (await cdp.send('Accessibility.getFullAXTree')) as {
        nodes: Array<{ ignored: boolean; role?: { value?: string }; name?: { value?: string } }>;
      };
      return tree.nodes.filter((node) => !node.ignored && node.role?.value === 'button').map((node) => String(node.name?.value ?? ''));
    };
    expect(await audit()).toEqual([]);
    const pending = await names();
    expect(pending.filter((name) => /whole turn/.test(name))).toHaveLength(4);
    expect(pending.filter((name) => /^(Allow in this thread|Always allow|Never allow)/.test(name))).toHaveLength(9);
    expect(pending.filter((name, index) => pending.indexOf(name) !== index)).toEqual([]);

    await page.getByRole('tab', { name: 'Grants' }).click();
    await page.getByTestId('grant-entry').nth(1).waitFor({ timeout: 20_000 });
    expect(await audit()).toEqual([]);
    const grants = (await names()).filter((name) => name.startsWith('Revoke'));
    expect(grants).toHaveLength(2);
    expect(new Set(grants).size).toBe(2);
  }, 60_000);
});
