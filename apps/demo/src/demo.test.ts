// The demo end to end: a reviewer deciding in headless Chromium, the AI SDK agent waiting on the REST API, and a clean close.
import { afterEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumPath, hasChromium, launchChromium, requireChromiumInCi } from '@hitl/test-kit/chromium';
import { startDemo, type Demo } from './demo-server.js';

requireChromiumInCi('The demo browser test');
if (!hasChromium)
  console.warn(`Chromium not found at ${chromiumPath}: the browser test is skipped. Install it with apt-get install -y chromium.`);

const started: Demo[] = [];
const browsers: Browser[] = [];
afterEach(async () => {
  await Promise.all(browsers.splice(0).map((browser) => browser.close()));
  await Promise.all(started.splice(0).map((demo) => demo.close()));
});

async function demoServer(): Promise<{ demo: Demo; lines: string[] }> {
  const lines: string[] = [];
  const demo = await startDemo({ port: 0, host: '127.0.0.1', scenario: null, print: (line) => lines.push(line) });
  started.push(demo);
  return { demo, lines };
}

// Runs only where Chromium is installed; CI installs it (.ci/run), and the check above fails CI without it.
describe.skipIf(!hasChromium)('the demo, end to end in headless Chromium', () => {
  it('a reviewer approves delete_user and rejects send_email with feedback; the agent carries on', async () => {
    const { demo, lines } = await demoServer();
    const browser = await launchChromium();
    browsers.push(browser);
    const context = await browser.newContext();
    const page = await context.newPage();

    // The start page: name yourself, start the LangChain scenario.
    await page.goto(demo.url);
    await page.getByTestId('reviewer-name').fill('alice');
    await page.getByTestId('reviewer-name').dispatchEvent('change');
    await page.getByTestId('run-langchain').click();
    await page.getByText(/^Started [0-9a-f]{6}-run1\.$/).waitFor();
    const [run] = demo.narrator.runs.values();
    expect(run?.framework).toBe('langchain');
    const runId = run?.id as string;

    // The dashboard shows both waiting calls live, and says who you decide as (its own "Signed in as", from GET /me).
    await page.getByTestId('dashboard-link').click();
    await page.getByTestId('whoami').filter({ hasText: 'Signed in as alice' }).waitFor();
    const card = (tool: string) =>
      page.getByTestId('request-card').filter({ has: page.getByTestId('request-tool').getByText(tool, { exact: true }) });
    await card('delete_user').waitFor();
    await card('send_email').waitFor();
    await expect(card('delete_user').getByTestId('request-description').textContent()).resolves.toContain(
      'Delete the account of customer 12345',
    );

    // Deleting an account cannot be undone: Approve asks first.
    await card('delete_user').getByTestId('approve-button').click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Approve, it cannot be undone' }).click();
    await card('send_email').getByTestId('feedback-input').fill('No email: the customer asked not to be contacted');
    await card('send_email').getByTestId('reject-button').click();
    await page.getByTestId('empty-state').waitFor({ state: 'visible' });

    // What the agent did afterwards.
    const finished = await demo.finished(runId);
    expect(finished.status).toBe('finished');
    expect(finished.results.get_user?.status).toBe('success');
    expect(finished.results.update_user?.status).toBe('success');
    expect(finished.results.delete_user).toEqual({ status: 'success', output: JSON.stringify({ deleted: '12345' }) });
    expect(finished.results.send_email?.status).toBe('rejected');
    expect(finished.results.send_email?.output).toContain('No email: the customer asked not to be contacted');
    const crm = demo.crmOf(runId)?.snapshot();
    expect(crm?.customers.find((customer) => customer.id === '12345')).toMatchObject({ deleted: true, plan: 'free' });
    expect(crm?.outbox).toEqual([]);

    // The terminal told the story.
    const story = lines.join('\n');
    expect(story).toContain('get_user({"user_id":"12345"}) auto-approved (read_only) and ran');
    expect(story).toContain('delete_user waits for a reviewer');
    expect(story).toContain('delete_user approved by alice');
    expect(story).toContain('send_email rejected by alice: "No email: the customer asked not to be contacted"');
    expect(story).toContain('🏁 finished');
  });
});

