/** Finding README snippets: which READMEs, which fenced blocks, and which are opted out. */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tools/docs-check/src/snippets.ts). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** How a snippet is checked, chosen by an HTML comment on the line before its fence. */
export type SnippetMode =
  /** Type-checked, then run to completion (exit code 0). The default. */
  | 'run'
  /** `<!-- runs until stopped -->`: type-checked, then run until it has printed and kept running a moment (a server). */
  | 'serve'
  /** `<!-- not checked: reason -->`: neither. Use sparingly; the reason is required. */
  | 'skip';

export interface Snippet {
  /** README path relative to the repo root. */
  readme: string;
  /** 1-based line of the first code line (after the fence) in the README. */
  line: number;
  language: 'ts' | 'js';
  code: string;
  mode: SnippetMode;
  /** Why a skipped snippet is skipped. */
  reason?: string;
  /** A file-name-safe id, e.g. `packages-core-README-L9`. */
  id: string;
}

const fence = /^```(ts|typescript|js|javascript)\s*$/;
const notChecked = /^<!--\s*not checked:\s*(.+?)\s*-->$/;
const runsUntilStopped = /^<!--\s*runs until stopped\s*-->$/;

/** The fenced TypeScript and JavaScript blocks of one README, with the marker that precedes each. */
export function extractSnippets(readme: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = fence.exec(lines[index] as string);
    if (!open) {
      // Skip other fenced blocks whole, so their contents are never read as fences.
      if ((lines[index] as string).startsWith('```')) {
        index++;
        while (index < lines.length && !(lines[index] as string).startsWith('```')) index++;
      }
      continue;
    }
    const language = open[1]?.startsWith('t') ? 'ts' : 'js';
    let previous = index - 1;
    while (previous >= 0 && (lines[previous] as string).trim() === '') previous--;
    const marker = previous >= 0 ? (lines[previous] as string).trim() : '';
    const body: string[] = [];
    const start = index + 1;
    for (index = start; index < lines.length && !(lines[index] as string).startsWith('```'); index++) body.push(lines[index] as string);
    const skip = notChecked.exec(marker);
    const mode: SnippetMode = skip ? 'skip' : runsUntilStopped.test(marker) ? 'serve' : 'run';
    snippets.push({
      readme,
      line: start + 1,
      language,
      code: `${body.join('\n')}\n`,
      mode,
      ...(skip ? { reason: skip[1] as string } : {}),
      id: `${readme.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-')}-L${start + 1}`,
    });
  }
  return snippets;
}

/** The READMEs users read: the root one and every package's (the demo's too). */
export function readmePaths(): string[] {
  const paths = ['README.md'];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(repoRoot, group)).sort()) {
      const path = join(repoRoot, group, entry, 'README.md');
      if (existsSync(path)) paths.push(relative(repoRoot, path));
    }
  }
  return paths;
}

export function allSnippets(): Snippet[] {
  return readmePaths().flatMap((readme) => extractSnippets(readme, readFileSync(join(repoRoot, readme), 'utf8')));
}

/** The published packages: folder, npm name and README. */
export function publishedPackages(): { directory: string; name: string }[] {
  return readdirSync(join(repoRoot, 'packages'))
    .sort()
    .map((entry) => {
      const manifest = JSON.parse(readFileSync(join(repoRoot, 'packages', entry, 'package.json'), 'utf8')) as {
        name: string;
        private?: boolean;
      };
      return { directory: join(repoRoot, 'packages', entry), name: manifest.name, private: manifest.private === true };
    })
    .filter((entry) => !entry.private)
    .map(({ directory, name }) => ({ directory, name }));
}
