// The packages as a user gets them: every published package is packed (`pnpm pack`, which turns
// `workspace:^` into versions), the tarballs are installed with npm into a scratch project outside
// the workspace (with the peers at the workspace's versions), and each README's first snippet is
// type-checked there with `moduleResolution: node16` and `bundler`, then run.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atReadmeLines, runNode, typeCheck } from './run-snippets.js';
import { extractSnippets, publishedPackages, repoRoot, type Snippet } from './snippets.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

/** Peers and tools the snippets need, at the versions the workspace tests with. */
const peers = [
  'express',
  'langchain',
  '@langchain/core',
  '@langchain/langgraph',
  'ai',
  'zod',
  'pg',
  '@modelcontextprotocol/sdk',
  'typescript',
  '@types/node',
  '@types/express',
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/sdk-metrics',
];
function workspaceVersion(name: string): string {
  // Found as Node finds the package's folder: some (`@opentelemetry/api`) do not export `./package.json`.
  for (const base of require.resolve.paths(name) ?? []) {
    const manifest = join(base, ...name.split('/'), 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  }
  throw new Error(`'${name}' is not installed in tools/docs-check`);
}

/** pnpm as the test runner was started with it, else the pinned one through npx. */
function pnpmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(basename(execPath)) && !execPath.endsWith('npx-cli.js')) return [process.execPath, [execPath]];
  return ['npx', ['-y', 'pnpm@10.34.9']];
}

/** The environment without the npm and pnpm settings the test runner was started with, as a user's shell has it. */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
}

const packages = publishedPackages().map((entry) => {
  const readme = `packages/${basename(entry.directory)}/README.md`;
  const first = extractSnippets(readme, readFileSync(join(repoRoot, readme), 'utf8')).find((snippet) => snippet.mode !== 'skip');
  return { ...entry, readme, first };
});

let scratch = '';
const node16 = new Map<string, string[]>();
const bundler = new Map<string, string[]>();
const fileOf = (snippet: Snippet) => `${snippet.id}.ts`;

