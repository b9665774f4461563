// The demo's command line: a port already in use is named, with how to pick another, and it exits 1.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('the demo command line', () => {
  it('says which port is in use and how to pick another, and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, 'localhost', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [main, '--scenario', 'none'],
          { env: { ...process.env, PORT: String(port), DATABASE_URL: '' }, timeout: 30_000 },
          (error, _stdout, stderr) => resolve({ code: error ? (child.exitCode ?? 1) : 0, stderr }),
        );
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`port ${port} is in use; set PORT to another one, e.g. PORT=${port + 1} npm run demo`);
    } finally {
      blocker.close();
    }
  });
});
