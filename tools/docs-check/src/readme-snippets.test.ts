// Every TypeScript and JavaScript block of the READMEs, taken from the README itself, is type-checked
// (tsc --strict) and run with node. A block opts out with `<!-- not checked: reason -->` on the line
// before its fence; a server that runs until stopped is marked `<!-- runs until stopped -->`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { atReadmeLines, emittedFile, runNode, snippetFile, typeCheck } from './run-snippets.js';
import { allSnippets } from './snippets.js';

const workDirectory = fileURLToPath(new URL('../.snippets/readmes/', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const snippets = allSnippets();
const checked = snippets.filter((snippet) => snippet.mode !== 'skip');
let diagnostics = new Map<string, string[]>();

beforeAll(async () => {
  rmSync(workDirectory, { recursive: true, force: true });
  mkdirSync(workDirectory, { recursive: true });
  for (const snippet of checked) writeFileSync(join(workDirectory, snippetFile(snippet)), snippet.code);
  writeFileSync(
    join(workDirectory, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'DOM'],
        types: ['node'],
        skipLibCheck: true,
        allowJs: true,
        checkJs: true,
        outDir: 'out',
        rootDir: '.',
      },
      include: ['*.ts', '*.mjs'],
    }),
  );
  diagnostics = await typeCheck(tsc, 'tsconfig.json', workDirectory);
});

describe('README snippets', () => {
  it('are found, and every opted-out one says why', () => {
    expect(checked.length).toBeGreaterThanOrEqual(10);
    for (const snippet of snippets) if (snippet.mode === 'skip') expect(snippet.reason, `${snippet.readme}:${snippet.line}`).toMatch(/\w/);
  });

  it('the compiler itself had nothing to say outside the snippets', () => {
    expect(diagnostics.get('') ?? []).toEqual([]);
  });

  for (const snippet of checked) {
    const where = `${snippet.readme}:${snippet.line}`;
    it(`${where} type-checks under --strict`, () => {
      expect(atReadmeLines(snippet, diagnostics.get(join(workDirectory, snippetFile(snippet))) ?? [])).toEqual([]);
    });
    it(`${where} runs${snippet.mode === 'serve' ? ' and keeps serving' : ' to completion'}`, async () => {
      const result = await runNode(join(workDirectory, 'out', emittedFile(snippet)), {
        cwd: workDirectory,
        env: { PORT: '0', DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
        timeoutMs: 60_000,
        mode: snippet.mode === 'serve' ? 'serve' : 'run',
      });
      if (snippet.mode === 'serve') {
        expect({ exited: result.signal !== 'SIGKILL' || result.timedOut, output: result.output }).toMatchObject({ exited: false });
      } else {
        expect({ code: result.code, timedOut: result.timedOut, output: result.output }).toMatchObject({ code: 0, timedOut: false });
      }
    });
  }
});
