// Renders docs/dashboard.png: the reviewer dashboard with the two requests the LangChain agent waits on.
import { fileURLToPath } from 'node:url';
import { launchChromium } from './browser.js';
import { startDemo } from './demo-server.js';

const output = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const demo = await startDemo({ port: 0, host: '127.0.0.1', scenario: null, print: () => undefined });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1, colorScheme: 'light' });
  await page.goto(demo.dashboardUrl);
  demo.start('langchain');
  await page.getByTestId('request-card').nth(1).waitFor();
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await demo.close();
}
