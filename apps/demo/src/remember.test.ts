// The demo's "allow in this thread" scenario: one approval with remember: thread lets the next email in that thread run unreviewed.
import { afterEach, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from './demo-server.js';

const started: Demo[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((demo) => demo.close()));
});

describe('the "allow in this thread" scenario', () => {
  it('approving send_email once with remember: thread lets the next email in that thread run without review', async () => {
    const lines: string[] = [];
    const demo = await startDemo({ port: 0, host: '127.0.0.1', scenario: null, print: (line) => lines.push(line) });
    started.push(demo);
    const [run] = demo.start('remember');
    const headers = { 'x-reviewer': 'alice', 'content-type': 'application/json' };
    type Pending = { request: { id: string; toolName: string; threadId?: string } };
    let pending: Pending[] = [];
    for (let attempt = 0; attempt < 200 && pending.length < 2; attempt++) {
      const listed = await fetch(`${demo.dashboardUrl}requests?status=pending`, { headers });
      pending = ((await listed.json()) as { items: Pending[] }).items;
      if (pending.length < 2) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(pending.map((record) => record.request.toolName).sort()).toEqual(['delete_user', 'send_email']);
    const email = pending.find((record) => record.request.toolName === 'send_email')!;
    expect(email.request.threadId).toBe(`support-${run!.id}`);

    const remembered = await fetch(`${demo.dashboardUrl}requests/${email.request.id}/respond`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ decision: 'approve', remember: { scope: 'thread' } }),
    });
    expect(remembered.status).toBe(200);
    const grantId = ((await remembered.json()) as { response: { grantId: string } }).response.grantId;
    const deleteId = pending.find((record) => record.request.toolName === 'delete_user')!.request.id;
    expect((await fetch(`${demo.dashboardUrl}requests/${deleteId}/approve`, { method: 'POST', headers, body: '{}' })).status).toBe(200);

    const finished = await demo.finished(run!.id);
    expect(finished.status).toBe('finished');
    // Both emails went out; only the first was put to a reviewer.
    expect(
      demo
        .crmOf(run!.id)
        ?.snapshot()
        .outbox.map((message) => message.subject),
    ).toEqual(['Your account is closed', 'Your data export']);
    const emails = (await demo.manager.list({ toolName: 'send_email' })).items;
    expect(emails).toHaveLength(1);
    const grants = await fetch(`${demo.dashboardUrl}grants?active=true`, { headers });
    expect(((await grants.json()) as { items: Array<{ id: string; uses: number; scope: { threadId: string } }> }).items).toEqual([
      expect.objectContaining({ id: grantId, uses: 1, scope: { threadId: `support-${run!.id}` } }),
    ]);
    const story = lines.join('\n');
    expect(story).toContain(`send_email approved by alice, and allowed from now on (grant ${grantId})`);
    expect(story).toContain('approved by a remembered decision (a grant for this thread) and ran, nobody was asked');
  });
});
