// Peer versions: read from the installed package.json, and a missing peer fails loudly so its row cannot disappear.
import { describe, expect, it } from 'vitest';
import { installedVersion, versionsOf } from './versions.js';

describe('installedVersion', () => {
  it('reads the version from the installed package.json, also of packages that do not export it', () => {
    expect(installedVersion('@langchain/langgraph-checkpoint-postgres')).toMatch(/^\d+\.\d+\.\d+/);
    expect(versionsOf(['langchain'])).toMatch(/^langchain@\d+\.\d+\.\d+/);
  });

  it('fails loudly for a peer that is not installed, so its row cannot disappear', () => {
    expect(() => installedVersion('@langchain/not-installed-peer')).toThrow(
      "peer package '@langchain/not-installed-peer' is not installed for bench/",
    );
  });
});
