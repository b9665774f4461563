// Decision links: a GET only confirms, the POST decides once; forged, expired or reused tokens refused; one link in Chromium.
import { createManager, type Manager } from '@hitl/core';
import express from 'express';
import { SignJWT } from 'jose';
import { listen } from '@hitl/test-kit';
import { hasChromium, launchChromium, requireChromiumInCi } from '@hitl/test-kit/chromium';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createDecisionLinks, type DecisionLinksRouterOptions } from './index.js';

const SECRET = 'test-secret-of-at-least-thirty-two-bytes';
const BASE = 'http://127.0.0.1/hitl/decide';
const managers: Manager[] = [];
afterEach(() => {
  for (const manager of managers.splice(0)) manager.close();
});

function setup(
  routerOptions: Partial<DecisionLinksRouterOptions> = {},
  { now, baseUrl = BASE }: { now?: () => number; baseUrl?: string } = {},
) {
  const manager = createManager({ timeoutMs: 3_600_000 });
  managers.push(manager);
  const decisionLinks = createDecisionLinks({ secret: SECRET, baseUrl, ttlMs: 60_000, ...(now ? { now } : {}) });
  const app = express();
  app.use('/hitl/decide', decisionLinks.router({ manager, ...routerOptions }));
  return { manager, decisionLinks, app };
}

const pathOf = (link: string) => new URL(link).pathname;
const tokenOf = (link: string) => pathOf(link).split('/').pop() as string;

