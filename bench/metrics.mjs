import { createManager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import http from 'node:http';
import { chromium } from 'playwright-core';
const manager = createManager({ timeoutMs: 3_600_000 });
for (let index = 0; index < 1000; index++) {
  await manager.submit({ toolName: `tool_${index % 17}`, description: `Request ${index}`, input: { index, to: `user-${index}@example.com`, amount: index * 3, body: 'x'.repeat(index % 5 === 0 ? 1200 : 80) }, riskLevel: index % 3 === 0 ? 'irreversible' : 'data_modification', confidence: index % 4 === 0 ? 0.2 : 0.7, requestedBy: 'agent-' + (index % 7), threadId: `thread-${index % 50}`, runId: `run-${Math.floor(index / 4)}`, inputSchema: { type: 'object', properties: { to: { type: 'string' }, amount: { type: 'number' } } } });
}
const app = express();
app.use('/hitl', createReviewRouter({ manager, authenticate: () => ({ id: 'bench' }) }));
const server = http.createServer(app);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/hitl/`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const out = [];
for (let round = 0; round < 5; round++) {
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(url);
  const h = await page.waitForFunction(() => document.getElementById('pending-count')?.textContent === '1000 pending' && document.querySelectorAll('[data-state="live"]').length === 1 ? performance.now() : false, null, { polling: 'raf', timeout: 60000 });
  const done = await h.jsonValue();
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  out.push({ done: Math.round(done), task: Math.round(m.TaskDuration * 1000), script: Math.round(m.ScriptDuration * 1000), layout: Math.round(m.LayoutDuration * 1000), style: Math.round(m.RecalcStyleDuration * 1000), nodes: m.Nodes, layouts: m.LayoutCount, recalcs: m.RecalcStyleCount });
  await page.close();
}
console.log(out.map((o) => JSON.stringify(o)).join('\n'));
await browser.close(); server.close(); server.closeAllConnections(); await manager.close();
