import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: fileURLToPath(new URL('.', import.meta.url)) }).toString().trim();

/** The environment of a new user: no workspace binaries on PATH, no npm or pnpm settings inherited from the test runner. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '')
    .split(':')
    .filter((entry) => !entry.includes('node_modules'))
    .join(':');
  return { PATH: path, HOME: process.env.HOME, LANG: process.env.LANG ?? 'C.UTF-8', PORT: '0' };
}

describe('README command 1 from a fresh clone', () => {
  it('`npm run demo` installs, builds and starts a server that answers', { timeout: 600_000 }, async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hitl-fresh-clone-'));
    const clone = join(directory, 'repo');
    execFileSync('git', ['clone', '--quiet', repoRoot, clone]);
    const child = spawn('npm', ['run', 'demo'], { cwd: clone, env: cleanEnvironment(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    try {
      const dashboardUrl = await new Promise<string>((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`no dashboard URL within 9 minutes:\n${output.slice(-3000)}`)), 540_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /reviewer dashboard: (http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(guard);
            resolve(match[1] as string);
          }
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.once('exit', (code) => {
          clearTimeout(guard);
          reject(new Error(`npm run demo exited with ${code} before serving:\n${output.slice(-3000)}`));
        });
      });
      const page = await fetch(dashboardUrl);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Pending approvals');
      const listed = await fetch(`${dashboardUrl}requests`, { headers: { 'x-reviewer': 'new-user' } });
      expect(listed.status).toBe(200);
      expect(Array.isArray(((await listed.json()) as { items: unknown[] }).items)).toBe(true);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(-child.pid, 'SIGINT');
        const guard = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 10_000);
        await exited;
        clearTimeout(guard);
      }
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