beforeAll(async () => {
  const started = Date.now();
  const lap = (what: string) => console.log(`${what}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  scratch = mkdtempSync(join(tmpdir(), 'hitl-packed-'));
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const [pnpm, pnpmArgs] = pnpmCommand();
  await Promise.all(packages.map((entry) => run(pnpm, [...pnpmArgs, 'pack', '--pack-destination', tarballs], { cwd: entry.directory })));
  lap('packed');
  const project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'hitl-scratch', private: true, type: 'module' }));
  const files = (await run('ls', [tarballs])).stdout
    .trim()
    .split('\n')
    .map((file) => join(tarballs, file));
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      ...files,
      ...peers.map((name) => `${name}@${workspaceVersion(name)}`),
    ],
    { cwd: project, timeout: 150_000, env: userEnvironment() },
  );
  lap('installed');
  const common = { strict: true, target: 'ES2022', lib: ['ES2023', 'DOM'], types: ['node'], rootDir: '.' };
  writeFileSync(
    join(project, 'tsconfig.node16.json'),
    JSON.stringify({
      compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16', outDir: 'out', skipLibCheck: true },
      include: ['*.ts'],
    }),
  );
  writeFileSync(
    join(project, 'tsconfig.bundler.json'),
    JSON.stringify({
      compilerOptions: { ...common, module: 'preserve', moduleResolution: 'bundler', noEmit: true, skipLibCheck: true },
      include: ['*.ts'],
    }),
  );
  for (const { first } of packages) if (first) writeFileSync(join(project, fileOf(first)), first.code);
  const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
  await Promise.all(
    (
      [
        ['tsconfig.node16.json', node16],
        ['tsconfig.bundler.json', bundler],
      ] as const
    ).map(async ([config, into]) => {
      for (const [file, lines] of await typeCheck(tsc, config, project)) into.set(file, lines);
      lap(`type-checked (${config})`);
    }),
  );
}, 240_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('packed packages installed with npm outside the workspace', () => {
  it('every published package has a README whose first snippet is TypeScript', () => {
    expect(packages.length).toBeGreaterThanOrEqual(6);
    for (const { readme, first } of packages) expect({ readme, language: first?.language }).toEqual({ readme, language: 'ts' });
  });

  it('ship their sources, so source maps and go-to-definition land on real files', () => {
    for (const { name } of packages) {
      const directory = join(scratch, 'project', 'node_modules', ...name.split('/'));
      const map = JSON.parse(readFileSync(join(directory, 'dist', 'index.d.ts.map'), 'utf8')) as { sources: string[] };
      for (const source of map.sources) expect(() => readFileSync(join(directory, 'dist', source)), `${name}: ${source}`).not.toThrow();
      expect(() => readFileSync(join(directory, 'LICENSE')), `${name}: LICENSE`).not.toThrow();
    }
  });

  it('without @opentelemetry installed, every package but @hitl/opentelemetry loads and a manager works', async () => {
    const project = join(scratch, 'project');
    const installed = join(project, 'node_modules', '@opentelemetry');
    const hidden = join(project, 'node_modules', '.opentelemetry-hidden');
    const names = packages.map((entry) => entry.name).filter((name) => name !== '@hitl/opentelemetry');
    writeFileSync(
      join(project, 'no-opentelemetry.mjs'),
      [
        `await import('@opentelemetry/api').then(() => { throw new Error('@opentelemetry/api is still installed'); }, () => {});`,
        `for (const name of ${JSON.stringify(names)}) await import(name);`,
        `const { createManager } = await import('@hitl/core');`,
        `const manager = createManager();`,
        `const record = await manager.submit({ toolName: 'delete_user' });`,
        `const decided = await manager.respond(record.request.id, { decision: 'approve' });`,
        `await manager.close();`,
        `console.log('loaded', ${names.length}, 'packages;', decided.status);`,
      ].join('\n'),
    );
    renameSync(installed, hidden);
    try {
      const result = await runNode(join(project, 'no-opentelemetry.mjs'), { cwd: project, timeoutMs: 60_000 });
      expect({ code: result.code, output: result.output }).toMatchObject({
        code: 0,
        output: expect.stringContaining(`loaded ${names.length} packages; approved`),
      });
    } finally {
      renameSync(hidden, installed);
    }
  });

  it('the hitl command runs from the installed package: it checks a policy file, exit codes as documented', async () => {
    const project = join(scratch, 'project');
    const hitl = join(project, 'node_modules', '.bin', 'hitl');
    writeFileSync(
      join(project, 'policies.yaml'),
      `policies:\n  - { name: reads, toolPattern: 'get_*', maxRiskLevel: read_only }\ncases:\n  - { call: { tool: get_user, risk: read_only }, expect: approve, policy: reads }\n  - { call: { tool: delete_user }, expect: approve }\n`,
    );
    const failed = await run(hitl, ['check', 'policies.yaml', '--json'], { cwd: project, env: userEnvironment() }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect({ code: failed.code, result: JSON.parse(failed.stdout) as unknown }).toMatchObject({
      code: 1,
      result: { passed: 1, failed: 1 },
    });
    const help = await run(hitl, ['--help'], { cwd: project, env: userEnvironment() });
    expect(help.stdout).toContain('hitl check policies.yaml');
  });

  for (const { name, first } of packages) {
    if (!first) continue;
    it(`${name}: the README's first snippet type-checks with moduleResolution node16 and bundler`, () => {
      const file = join(scratch, 'project', fileOf(first));
      expect({ node16: atReadmeLines(first, node16.get(file) ?? []), bundler: atReadmeLines(first, bundler.get(file) ?? []) }).toEqual({
        node16: [],
        bundler: [],
      });
      expect(node16.get('') ?? []).toEqual([]);
    });
    it(`${name}: the README's first snippet runs`, async () => {
      const result = await runNode(join(scratch, 'project', 'out', `${first.id}.js`), {
        cwd: join(scratch, 'project'),
        env: { PORT: '0', DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
        timeoutMs: 60_000,
        mode: first.mode === 'serve' ? 'serve' : 'run',
      });
      if (first.mode === 'serve')
        expect({ exited: result.signal !== 'SIGKILL' || result.timedOut, output: result.output }).toMatchObject({ exited: false });
      else expect({ code: result.code, timedOut: result.timedOut, output: result.output }).toMatchObject({ code: 0, timedOut: false });
    });
  }
});
