// The dashboard's whole-turn decisions ("Approve whole turn" / "Reject whole turn" on a run's group),
// end to end in headless Chromium against a real router and manager: exactly the cards shown, all or
// nothing, and never while a card shows something the turn would not send.
import { describe, expect, it } from 'vitest';
import { hasChromium } from './test-support/browser.js';
import { ask, useDashboard, visibleText } from './test-support/dashboard-harness.js';

describe.skipIf(!hasChromium)('dashboard whole turns in headless Chromium', () => {
  const { serve, open, card, group, chromium } = useDashboard();

  it('a whole turn sent while the page is offline says nothing was sent, and every request of it stays pending', async () => {
    const { manager, url } = await serve();
    const a = await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', runId: 'run-5' });
    const b = await ask(manager, { toolName: 'refund', input: { amount: 1 }, riskLevel: 'data_modification', runId: 'run-5' });
    const { page } = await open(url);
    const run = group(page, 'run run-5');
    await card(page, a.id).waitFor({ timeout: 20_000 });
    await card(page, b.id).waitFor({ timeout: 20_000 });
    try {
      await chromium.context.setOffline(true);
      await visibleText(page.getByTestId('connection-status'), /^Offline/);
      await run.getByTestId('reject-turn-button').click();
      await visibleText(
        run.getByTestId('turn-error'),
        'The page is offline, so nothing was sent: nothing in this turn was decided. Try again when the status says Live.',
      );
    } finally {
      await chromium.context.setOffline(false);
    }
    expect([(await manager.get(a.id))?.status, (await manager.get(b.id))?.status]).toEqual(['pending', 'pending']);
    await manager.cancel(a.id);
    await manager.cancel(b.id);
  }, 60_000);

  it('"Approve whole turn" decides exactly the cards shown in the run, after confirming the irreversible one', async () => {
    const { manager, url } = await serve();
    const turn = [
      await ask(manager, { toolName: 'delete_account', input: { id: 1 }, riskLevel: 'irreversible', threadId: 't-1', runId: 'run-1' }),
      await ask(manager, { toolName: 'send_email', input: { to: 'c' }, riskLevel: 'data_modification', threadId: 't-1', runId: 'run-1' }),
      await ask(manager, { toolName: 'refund', input: { amount: 5 }, riskLevel: 'data_modification', threadId: 't-1', runId: 'run-1' }),
    ];
    const other = await ask(manager, {
      toolName: 'refund',
      input: { amount: 6 },
      riskLevel: 'data_modification',
      threadId: 't-1',
      runId: 'run-2',
    });
    const { page, pageErrors } = await open(url);
    const run = group(page, 'run run-1');
    await run.getByTestId('request-card').nth(2).waitFor({ timeout: 20_000 });
    const approve = run.getByRole('button', { name: 'Approve whole turn (3 requests)… of Thread t-1, run run-1' });
    await approve.click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm: approve the whole turn' });
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await dialog.textContent()).toContain(`delete_account (${turn[0]?.id}) is irreversible`);
    await page.getByRole('button', { name: 'Approve all 3 requests' }).click();
    for (const asked of turn) await expect(asked.waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
    await run.waitFor({ state: 'detached', timeout: 20_000 });
    expect((await manager.get(other.id))?.status).toBe('pending');
    // Focus was on the turn's button: it goes to the next request, not to the page's top.
    await page.waitForFunction(
      (id) =>
        (
          globalThis as unknown as { document: { activeElement: { getAttribute(name: string): string | null } | null } }
        ).document.activeElement?.getAttribute('data-request-id') === id,
      other.id,
      { timeout: 20_000 },
    );
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('a whole turn is not sent while one of its cards shows a note or edits; "Reject whole turn" then rejects them all', async () => {
    const { manager, url } = await serve();
    const a = await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', runId: 'run-7' });
    const b = await ask(manager, { toolName: 'refund', input: { amount: 1 }, riskLevel: 'data_modification', runId: 'run-7' });
    const { page } = await open(url);
    const run = group(page, 'run run-7');
    await card(page, a.id).waitFor({ timeout: 20_000 });
    await card(page, b.id).waitFor({ timeout: 20_000 });
    await card(page, a.id).getByTestId('feedback-input').fill('only this one');
    await run.getByTestId('reject-turn-button').click();
    await visibleText(run.getByTestId('turn-error'), `Nothing was sent: send_email (${a.id}) has a note typed`);
    expect((await manager.get(a.id))?.status).toBe('pending');
    expect((await manager.get(b.id))?.status).toBe('pending');
    await card(page, a.id).getByTestId('feedback-input').fill('');
    await card(page, b.id).getByTestId('edit-button').click();
    await run.getByTestId('approve-turn-button').click();
    await visibleText(run.getByTestId('turn-error'), `refund (${b.id}) has its edits open`);
    expect((await manager.get(b.id))?.status).toBe('pending');
    await card(page, b.id).getByTestId('cancel-edit-button').click();
    await run.getByRole('button', { name: /^Reject whole turn \(2 requests\)/ }).click();
    await expect(a.waiting).resolves.toMatchObject({ decision: 'reject', respondedBy: 'alice' });
    await expect(b.waiting).resolves.toMatchObject({ decision: 'reject', respondedBy: 'alice' });
  }, 60_000);

  it('a whole turn after one of its requests was decided elsewhere decides nothing, and that card says by whom', async () => {
    const { manager, url, deafen } = await serve();
    const a = await ask(manager, {
      toolName: 'send_email',
      input: { to: 'a' },
      riskLevel: 'data_modification',
      threadId: 't-1',
      runId: 'run-1',
    });
    const b = await ask(manager, {
      toolName: 'refund',
      input: { amount: 1 },
      riskLevel: 'data_modification',
      threadId: 't-1',
      runId: 'run-1',
    });
    const { page } = await open(url);
    const run = group(page, 'run run-1');
    await card(page, a.id).waitFor({ timeout: 20_000 });
    await card(page, b.id).waitFor({ timeout: 20_000 });
    deafen();
    await manager.respond(b.id, { decision: 'approve', respondedBy: 'bob' });
    await run.getByTestId('approve-turn-button').click();
    await visibleText(run.getByTestId('turn-error'), `Nothing in this turn was decided: refund (${b.id}) was already approved by bob`);
    await visibleText(card(page, b.id).getByTestId('card-error'), 'Already approved by bob.');
    expect(await card(page, b.id).getAttribute('data-stale')).toBe('true');
    expect((await manager.get(a.id))?.status).toBe('pending');
    expect(await card(page, a.id).getByTestId('approve-button').isDisabled()).toBe(false);
    // The turn now offers what is left of it: the one request still pending.
    await run.getByRole('button', { name: /^Approve whole turn \(1 request\)/ }).click();
    await expect(a.waiting).resolves.toMatchObject({ decision: 'approve', respondedBy: 'alice' });
  }, 60_000);

  it('a whole turn all decided elsewhere: the group says by whom and offers no turn buttons any more', async () => {
    const { manager, url, deafen } = await serve();
    const a = await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', runId: 'run-5' });
    const b = await ask(manager, { toolName: 'refund', input: { amount: 1 }, riskLevel: 'data_modification', runId: 'run-5' });
    const { page } = await open(url);
    const run = group(page, 'run run-5');
    await card(page, a.id).waitFor({ timeout: 20_000 });
    await card(page, b.id).waitFor({ timeout: 20_000 });
    deafen();
    await manager.respond(a.id, { decision: 'reject', respondedBy: 'bob' });
    await manager.respond(b.id, { decision: 'approve', respondedBy: 'carol' });
    await run.getByTestId('reject-turn-button').click();
    await visibleText(
      run.getByTestId('turn-error'),
      /was already rejected by bob.*was already approved by carol|was already approved by carol.*was already rejected by bob/,
    );
    expect(await run.getByTestId('turn-controls').isHidden()).toBe(true);
    expect(await card(page, a.id).getAttribute('data-stale')).toBe('true');
    expect(await card(page, b.id).getAttribute('data-stale')).toBe('true');
  }, 60_000);

  it('a whole turn with a request the reviewer may not approve decides nothing and says why', async () => {
    const { manager, url } = await serve(
      {},
      { authorize: (_reviewer, record, action) => !(action === 'approve' && record.request.toolName === 'wire_money') },
    );
    const a = await ask(manager, { toolName: 'send_email', input: { to: 'a' }, riskLevel: 'data_modification', runId: 'run-3' });
    const b = await ask(manager, { toolName: 'wire_money', input: { amount: 9 }, riskLevel: 'data_modification', runId: 'run-3' });
    const { page } = await open(url);
    const run = group(page, 'run run-3');
    await card(page, a.id).waitFor({ timeout: 20_000 });
    await card(page, b.id).waitFor({ timeout: 20_000 });
    await run.getByTestId('approve-turn-button').click();
    await visibleText(run.getByTestId('turn-error'), /^Nothing in this turn was decided: .*\(403 forbidden\)/);
    expect((await manager.get(a.id))?.status).toBe('pending');
    expect((await manager.get(b.id))?.status).toBe('pending');
    expect(await run.getByTestId('approve-turn-button').getAttribute('aria-disabled')).toBe('false');
  }, 60_000);
});
