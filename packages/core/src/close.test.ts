// close() in a fresh Node process: no timers or listeners left behind, against a pending request that keeps the process alive.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Runs a script in a fresh Node process and reports how it ended. */
function runNode(source: string, limitMs: number): Promise<{ code: number | null; output: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let killed = false;
    const guard = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output, killed });
    });
  });
}

describe('close()', () => {
  it('leaves no timers or listeners behind: the process exits on its own', async () => {
    const script = `
      import { createManager } from ${JSON.stringify(entry)};
      const manager = createManager({ timeoutMs: 3_600_000 });
      manager.subscribe(() => {});
      const record = await manager.submit({ toolName: 'delete_user', input: { user_id: '1' } });
      const waiting = manager.waitFor(record.request.id, { timeoutMs: 3_600_000 }).catch((error) => error.code);
      await manager.close();
      console.log('waiter:', await waiting);
    `;
    const result = await runNode(script, 20_000);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.output.trim()).toBe('waiter: cancelled');
  });

  it('without close(), a pending request keeps the process alive until its expiry (the control)', async () => {
    const script = `
      import { createManager } from ${JSON.stringify(entry)};
      const manager = createManager({ timeoutMs: 3_600_000 });
      await manager.submit({ toolName: 'delete_user' });
      // What keeps the event loop alive now; exit explicitly so the test does not wait an hour.
      console.log(JSON.stringify(process.getActiveResourcesInfo()));
      process.exit(0);
    `;
    const result = await runNode(script, 20_000);
    expect(result.killed).toBe(false);
    expect(JSON.parse(result.output.trim())).toContain('Timeout');
  });
});
