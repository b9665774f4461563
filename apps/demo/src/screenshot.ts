// Renders docs/dashboard.png from the running demo: the reviewer dashboard as `npm run demo` shows it
// (both agents started, four requests waiting), signed in as the reviewer "alice".
// Run it with `pnpm --filter @hitl/demo screenshot` after a build.
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@hitl/test-kit/chromium';
import { startDemo } from './demo-server.js';

const output = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const demo = await startDemo({ port: 0, host: '127.0.0.1', scenario: null, print: () => undefined });
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
  await context.addCookies([{ name: 'hitl_reviewer', value: 'alice', url: demo.url }]);
  const page = await context.newPage();
  demo.start('all');
  await page.goto(demo.dashboardUrl);
  await page.getByTestId('request-card').nth(3).waitFor();
  await page.getByTestId('whoami-id').waitFor();
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await demo.close();
}
