/** What the dashboard's browser tests share: asking for a decision, opening the page as a reviewer, waiting for text, axe-core. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createManager, type InteractionRequest, type InteractionResponse, type Manager, type ManagerOptions } from '@hitl/core';
import { nextEvent } from '@hitl/core/testing';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import express from 'express';
import { createReviewRouter, type ReviewRouterOptions } from '../index.js';
import { launchChromium } from './browser.js';
import { listen } from './http.js';

/** Asks for a decision and returns its id once created, with the waiting call (its rejection is handled). */
export async function ask(manager: Manager, request: InteractionRequest): Promise<{ id: string; waiting: Promise<InteractionResponse> }> {
  const created = nextEvent(manager, 'request-created');
  const waiting = manager.requestInteraction(request);
  waiting.catch(() => undefined);
  return { id: (await created).record.request.id, waiting };
}

export async function visibleText(locator: Locator, text: string | RegExp): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: 20_000 });
}

/**
 * Opens the dashboard at `url` as `reviewer` (the `x-reviewer` header the tests' `authenticate`
 * reads), after `prepare`, and waits until its stream is live. The page is closed by `cleanups`.
 */
export async function openDashboard(
  context: BrowserContext,
  url: string,
  options: { reviewer?: string; prepare?: (page: Page) => Promise<void>; cleanups: Array<() => Promise<void> | void> },
): Promise<{ page: Page; pageErrors: string[] }> {
  const page = await context.newPage();
  options.cleanups.push(() => page.close());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.setExtraHTTPHeaders({ 'x-reviewer': options.reviewer ?? 'alice' });
  if (options.prepare) await options.prepare(page);
  await page.goto(url);
  await visibleText(page.getByTestId('connection-status'), 'Live');
  return { page, pageErrors };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** What the in-page audit sees (this file is compiled without the DOM lib). */
interface AxeGlobals {
  axe?: { run(): Promise<{ violations: Array<{ id: string; impact: string; nodes: unknown[] }> }> };
}

/** The serious and critical axe-core violations of the page as it is now (`id (count)`). Needs a context with `bypassCSP`. */
export async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => (globalThis as unknown as AxeGlobals).axe !== undefined))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await (globalThis as unknown as Required<AxeGlobals>).axe.run();
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id} (${violation.nodes.length})`);
  });
}

/**
 * One headless Chromium for the calling `describe` (launched before its tests, closed after them),
 * with `bypassCSP` so that tests can inject axe-core; the page's own CSP is tested elsewhere.
 */
export function useChromium(): { readonly context: BrowserContext } {
  let launched: { context: BrowserContext; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    launched = await launchChromium({ bypassCSP: true });
  }, 90_000);
  afterAll(async () => launched?.close());
  return {
    get context() {
      if (!launched) throw new Error('Chromium is not running: call useChromium() inside describe');
      return launched.context;
    },
  };
}

const authenticate = (httpRequest: express.Request) => {
  const id = httpRequest.get('x-reviewer');
  return id ? { id } : null;
};

/**
 * A manager and a router in front of it (the reviewer is the `x-reviewer` header; `cleanups` closes
 * both). After `deafen()` the router hears of no request event any more: the page then holds cards
 * of requests decided elsewhere (stale cards), as when its stream is away.
 */
export async function serveDeafenable(
  cleanups: Array<() => Promise<void> | void>,
  managerOptions: Partial<ManagerOptions> = {},
  routerOptions: Partial<ReviewRouterOptions> = {},
) {
  const manager = createManager({ timeoutMs: 600_000, ...managerOptions });
  let deaf = false;
  const heard: Manager = Object.create(manager) as Manager;
  heard.subscribe = (listener) => manager.subscribe((event) => (deaf ? undefined : listener(event)));
  const app = express();
  app.use('/hitl', createReviewRouter({ manager: heard, authenticate, ...routerOptions }));
  const server = await listen(app);
  cleanups.push(async () => {
    await server.close();
    await manager.close();
  });
  return { manager, url: `${server.url}/hitl`, deafen: () => (deaf = true) };
}

/**
 * For a `describe` of dashboard tests: one Chromium, cleanups after each test, and the helpers they
 * use (a deafenable router, the page opened as a reviewer, a card by request id, a group by title).
 */
export function useDashboard() {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const chromium = useChromium();
  return {
    chromium,
    serve: (managerOptions: Partial<ManagerOptions> = {}, routerOptions: Partial<ReviewRouterOptions> = {}) =>
      serveDeafenable(cleanups, managerOptions, routerOptions),
    open: (url: string, reviewer = 'alice') => openDashboard(chromium.context, url, { reviewer, cleanups }),
    card: (page: Page, id: string) => page.locator(`[data-testid="request-card"][data-request-id="${id}"]`),
    group: (page: Page, title: string) =>
      page.getByTestId('request-group').filter({ has: page.getByTestId('group-title').filter({ hasText: title }) }),
  };
}
