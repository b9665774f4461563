// The demo's decision links: one printed per pending request; opening one decides nothing, confirming it approves.
import { afterEach, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from './demo-server.js';

const started: Demo[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((demo) => demo.close()));
});

describe('decision links in the narration', () => {
  it('prints a link per pending request; opening it decides nothing, confirming it approves', async () => {
    const lines: string[] = [];
    const demo = await startDemo({ port: 0, host: '127.0.0.1', scenario: null, print: (line) => lines.push(line) });
    started.push(demo);
    const record = await demo.manager.submit({ toolName: 'delete_user', input: { user_id: '42' }, riskLevel: 'irreversible' });
    for (let waited = 0; !lines.some((line) => line.includes('🔗')) && waited < 5_000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const link = /🔗 or decide in the browser: (\S+)/.exec(lines.join('\n'))?.[1];
    expect(link?.startsWith(`${demo.url}hitl/decide/`)).toBe(true);

    const page = await fetch(link as string);
    expect(page.status).toBe(200);
    expect((await demo.manager.get(record.request.id))?.status).toBe('pending');
    const token = new URL(link as string).pathname.split('/').pop() as string;
    const confirmed = await fetch(`${demo.url}hitl/decide/`, { method: 'POST', body: new URLSearchParams({ token, decision: 'approve' }) });
    expect(confirmed.status).toBe(200);
    expect((await demo.manager.get(record.request.id))?.response).toMatchObject({ decision: 'approve', respondedBy: 'demo-reviewer' });
  });
});
