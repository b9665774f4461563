// Child processes for the durable-resume tests: start a script with an environment, read its JSON
// lines as they come, wait (bounded) for the line a test needs, and kill or stop it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildAgent {
  readonly process: ChildProcess;
  /** Every JSON line the process wrote so far. */
  readonly events: Record<string, unknown>[];
  /** Resolves with the first line (seen or to come) that `matches`; rejects after `timeoutMs` or when the process exits first. */
  next(matches: (event: Record<string, unknown>) => boolean, timeoutMs: number, what: string): Promise<Record<string, unknown>>;
  /** SIGKILL, and resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop), and resolves once the process is gone. */
  stop(): Promise<void>;
}

export function startChild(script: URL, env: Record<string, string>): ChildAgent {
  const child = spawn(process.execPath, [script.pathname], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
    for (const wake of waiters) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const wake of waiters) wake();
  });

  const next = (matches: (event: Record<string, unknown>) => boolean, timeoutMs: number, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = events.find(matches);
        if (found) return finish(() => resolve(found));
        if (exited) finish(() => reject(new Error(`the process exited before ${what}; stderr: ${stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${what} within ${timeoutMs} ms; stderr: ${stderr}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  return {
    process: child,
    events,
    next,
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await exit;
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      await exit;
    },
  };
}
