// Runs the built `hitl` binary in a child process, as a user's shell would, and scratch policy files for it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface HitlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node dist/bin.js …args`, bounded at 20 s; resolves with the exit code and both streams. */
export function hitl(args: readonly string[], env: Record<string, string> = {}): Promise<HitlRun> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (!('DATABASE_URL' in env)) delete childEnv.DATABASE_URL;
    execFile(process.execPath, [bin, ...args], { env: childEnv, timeout: 20_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** A scratch directory for policy files, removed by the returned cleanup. */
export function scratchDirectory(): { directory: string; write(name: string, text: string): string; remove(): void } {
  const directory = mkdtempSync(join(tmpdir(), 'hitl-cli-'));
  return {
    directory,
    write(name, text) {
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    },
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}
