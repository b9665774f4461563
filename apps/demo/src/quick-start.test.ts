// README command 1 from a fresh clone: `npm run demo` installs, builds and serves, and SIGINT or SIGTERM stops it quietly.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: fileURLToPath(new URL('.', import.meta.url)) })
  .toString()
  .trim();

/** The environment of a new user: no workspace binaries on PATH, no npm or pnpm settings inherited from the test runner. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '')
    .split(':')
    .filter((entry) => !entry.includes('node_modules'))
    .join(':');
  return { PATH: path, HOME: process.env.HOME, LANG: process.env.LANG ?? 'C.UTF-8', PORT: '0' };
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  dashboardUrl: string;
  /** The pid the demo tells the user to signal. */
  printedPid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run demo` in `directory`, until it prints the dashboard's address and the pid to stop. */
async function startDemoCommand(directory: string, withinMs: number): Promise<Started> {
  const child = spawn('npm', ['run', 'demo'], { cwd: directory, env: cleanEnvironment(), detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = await new Promise<{ dashboardUrl: string; printedPid: number }>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`no dashboard URL within ${withinMs / 1000} s:\n${output.slice(-3000)}`)), withinMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /reviewer dashboard: (http:\/\/\S+)/.exec(output)?.[1];
      const pid = /kill (\d+)\) to stop/.exec(output)?.[1];
      if (url && pid) {
        clearTimeout(guard);
        resolve({ dashboardUrl: url, printedPid: Number(pid) });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then(({ code }) => {
      clearTimeout(guard);
      reject(new Error(`npm run demo exited with ${code} before serving:\n${output.slice(-3000)}`));
    });
  });
  return { child, ...ready, output: () => output, exited };
}

/** Kills what is left of a run (the whole process group) so a failed test leaves nothing behind. */
function killGroup(child: ChildProcessWithoutNullStreams): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** What a clean, quiet stop looks like: npm exits 0 and nobody prints a failure. */
async function expectQuietStop(started: Started, signal: NodeJS.Signals, target: number): Promise<void> {
  process.kill(target, signal);
  const guard = setTimeout(() => killGroup(started.child), 20_000);
  const { code } = await started.exited;
  clearTimeout(guard);
  const after = started.output().slice(started.output().indexOf('reviewer dashboard'));
  expect({ code, after }).toMatchObject({ code: 0 });
  expect(after).toContain('stopped');
  expect(after).not.toMatch(/ELIFECYCLE|ERR_PNPM|npm error|command failed|Error:/i);
  // Nothing of the demo is left running.
  await expect(fetch(started.dashboardUrl)).rejects.toThrow();
}

describe('README command 1 from a fresh clone', () => {
  let directory = '';
  let clone = '';
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'hitl-fresh-clone-'));
    clone = join(directory, 'repo');
    execFileSync('git', ['clone', '--quiet', repoRoot, clone]);
  });
  afterAll(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('`npm run demo` installs, builds and serves; SIGINT to npm stops it quietly', { timeout: 600_000 }, async () => {
    const started = await startDemoCommand(clone, 540_000);
    try {
      const page = await fetch(started.dashboardUrl);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Pending approvals');
      // The page says "Signed in as …" from GET /me: who the demo signs in when nobody named themselves.
      expect(html).toContain('data-testid="whoami"');
      const me = await fetch(`${started.dashboardUrl}me`);
      expect(await me.json()).toEqual({ id: 'demo-reviewer' });
      const listed = await fetch(`${started.dashboardUrl}requests`, { headers: { 'x-reviewer': 'new-user' } });
      expect(listed.status).toBe(200);
      expect(Array.isArray(((await listed.json()) as { items: unknown[] }).items)).toBe(true);
      await expectQuietStop(started, 'SIGINT', started.child.pid as number);
    } finally {
      killGroup(started.child);
    }
  });

  it('run again, SIGTERM to the pid it prints stops it quietly too', { timeout: 300_000 }, async () => {
    const started = await startDemoCommand(clone, 240_000);
    try {
      expect((await fetch(started.dashboardUrl)).status).toBe(200);
      await expectQuietStop(started, 'SIGTERM', started.printedPid);
    } finally {
      killGroup(started.child);
    }
  });
});
