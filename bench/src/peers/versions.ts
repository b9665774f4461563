// The versions of the packages a peer row compares, read from their installed package.json.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The version of `name` as installed for bench/, read from its package.json (found by walking up
 * from its resolved entry, since not every package exports its package.json). A package that is not
 * installed throws, so a row that needs it fails the run instead of disappearing.
 */
export function installedVersion(name: string): string {
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch (error) {
    throw new Error(`peer package '${name}' is not installed for bench/ (pnpm install): ${String(error)}`, { cause: error });
  }
  for (let directory = dirname(entry); directory !== dirname(directory); directory = dirname(directory)) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no package.json at this level: keep walking up
    }
  }
  throw new Error(`cannot find the package.json of '${name}' above ${entry}`);
}

/** `name@version` for each package, joined: what a row prints as the versions it compared. */
export function versionsOf(names: readonly string[]): string {
  return names.map((name) => `${name}@${installedVersion(name)}`).join(', ');
}

/** The versions as a record, for results.json. */
export function versionRecord(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, installedVersion(name)]));
}
