// createEmailNotifier against a local SMTP inbox: escaped mails with per-reviewer links, and a link confirmed in Chromium.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManager, type Manager } from '@hitl/core';
import { createDecisionLinks } from '@hitl/express';
import express from 'express';
import { simpleParser, type ParsedMail } from 'mailparser';
import { hasChromium, launchChromium, requireChromiumInCi } from '@hitl/test-kit/chromium';
import type { Browser } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmailNotifier } from './index.js';

interface Inbox {
  port: number;
  mails: ParsedMail[];
  next(): Promise<ParsedMail>;
  close(): Promise<void>;
}

async function startInbox(): Promise<Inbox> {
  const mails: ParsedMail[] = [];
  const waiters: Array<(mail: ParsedMail) => void> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          waiters.shift()?.(mail);
          callback();
        })
        .catch(callback);
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  let read = 0;
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    next: () =>
      read < mails.length
        ? Promise.resolve(mails[read++] as ParsedMail)
        : new Promise((resolve) => waiters.push((mail) => (read++, resolve(mail)))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let inbox: Inbox;
let web: http.Server;
let webUrl: string;
let manager: Manager;
let app: express.Express;

beforeEach(async () => {
  inbox = await startInbox();
  app = express();
  web = http.createServer((request, response) => app(request, response));
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});
afterEach(async () => {
  manager?.close();
  web.closeAllConnections();
  await new Promise<void>((resolve) => web.close(() => resolve()));
  await inbox.close();
});

function setup() {
  const decisionLinks = createDecisionLinks({ secret: 'email-test-secret-at-least-32-bytes!!', baseUrl: `${webUrl}/hitl/decide` });
  manager = createManager({
    timeoutMs: 60_000,
    notifiers: [
      createEmailNotifier({
        transport: { host: '127.0.0.1', port: inbox.port, secure: false, ignoreTLS: true },
        from: 'hitl <hitl@example.com>',
        to: () => ['alice@example.com', 'bob@example.com'],
        links: decisionLinks,
      }),
    ],
  });
  app.use('/hitl/decide', decisionLinks.router({ manager }));
  return decisionLinks;
}

function approveLink(mail: ParsedMail): string {
  const match = /^Approve: (\S+)$/m.exec(mail.text ?? '');
  if (!match?.[1]) throw new Error(`no approve link in:\n${mail.text}`);
  return match[1];
}

describe('createEmailNotifier', () => {
  it('mails each reviewer escaped text and HTML with their own links', async () => {
    setup();
    await manager.submit({
      toolName: 'send_email',
      description: '<img src=x onerror=alert(1)>',
      input: { body: '</pre><script>x()</script>' },
    });
    const mails = [await inbox.next(), await inbox.next()];
    expect(mails.map((mail) => mail.to && 'text' in mail.to && mail.to.text).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    for (const mail of mails) {
      expect(mail.subject).toBe('Approval needed: send_email');
      expect(mail.html).not.toContain('<script>');
      expect(mail.html).not.toContain('<img');
      expect(mail.html).toContain('&lt;/pre&gt;&lt;script&gt;');
      expect(mail.headers.get('x-hitl-request-id')).toMatch(/^hitl-/);
    }
    expect(approveLink(mails[0] as ParsedMail)).not.toBe(approveLink(mails[1] as ParsedMail));
  });
});

requireChromiumInCi('the email end-to-end browser test');
describe.skipIf(!hasChromium)('email → link → Chromium → the agent resumes', () => {
  let browser: Browser | undefined;
  afterEach(async () => {
    await browser?.close();
  });

  it('a prefetched link decides nothing; confirming in the browser approves and the tool runs', async () => {
    setup();
    let ran = 0;
    const agentTool = async () => {
      const response = await manager.requestInteraction({
        toolName: 'refund_order',
        input: { orderId: 'A-17', amount: 40 },
        riskLevel: 'data_modification',
      });
      if (response.decision === 'approve') ran += 1;
      return response;
    };
    const running = agentTool();
    running.catch(() => {}); // awaited below; a failed assertion first must not leave it unhandled
    const mail = await inbox.next();
    await inbox.next();
    const link = approveLink(mail);
    expect(link.startsWith(`${webUrl}/hitl/decide/`)).toBe(true);

    const prefetch = await fetch(link); // what a mail scanner does
    expect(prefetch.status).toBe(200);
    const [pending] = (await manager.list({ status: 'pending' })).items;
    expect(pending?.request.toolName).toBe('refund_order');

    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(link);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForSelector('text=Approved by');
    const recipient = mail.to && 'text' in mail.to ? mail.to.text : '';
    expect(await running).toMatchObject({ decision: 'approve', respondedBy: recipient });
    expect(ran).toBe(1);
  }, 60_000);
});
