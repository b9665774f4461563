// Untrusted model output in the reviewer dashboard, in real headless Chromium: a list of script
// injection payloads in the tool name, description, input keys and values, metadata, requestedBy and
// reviewer feedback, rendered from the list (GET /requests) and live (the SSE stream). Nothing may
// run: `window.__pwned` stays undefined, no dialog opens, no element of the injected kinds appears,
// no inline handler or javascript: URL lands in the DOM, and the page raises no error; every payload
// is shown as text, character for character. Run twice: with the page's Content-Security-Policy as
// shipped, and with CSP bypassed, so the rendering itself (textContent only) is what is tested.
import { createManager, type InteractionRequest, type Manager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import { hasChromium, launchChromium, requireChromiumInCi } from '@hitl/test-kit/chromium';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '@hitl/test-kit';
import { injectedTags, injectionPayloads } from './hostile-support.js';

requireChromiumInCi('The hostile dashboard test');

/** A tool name cannot carry a payload (submit refuses anything but A-Z a-z 0-9 _ - . :), so each card gets its own. */
const toolNameFor = (index: number) => `hostile_tool_${index}`;
/** An id with control, zero-width or bidi characters is refused at submit, so those payloads leave requestedBy plain. */
const requesterFor = (payload: string, index: number) =>
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u.test(payload) ? `agent_${index}` : payload;

/** One request per payload, the payload in every field a model can fill (but the tool name, and requestedBy where refused). */
function hostileRequest(id: string, payload: string, index: number): InteractionRequest {
  return {
    id,
    toolName: toolNameFor(index),
    description: payload,
    input: { [payload]: payload, nested: { list: [payload, index], [`k${index}`]: { deeper: payload } } },
    metadata: { note: payload, [payload]: [payload] },
    requestedBy: requesterFor(payload, index),
    riskLevel: 'irreversible',
    confidence: 0.5,
  };
}

/** In-page probes, as strings (the page's own globals are not typed here). */
const pageProbes = {
  install: `
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__violations.push({ directive: event.violatedDirective, blocked: String(event.blockedURI), sample: String(event.sample) });
    });`,
  tagCounts: (tags: readonly string[]) => `(${JSON.stringify(tags)}).map((tag) => [tag, document.getElementsByTagName(tag).length])`,
  dangerousAttributes: `Array.from(document.querySelectorAll('*')).flatMap((node) =>
      Array.from(node.attributes)
        .filter((attribute) => /^on/i.test(attribute.name) || /^\\s*(javascript|data|vbscript):/i.test(attribute.value) || attribute.name === 'srcdoc')
        .map((attribute) => node.tagName + ' ' + attribute.name + '=' + attribute.value.slice(0, 60)))`,
};

interface Harness {
  manager: Manager;
  server: RunningServer;
  url: string;
}

async function startDashboard(): Promise<Harness> {
  const manager = createManager({ timeoutMs: 3_600_000 });
  const app = express();
  app.use(
    '/hitl',
    createReviewRouter({
      manager,
      authenticate: (request) => {
        const id = request.get('x-reviewer');
        return id ? { id } : null;
      },
      resumeWindowMs: 0,
    }),
  );
  const server = await listen(app);
  return { manager, server, url: `${server.origin}/hitl/` };
}

// Skipped only outside CI when Chromium is not installed (in CI the file fails at load, above).
describe.skipIf(!hasChromium)('dashboard under script-injection payloads (headless Chromium)', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium({ timeout: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const mode of ['with the shipped CSP', 'with CSP bypassed (rendering alone)'] as const) {
    it(`renders ${injectionPayloads.length} payloads from the list and ${injectionPayloads.length} live as text; none runs (${mode})`, async () => {
      expect(injectionPayloads.length).toBeGreaterThanOrEqual(30);
      const harness = await startDashboard();
      let context: BrowserContext | undefined;
      try {
        context = await browser.newContext({ bypassCSP: mode !== 'with the shipped CSP', extraHTTPHeaders: { 'x-reviewer': 'alice' } });
        await context.addInitScript({ content: pageProbes.install });
        const page = await context.newPage();
        const dialogs: string[] = [];
        const pageErrors: string[] = [];
        page.on('dialog', (dialog) => {
          dialogs.push(`${dialog.type()}: ${dialog.message()}`);
          void dialog.dismiss();
        });
        page.on('pageerror', (error) => pageErrors.push(error.message));
        page.on('console', (message) => {
          if (message.type() === 'error') pageErrors.push(`${message.text()} @ ${message.location().url}`);
        });

        const listIds = injectionPayloads.map((_payload, index) => `list-${index}`);
        for (const [index, payload] of injectionPayloads.entries())
          await harness.manager.submit(hostileRequest(listIds[index]!, payload, index));

        await page.goto(harness.url);
        await page.getByTestId('connection-status').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
        await page.waitForFunction((count) => document.querySelectorAll('[data-testid="request-card"]').length === count, listIds.length, {
          timeout: 30_000,
        });
        const baseline = new Map(await page.evaluate<Array<[string, number]>>(pageProbes.tagCounts(injectedTags)));
        // What the page itself has: one script, one style, three meta, one title, one body.
        expect(Object.fromEntries(baseline)).toMatchObject({
          script: 1,
          style: 1,
          meta: 3,
          title: 1,
          body: 1,
          img: 0,
          iframe: 0,
          a: 0,
          svg: 0,
        });

        // The same payloads again, live over the event stream.
        const liveIds = injectionPayloads.map((_payload, index) => `live-${index}`);
        for (const [index, payload] of injectionPayloads.entries())
          await harness.manager.submit(hostileRequest(liveIds[index]!, payload, index));
        await page.waitForFunction(
          (count) => document.querySelectorAll('[data-testid="request-card"]').length === count,
          listIds.length + liveIds.length,
          {
            timeout: 30_000,
          },
        );

        // Every field shows its payload as text, exactly.
        for (const [index, payload] of injectionPayloads.entries()) {
          for (const id of [listIds[index]!, liveIds[index]!]) {
            const card = page.locator(`[data-request-id="${id}"]`);
            expect(await card.getByTestId('request-tool').textContent(), `${id} tool`).toBe(toolNameFor(index));
            expect(await card.getByTestId('request-description').textContent(), `${id} description`).toBe(payload);
            expect(await card.getByTestId('request-requested-by').textContent(), `${id} requestedBy`).toBe(requesterFor(payload, index));
            const inputText = (await card.getByTestId('request-input').textContent()) ?? '';
            expect(JSON.parse(inputText), `${id} input`).toEqual(hostileRequest(id, payload, index).input);
            expect(inputText, `${id} input`).toBe(JSON.stringify((await harness.manager.get(id))?.request.input, null, 2));
            expect(await card.getByTestId('request-reason').textContent(), `${id} reason`).toContain(toolNameFor(index));
          }
        }
        await expectVisibleText(page, 'list-0', injectionPayloads[0]!);
        await expectVisibleText(page, `live-${injectionPayloads.length - 1}`, injectionPayloads.at(-1)!.trim());

        // Feedback typed by the reviewer, and an edited input, carry payloads back to the server.
        const rejectedIndex = injectionPayloads.indexOf('<img src=x onerror="window.__pwned=2">');
        const rejected = page.locator(`[data-request-id="list-${rejectedIndex}"]`);
        await rejected.getByTestId('feedback-input').fill(injectionPayloads[0]!);
        await rejected.getByTestId('reject-button').click();
        await rejected.waitFor({ state: 'detached', timeout: 30_000 });
        expect((await harness.manager.get(`list-${rejectedIndex}`))?.response).toMatchObject({
          decision: 'reject',
          feedback: injectionPayloads[0],
          respondedBy: 'alice',
        });
        expect(await page.locator('#announcer').textContent()).toBe(`Rejected: ${toolNameFor(rejectedIndex)}`);

        const edited = page.locator('[data-request-id="live-3"]');
        await edited.getByTestId('edit-button').click();
        await edited.getByTestId('modified-input').fill(injectionPayloads[11]!);
        await edited.getByTestId('submit-modified-button').click();
        await edited.getByTestId('card-error').filter({ hasText: 'not valid JSON' }).waitFor({ timeout: 30_000 });
        expect(await edited.getByTestId('card-error').textContent()).toContain('Nothing was sent');
        const modified = { command: injectionPayloads[3], [injectionPayloads[5]!]: injectionPayloads[14] };
        await edited.getByTestId('modified-input').fill(JSON.stringify(modified));
        // Irreversible: the edited approval is confirmed first, as a plain Approve is.
        await edited.getByTestId('submit-modified-button').click();
        await page.getByTestId('confirm-yes').click({ timeout: 30_000 });
        await edited.waitFor({ state: 'detached', timeout: 30_000 });
        expect((await harness.manager.get('live-3'))?.response).toMatchObject({ decision: 'modify', modified });

        // A control injection of our own: it must be seen (CSP report, or its handler running), which
        // proves the probes work and that the page had time to run anything the payloads carried.
        if (mode === 'with the shipped CSP') {
          await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<img id="control" src="control-probe">')`);
          await page.waitForFunction(
            () =>
              (window as unknown as { __violations: Array<{ blocked: string }> }).__violations.some((violation) =>
                violation.blocked.includes('control-probe'),
              ),
            undefined,
            { timeout: 30_000 },
          );
        } else {
          await page.evaluate(
            `document.body.insertAdjacentHTML('beforeend', '<img id="control" src="control-probe" onerror="window.__control = 1">')`,
          );
          await page.waitForFunction(() => (window as unknown as { __control?: number }).__control === 1, undefined, { timeout: 30_000 });
        }
        await page.evaluate(`document.getElementById('control').remove()`);
        const ours = (text: string) => text.includes('control-probe') || text.includes('/favicon.ico');
        expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
        expect(dialogs).toEqual([]);
        expect(pageErrors.filter((text) => !ours(text))).toEqual([]);
        const violations = await page.evaluate<Array<{ blocked: string }>>('window.__violations');
        expect(violations.filter((violation) => !ours(violation.blocked))).toEqual([]);
        expect(await page.evaluate<string[]>(pageProbes.dangerousAttributes)).toEqual([]);
        expect(new Map(await page.evaluate<Array<[string, number]>>(pageProbes.tagCounts(injectedTags)))).toEqual(baseline);
        // Nothing was decided but the two requests the reviewer decided above.
        const decided = (await harness.manager.list({ limit: 1000 })).items
          .filter((record) => record.status !== 'pending')
          .map((record) => record.request.id);
        expect(decided.sort()).toEqual([`list-${rejectedIndex}`, 'live-3'].sort());
        console.info(
          `dashboard (${mode}): ${injectionPayloads.length * 2} cards, ${injectionPayloads.length} payloads x 5 rendered fields, 0 executed`,
        );
      } finally {
        await context?.close();
        await harness.server.close();
        await harness.manager.close();
      }
    }, 180_000);
  }
});

/** The text is on screen (rendered, not just in the DOM). */
async function expectVisibleText(page: Page, id: string, text: string): Promise<void> {
  const description = page.locator(`[data-request-id="${id}"]`).getByTestId('request-description');
  await description.scrollIntoViewIfNeeded();
  expect(await description.isVisible()).toBe(true);
  expect((await description.innerText()).trim()).toBe(text.trim());
}
