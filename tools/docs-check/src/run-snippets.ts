/** Running README snippets: type-checking them and running them with Node. */
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Snippet } from './snippets.js';

/** The file name a snippet is written to: `.ts` for TypeScript, `.mjs` for JavaScript. */
export function snippetFile(snippet: Snippet): string {
  return `${snippet.id}.${snippet.language === 'ts' ? 'ts' : 'mjs'}`;
}

/** The file the compiler emits for it. */
export function emittedFile(snippet: Snippet): string {
  return `${snippet.id}.${snippet.language === 'ts' ? 'js' : 'mjs'}`;
}

/**
 * Runs `tsc -p project` and returns its diagnostics grouped by absolute file path. Emit still
 * happens when there are errors (noEmitOnError is off), so the snippets can be run regardless.
 */
export function typeCheck(tsc: string, project: string, cwd: string): Promise<Map<string, string[]>> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { cwd, maxBuffer: 64 * 1024 * 1024 }, (_error, stdout) => {
      const byFile = new Map<string, string[]>();
      let current: string[] | undefined;
      for (const line of stdout.split('\n')) {
        const match = /^(.+?)\((\d+),(\d+)\): (error .*)$/.exec(line);
        if (match) {
          const file = resolve(cwd, match[1] as string);
          current = byFile.get(file) ?? [];
          byFile.set(file, current);
          current.push(`${match[2]}:${match[3]} ${match[4]}`);
        } else if (line.trim() && current) {
          current.push(`  ${line.trim()}`);
        } else if (line.trim()) {
          const global = byFile.get('') ?? [];
          global.push(line);
          byFile.set('', global);
        }
      }
      resolvePromise(byFile);
    });
  });
}

/** Rewrites `12:5 error …` lines to the README's own line numbers. */
export function atReadmeLines(snippet: Snippet, diagnostics: string[]): string[] {
  return diagnostics.map((diagnostic) =>
    diagnostic.replace(
      /^(\d+):(\d+) /,
      (_all, line: string, column: string) => `${snippet.readme}:${snippet.line + Number(line) - 1}:${column} `,
    ),
  );
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** The process outlived the time it was given. */
  timedOut: boolean;
}

/**
 * Runs `node file`. `mode: 'run'` waits for it to exit (killed after `timeoutMs`); `'serve'` waits
 * until it has printed something and `settleMs` passed without an exit, then stops it.
 */
export function runNode(
  file: string,
  {
    cwd,
    env,
    timeoutMs,
    mode = 'run',
    settleMs = 1_500,
  }: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; mode?: 'run' | 'serve'; settleMs?: number },
): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [file], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    let settle: NodeJS.Timeout | undefined;
    const stop = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const guard = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (mode === 'serve' && settle === undefined) settle = setTimeout(stop, settleMs);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      if (settle) clearTimeout(settle);
      resolvePromise({ code, signal, output, timedOut });
    });
  });
}
