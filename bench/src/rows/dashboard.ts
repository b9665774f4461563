import { performance } from 'node:perf_hooks';
import { createManager, type Manager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { median, percentile, type BenchContext, type Row } from '../harness.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** What the in-page functions see (this package is compiled without the DOM lib). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number }; getElementById(id: string): { textContent: string | null } | null };
  performance: { now(): number; timeOrigin: number };
  __seen?: Record<string, number>;
  MutationObserver: new (callback: (mutations: Array<{ addedNodes: ArrayLike<{ getAttribute?(name: string): string | null; querySelectorAll?(s: string): ArrayLike<{ getAttribute(name: string): string | null }> }> }>) => void) => {
    observe(target: unknown, options: { childList: boolean; subtree: boolean }): void;
  };
}

async function serve(count: number): Promise<{ manager: Manager; url: string; close(): Promise<void> }> {
  const manager = createManager({ timeoutMs: 3_600_000 });
  for (let index = 0; index < count; index++) {
    await manager.submit({ toolName: `tool_${index % 17}`, description: `Request ${index}`, input: { index, to: `user-${index}@example.com`, amount: index * 3 }, riskLevel: 'data_modification', confidence: 0.7 });
  }
  const app = express();
  app.use('/hitl', createReviewRouter({ manager, authenticate: () => ({ id: 'bench' }) }));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    manager,
    url: `http://127.0.0.1:${port}/hitl/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await manager.close();
    },
  };
}

/** Milliseconds from navigation start until `count` cards are in the page and a frame was painted. */
async function firstRender(browser: Browser, url: string, count: number): Promise<number> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    const handle = await page.waitForFunction(
      (expected) => {
        const globals = globalThis as unknown as PageGlobals;
        const cards = globals.document.querySelectorAll('[data-testid="request-card"]').length;
        const live = globals.document.querySelectorAll('[data-state="live"]').length;
        const counted = globals.document.getElementById('pending-count')?.textContent === `${expected} pending`;
        // The page shows the newest 100 and counts them all.
        return cards === Math.min(expected, 100) && counted && live === 1 ? globals.performance.now() : false;
      },
      count,
      { polling: 'raf', timeout: 60_000 },
    );
    return (await handle.jsonValue()) as number;
  } finally {
    await page.close();
  }
}

/** Milliseconds from `submit` (in this process) to the new card in the page's DOM. */
async function liveUpdates(page: Page, manager: Manager, samples: number): Promise<number[]> {
  await page.evaluate(() => {
    const globals = globalThis as unknown as PageGlobals;
    globals.__seen = {};
    new globals.MutationObserver((mutations) => {
      const at = globals.performance.timeOrigin + globals.performance.now();
      for (const mutation of mutations) {
        for (const node of Array.from(mutation.addedNodes)) {
          const id = node.getAttribute?.('data-request-id');
          if (id && globals.__seen) globals.__seen[id] = at;
          for (const inner of Array.from(node.querySelectorAll?.('[data-request-id]') ?? [])) {
            const innerId = inner.getAttribute('data-request-id');
            if (innerId && globals.__seen) globals.__seen[innerId] = at;
          }
        }
      }
    }).observe(globals.document, { childList: true, subtree: true });
  });
  const delays: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const id = `live-${sample}-${Date.now()}`;
    const sent = performance.timeOrigin + performance.now();
    await manager.submit({ id, toolName: 'send_email', input: { to: `x${sample}@example.com` }, riskLevel: 'data_modification' });
    const handle = await page.waitForFunction((wanted) => (globalThis as unknown as PageGlobals).__seen?.[wanted] ?? false, id, { timeout: 10_000 });
    delays.push(((await handle.jsonValue()) as number) - sent);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return delays;
}

/**
 * The reviewer dashboard in headless Chromium: first render with 1,000 pending requests (from
 * navigation start to the newest 100 as cards and all 1,000 counted, stream live), against the empty page; and a live
 * update (manager.submit to the card in the DOM) on a page already showing 1,000 requests.
 */
export async function dashboardSpeed(context: BenchContext): Promise<Row[]> {
  const count = context.smoke ? 100 : 1000;
  const rounds = context.smoke ? 1 : 5;
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const full = await serve(count);
  const empty = await serve(0);
  try {
    const fullTimes: number[] = [];
    const emptyTimes: number[] = [];
    for (let round = 0; round < rounds + 1; round++) {
      const f = await firstRender(browser, full.url, count);
      const e = await firstRender(browser, empty.url, 0);
      // The first round warms Chromium up.
      if (round > 0 || rounds === 1) {
        fullTimes.push(f);
        emptyTimes.push(e);
      }
    }
    const page = await browser.newPage();
    await page.goto(full.url);
    await page.waitForFunction(
      (expected) => (globalThis as unknown as PageGlobals).document.getElementById('pending-count')?.textContent === `${expected} pending`,
      count,
      { timeout: 60_000 },
    );
    const delays = await liveUpdates(page, full.manager, context.smoke ? 5 : 30);
    await page.close();
    const renderMs = median(fullTimes);
    const emptyMs = median(emptyTimes);
    const liveMedian = median(delays);
    const liveP95 = percentile(delays, 95);
    return [
      {
        row: `dashboard first render, ${count} pending requests (headless Chromium)`,
        measured: `${renderMs.toFixed(0)} ms median of ${fullTimes.length}`,
        baseline: `${emptyMs.toFixed(0)} ms (empty page)`,
        result: `${renderMs.toFixed(0)} ms`,
        target: '≤ 1000 ms',
        pass: renderMs <= 1000,
        figures: { renderMs, emptyMs, count },
      },
      {
        row: `dashboard live update, ${count} requests shown`,
        measured: `${liveMedian.toFixed(1)} ms median, ${liveP95.toFixed(1)} ms p95 of ${delays.length}`,
        baseline: 'submit → card in the DOM',
        result: `${liveP95.toFixed(1)} ms p95`,
        target: '≤ 100 ms',
        pass: liveP95 <= 100,
        figures: { liveMedianMs: liveMedian, liveP95Ms: liveP95 },
      },
    ];
  } finally {
    await full.close();
    await empty.close();
    await browser.close();
  }
}
