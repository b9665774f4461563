// Headless Chromium for browser tests, through playwright-core (which cannot download browsers here).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';

/** Debian's Chromium, or the one `CHROMIUM_PATH` names. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether a Chromium binary is installed at `chromiumPath`. */
export const hasChromium = existsSync(chromiumPath);

/** The flags this sandbox needs: headless, no sandbox, no GPU, no background network traffic. */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Throws under CI (`CI` set) when Chromium is missing, so a browser suite cannot pass by skipping.
 *
 * @example
 * requireChromiumInCi('The dashboard test');
 * describe.skipIf(!hasChromium)('dashboard', () => {});
 */
export function requireChromiumInCi(what: string): void {
  if (!hasChromium && process.env.CI) {
    throw new Error(`${what} needs Chromium and there is none at ${chromiumPath}: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
}

/** Headless Chromium with a fresh temporary profile. */
export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumArgs], ...options });
}

/** Headless Chromium with its profile in `userDataDir` (service workers, storage that outlives a page). */
export function launchPersistentChromium(userDataDir: string, options: LaunchOptions = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [...chromiumArgs],
    ...options,
  });
}