describe('the demo over HTTP', () => {
  it('the AI SDK agent waits for decisions made through the REST API, and the start page routes answer', async () => {
    const { demo, lines } = await demoServer();
    const started = await fetch(`${demo.url}demo/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'ai-sdk' }),
    });
    expect(started.status).toBe(202);
    const { runs } = (await started.json()) as { runs: Array<{ id: string; framework: string }> };
    expect(runs.map((run) => run.framework)).toEqual(['ai-sdk']);
    const runId = runs[0]!.id;

    const headers = { 'x-reviewer': 'bob', 'content-type': 'application/json' };
    let pending: Array<{ request: { id: string; toolName: string } }> = [];
    for (let attempt = 0; attempt < 200 && pending.length < 2; attempt++) {
      const listed = await fetch(`${demo.dashboardUrl}requests?status=pending`, { headers });
      pending = ((await listed.json()) as { items: typeof pending }).items;
      if (pending.length < 2) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(pending.map((record) => record.request.toolName).sort()).toEqual(['delete_user', 'send_email']);
    const idOf = (tool: string) => pending.find((record) => record.request.toolName === tool)!.request.id;
    const edited = await fetch(`${demo.dashboardUrl}requests/${idOf('send_email')}/respond`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        decision: 'modify',
        modified: { to: 'alan@example.com', subject: 'Account closed', body: 'Done, with thanks.' },
      }),
    });
    expect(edited.status).toBe(200);
    const rejected = await fetch(`${demo.dashboardUrl}requests/${idOf('delete_user')}/reject`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ feedback: 'keep the data for 30 days' }),
    });
    expect(rejected.status).toBe(200);

    const finished = await demo.finished(runId);
    expect(finished.results.delete_user).toEqual({ status: 'rejected', output: 'keep the data for 30 days' });
    expect(finished.results.send_email?.status).toBe('success');
    const crm = demo.crmOf(runId)?.snapshot();
    expect(crm?.customers.find((customer) => customer.id === '67890')).toMatchObject({ deleted: false, plan: 'free' });
    expect(crm?.outbox).toEqual([{ to: 'alan@example.com', subject: 'Account closed', body: 'Done, with thanks.' }]);
    expect(lines.join('\n')).toContain('send_email approved by bob with edited input');
    // The refund's policy read its arguments: 12 is within 'small-refunds', so it ran without anyone.
    expect(finished.results.refund_payment).toEqual({ status: 'success', output: JSON.stringify({ refunded: 'B-2001', amount: 12 }) });
    expect(demo.crmOf(runId)?.refunds).toEqual([{ orderId: 'B-2001', amount: 12 }]);
    expect(lines.join('\n')).toContain(
      'refund_payment({"order_id":"B-2001","amount":12}) auto-approved: policy \'small-refunds\' reads the arguments',
    );
    // A larger refund of the same tool waits for a human.
    const call = { toolName: 'refund_payment', confidence: 0.9, riskLevel: 'irreversible' } as const;
    expect(demo.manager.evaluate({ ...call, input: { order_id: 'B-2001', amount: 12 } })).toMatchObject({
      outcome: 'approve',
      policy: 'small-refunds',
    });
    expect(demo.manager.evaluate({ ...call, input: { order_id: 'B-2001', amount: 99 } })).toMatchObject({
      outcome: 'review',
      policy: 'refunds',
    });

    const runPage = await fetch(`${demo.url}demo/runs/${runId}`);
    expect(((await runPage.json()) as { run: { status: string } }).run.status).toBe('finished');
    const unknown = await fetch(`${demo.url}demo/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'nope' }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('invalid_input');
    const missing = await fetch(`${demo.url}demo/runs/run999`);
    expect(missing.status).toBe(404);
    const home = await fetch(demo.url);
    expect(await home.text()).toContain('Open the reviewer dashboard');
  });

  it('closing the demo while agents wait for reviewers stops their runs cleanly', async () => {
    const lines: string[] = [];
    const demo = await startDemo({ port: 0, host: '127.0.0.1', scenario: null, print: (line) => lines.push(line) });
    const runs = demo.start('all');
    for (let attempt = 0; attempt < 500 && (await demo.manager.list({ status: 'pending' })).items.length < 4; attempt++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await demo.manager.list({ status: 'pending' })).items).toHaveLength(4);
    await demo.close();
    const ended = await Promise.all(runs.map((run) => demo.finished(run.id)));
    expect(ended.map((run) => run.status)).toEqual(['stopped', 'stopped']);
    expect(lines.filter((line) => line.includes('stopped with the demo'))).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('failed');
  });
});
