// HitlError: code, message, cause and name, and is() recognising errors from another copy of the package.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HitlError } from './index.js';

describe('HitlError', () => {
  it('carries a code, a message, a cause and a name', () => {
    const cause = new Error('socket hang up');
    const error = new HitlError('store_unavailable', 'the approval store failed: socket hang up', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('HitlError');
    expect(error.code).toBe('store_unavailable');
    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ code: 'store_unavailable', message: 'the approval store failed: socket hang up' });
  });

  it('is() checks the brand and, optionally, the code', () => {
    const error = new HitlError('conflict', 'already approved');
    expect(HitlError.is(error)).toBe(true);
    expect(HitlError.is(error, 'conflict')).toBe(true);
    expect(HitlError.is(error, 'timeout')).toBe(false);
    expect(HitlError.is(new Error('conflict'))).toBe(false);
    expect(HitlError.is({ code: 'conflict', message: 'fake' })).toBe(false);
    expect(HitlError.is(null)).toBe(false);
    expect(HitlError.is('conflict')).toBe(false);
  });

  it('is() recognises errors from another copy of the package', async () => {
    // A second copy of the built module, as when two versions are installed side by side.
    const directory = mkdtempSync(join(tmpdir(), 'hitl-error-copy-'));
    try {
      for (const file of ['hitl-error.js', 'hitl-error.js.map']) {
        copyFileSync(new URL(`../dist/${file}`, import.meta.url), join(directory, file));
      }
      const copy = (await import(pathToFileURL(join(directory, 'hitl-error.js')).href)) as { HitlError: typeof HitlError };
      expect(copy.HitlError).not.toBe(HitlError);
      const foreign = new copy.HitlError('forbidden', 'self-approval');
      expect(foreign).not.toBeInstanceOf(HitlError);
      expect(HitlError.is(foreign, 'forbidden')).toBe(true);
      expect(copy.HitlError.is(new HitlError('timeout', 'late'), 'timeout')).toBe(true);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