describe('createDecisionLinks', () => {
  it('GET shows a confirmation page and decides nothing; the POST decides once', async () => {
    const { manager, decisionLinks, app } = setup();
    const record = await manager.submit({ toolName: 'delete_user', input: { id: '<script>alert(1)</script>' } });
    const { approve } = decisionLinks.links(record, 'alice@example.com');
    expect(approve.startsWith(`${BASE}/`)).toBe(true);

    const page = await request(app).get(pathOf(approve));
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(page.headers['content-security-policy']).not.toMatch(/script-src|unsafe-inline/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('<form method="post" action="/hitl/decide/">');
    await request(app).get(pathOf(approve)); // a second prefetch
    expect((await manager.get(record.request.id))?.status).toBe('pending');

    const decided = await request(app)
      .post('/hitl/decide/')
      .type('form')
      .send({ token: tokenOf(approve), decision: 'approve' });
    expect(decided.status).toBe(200);
    expect((await manager.get(record.request.id))?.response).toMatchObject({ decision: 'approve', respondedBy: 'alice@example.com' });
    const again = await request(app)
      .post('/hitl/decide/')
      .type('form')
      .send({ token: tokenOf(approve) });
    expect(again.status).toBe(409);
  });

  it('four eyes: each link is one approval; the page says another approver is needed, and a second approval by the same reviewer is refused', async () => {
    const { manager, decisionLinks, app } = setup();
    manager.addPolicy({ name: 'dual-control', toolPattern: 'transfer_*', requireExplicit: true, approvals: 2 });
    const record = await manager.submit({ toolName: 'transfer_funds', input: { amount: 25_000 } });
    const post = (link: string) =>
      request(app)
        .post('/hitl/decide/')
        .type('form')
        .send({ token: tokenOf(link), decision: 'approve' });
    const page = await request(app).get(pathOf(decisionLinks.links(record, 'alice').approve));
    expect(page.text).toContain('0 of 2 approvals. 2 more distinct approvers are needed.');

    const first = await post(decisionLinks.links(record, 'alice').approve);
    expect(first.status).toBe(200);
    expect(first.text).toContain('Your approval is recorded, alice. The request still needs another approver before it runs.');
    expect(first.text).toContain('1 of 2 approvals (alice). Another approver is needed: anyone but alice.');
    expect((await manager.get(record.request.id))?.status).toBe('pending');

    const twice = await post(decisionLinks.links(record, 'ALICE').approve);
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('Already approved');
    expect(twice.text).toContain('has already approved request');

    const second = await post(decisionLinks.links(record, 'bob').approve);
    expect(second.status).toBe(200);
    expect(second.text).toContain('Approved by bob.');
    expect((await manager.get(record.request.id))?.approvals?.map((approval) => approval.by)).toEqual(['alice', 'bob']);
  });

  it('a view link decides either way, once; a token cannot be used twice even for another request state', async () => {
    const { manager, decisionLinks, app } = setup();
    const record = await manager.submit({ toolName: 'refund', input: { amount: 5 } });
    const { view } = decisionLinks.links(record, 'bob@example.com');
    expect((await request(app).get(pathOf(view))).text).toContain('value="reject"');
    const rejected = await request(app)
      .post('/hitl/decide/')
      .type('form')
      .send({ token: tokenOf(view), decision: 'reject', feedback: 'too much' });
    expect(rejected.status).toBe(200);
    expect((await manager.get(record.request.id))?.response).toMatchObject({
      decision: 'reject',
      feedback: 'too much',
      respondedBy: 'bob@example.com',
    });
    expect(
      (
        await request(app)
          .post('/hitl/decide/')
          .type('form')
          .send({ token: tokenOf(view), decision: 'approve' })
      ).status,
    ).toBe(409);
  });

  it('refuses forged, expired, changed-input and unauthorized tokens, deciding nothing', async () => {
    let nowMs = Date.now();
    const { manager, decisionLinks, app } = setup(
      { authorize: (reviewer, _record, action) => !(reviewer.id === 'mallory@example.com' && action === 'approve') },
      { now: () => nowMs },
    );
    const record = await manager.submit({ toolName: 'refund', input: { amount: 5 } });
    const post = (token: string, decision = 'approve') => request(app).post('/hitl/decide/').type('form').send({ token, decision });

    const forged = await new SignJWT({ rid: record.request.id, ih: record.inputHash, dec: 'approve' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hitl')
      .setAudience('hitl-decision-link')
      .setSubject('alice@example.com')
      .setJti('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-bytes!!'));
    expect((await post(forged)).status).toBe(401);
    const tampered = tokenOf(decisionLinks.links(record, 'alice@example.com').reject).replace(/^[^.]+\.[^.]+/, (head) =>
      head.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    );
    expect((await post(tampered)).status).toBe(401);
    expect((await post(tokenOf(decisionLinks.links(record, 'mallory@example.com').approve))).status).toBe(403);
    // An approve link cannot be turned into a reject.
    expect((await post(tokenOf(decisionLinks.links(record, 'alice@example.com').approve), 'reject')).status).toBe(400);

    const late = decisionLinks.links(record, 'alice@example.com').approve;
    nowMs += 61_000;
    const expired = await request(app).get(pathOf(late));
    expect(expired.status).toBe(401);
    expect(expired.text).toContain('expired');
    expect((await post(tokenOf(late))).status).toBe(401);

    // The same id with other input (as another deployment's store would hold it): the hash no longer matches.
    const other = setup();
    await other.manager.submit({ id: record.request.id, toolName: 'refund', input: { amount: 5_000 } });
    expect(
      (
        await request(other.app)
          .post('/hitl/decide/')
          .type('form')
          .send({ token: tokenOf(decisionLinks.links(record, 'alice@example.com').approve) })
      ).status,
    ).toBe(409);
    expect((await other.manager.get(record.request.id))?.status).toBe('pending');
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('accepts a token jose itself signed with the same claims (a standard JWS)', async () => {
    const { manager, app } = setup();
    const record = await manager.submit({ toolName: 'refund', input: { amount: 5 } });
    const token = await new SignJWT({ rid: record.request.id, ih: record.inputHash, dec: 'approve' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hitl')
      .setAudience('hitl-decision-link')
      .setSubject('alice@example.com')
      .setJti('jose-made')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    expect((await request(app).post('/hitl/decide/').type('form').send({ token })).status).toBe(200);
  });

  it('refuses a weak secret and a bad base URL at creation', () => {
    expect(() => createDecisionLinks({ secret: 'short', baseUrl: BASE })).toThrow(/at least 32 bytes/);
    expect(() => createDecisionLinks({ secret: SECRET, baseUrl: 'ftp://x/' })).toThrow(/http/);
  });
});

requireChromiumInCi('the decision-link browser test');
describe.skipIf(!hasChromium)('decision link in headless Chromium', () => {
  let browser: Browser | undefined;
  afterEach(async () => {
    await browser?.close();
  });

  it('opens the approve link, confirms, and the waiting call resolves approved', async () => {
    const manager = createManager({ timeoutMs: 3_600_000 });
    managers.push(manager);
    const app = express();
    const server = await listen(app);
    try {
      const decisionLinks = createDecisionLinks({ secret: SECRET, baseUrl: `${server.url}/hitl/decide` });
      app.use('/hitl/decide', decisionLinks.router({ manager }));
      const record = await manager.submit({ toolName: 'send_email', input: { to: 'customer@example.com' } });
      const waiting = manager.waitFor(record.request.id);
      browser = await launchChromium();
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/.test(message.text())) violations.push(message.text());
      });
      await page.goto(decisionLinks.links(record, 'alice@example.com').approve);
      expect(await page.locator('h1').textContent()).toBe('Approve send_email?');
      expect((await manager.get(record.request.id))?.status).toBe('pending');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.waitForSelector('text=Approved by alice@example.com');
      expect(await waiting).toMatchObject({ decision: 'approve', respondedBy: 'alice@example.com' });
      expect(violations).toEqual([]);
    } finally {
      await server.close();
    }
  }, 60_000);
});
