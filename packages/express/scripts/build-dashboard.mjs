// Builds the dashboard's browser code (src/dashboard/*.ts) into one script, and copies its CSS, into dist/dashboard.
import { copyFile, mkdir } from 'node:fs/promises';
import { URL } from 'node:url';
import { build } from 'esbuild';

const root = new URL('../', import.meta.url);
await mkdir(new URL('dist/dashboard/', root), { recursive: true });
await build({
  entryPoints: [new URL('src/dashboard/main.ts', root).pathname],
  outfile: new URL('dist/dashboard/dashboard.js', root).pathname,
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await copyFile(new URL('src/dashboard/styles.css', root), new URL('dist/dashboard/dashboard.css', root));
