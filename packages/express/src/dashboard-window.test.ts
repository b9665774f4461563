// The dashboard's window over many pending requests, in headless Chromium: the first screen at once,
// then the window grows to 100 on its own; every request is counted, and "Show more" adds the rest.
import { createManager } from '@hitl/core';
import express, { type Request } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createReviewRouter } from './index.js';
import { hasChromium } from './test-support/browser.js';
import { openDashboard, useChromium, visibleText } from './test-support/dashboard-harness.js';
import { listen } from './test-support/http.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(!hasChromium)('dashboard window in headless Chromium', () => {
  const chromium = useChromium();

  it('shows the newest first, grows to 100 cards, counts all 130, and "Show more" adds the last 30', async () => {
    let clock = Date.parse('2026-03-01T10:00:00Z');
    const manager = createManager({ timeoutMs: 600_000, now: () => clock });
    const ids: string[] = [];
    for (let index = 0; index < 130; index++) {
      clock += 1000;
      ids.push((await manager.submit({ toolName: 'send_email', input: { index }, riskLevel: 'data_modification' })).request.id);
    }
    const app = express();
    app.use('/hitl', createReviewRouter({ manager, authenticate: (request: Request) => ({ id: request.get('x-reviewer') ?? 'x' }) }));
    const server = await listen(app);
    cleanups.push(async () => {
      await server.close();
      await manager.close();
    });
    const { page, pageErrors } = await openDashboard(chromium.context, `${server.url}/hitl`, { cleanups });
    const cards = page.getByTestId('request-card');
    await visibleText(page.getByTestId('pending-count'), '130 pending');
    await cards.nth(99).waitFor({ timeout: 20_000 });
    await visibleText(page.getByTestId('show-more'), 'Show 30 more of 30 not shown');
    const shown = async () => cards.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-request-id')));
    // Newest first, and exactly the newest 100.
    expect(await shown()).toEqual(ids.slice(30).reverse());
    await page.getByTestId('show-more').click();
    await cards.nth(129).waitFor({ timeout: 20_000 });
    expect(await shown()).toEqual([...ids].reverse());
    expect(await page.getByTestId('show-more').isHidden()).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
