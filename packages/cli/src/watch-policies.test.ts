// watchPolicies: invalid or half-written edits keep the old set, valid ones apply whole; renames, deletions, close().
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createManager, HitlError } from '@hitl/core';
import { waitUntil } from '@hitl/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { PolicyFileError } from './policy-file-error.js';
import { scratchDirectory } from './test/run-hitl.js';
import { watchPolicies, type PolicyWatcher } from './watch-policies.js';

const first = `policies:
  - { name: reads, toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: read_only }
  - { name: deletes, toolPattern: 'delete_*', requireExplicit: true }
`;
const second = `policies:
  - { name: reads-strict, toolPattern: 'get_*', minConfidence: 0.9, maxRiskLevel: read_only }
  - { name: no-deletes, toolPattern: 'delete_*', deny: true }
  - { name: sends, toolPattern: 'send_*', requireExplicit: true }
`;
const namesOf = (text: string) => [...text.matchAll(/name: ([\w-]+)/g)].map((match) => match[1]);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function setUp() {
  const scratch = scratchDirectory();
  cleanups.push(() => scratch.remove());
  const path = scratch.write('policies.yaml', first);
  const manager = createManager();
  cleanups.push(() => void manager.close());
  const errors: HitlError[] = [];
  const changes: string[][] = [];
  /** Every policy list the manager was seen with: each must be one whole version of the file. */
  const seen = new Set<string>();
  const observe = () => {
    seen.add(JSON.stringify(manager.listPolicies().map((policy) => policy.name)));
    return manager;
  };
  const watch = async (): Promise<PolicyWatcher> => {
    const watcher = await watchPolicies(path, {
      manager,
      onError: (error) => errors.push(error),
      onChange: (policies) => changes.push(policies.map((policy) => policy.name)),
      debounceMs: 10,
    });
    cleanups.push(() => watcher.close());
    return watcher;
  };
  return { scratch, path, manager, errors, changes, seen, observe, watch };
}

describe('watchPolicies', () => {
  it('keeps the old policies on an invalid edit and says why; a valid edit applies to the next evaluation', async () => {
    const { path, errors, changes, seen, observe, watch } = setUp();
    const watcher = await watch();
    expect(observe().evaluate('get_user', 0.7, 'read_only')).toMatchObject({ outcome: 'approve', policy: 'reads' });

    // Invalid: a schema violation (an unknown risk level).
    writeFileSync(path, first.replace('read_only', 'high'));
    await waitUntil(() => errors.length === 1 || (observe(), false), { what: 'the invalid edit to be reported' });
    expect(errors[0]).toBeInstanceOf(PolicyFileError);
    expect(errors[0]?.message).toMatch(new RegExp(`^${path}:2:\\d+: policies\\[0\\].maxRiskLevel 'high' must be one of`));
    expect(watcher.error).toBe(errors[0]);
    expect(observe().evaluate('get_user', 0.7, 'read_only')).toMatchObject({ outcome: 'approve', policy: 'reads' });
    expect(watcher.version).toBe(1);

    // Valid: applies as a whole.
    writeFileSync(path, second);
    await waitUntil(() => watcher.version === 2 || (observe(), false), { what: 'the valid edit to apply' });
    expect(observe().evaluate('get_user', 0.7, 'read_only')).toMatchObject({ outcome: 'review', policy: 'reads-strict' });
    expect(observe().evaluate('delete_user', 1, 'irreversible')).toMatchObject({ outcome: 'deny', policy: 'no-deletes' });
    expect(watcher.error).toBeUndefined();
    expect(watcher.policies.map((policy) => policy.name)).toEqual(namesOf(second));
    expect(changes).toEqual([namesOf(second)]);
    expect([...seen].sort()).toEqual([JSON.stringify(namesOf(first)), JSON.stringify(namesOf(second))].sort());
  });

  it('never applies a half-written file: a cut-off write is refused, the completed one applies whole', async () => {
    const { path, errors, seen, observe, watch } = setUp();
    const watcher = await watch();
    // The first half of the new file: it ends inside a flow mapping, so it is not valid YAML.
    const half = second.slice(0, second.indexOf('no-deletes') + 5);
    writeFileSync(path, half);
    await waitUntil(() => errors.length >= 1 || (observe(), false), { what: 'the cut-off file to be refused' });
    expect(errors[0]?.message).toMatch(/invalid YAML/);
    expect(
      observe()
        .listPolicies()
        .map((policy) => policy.name),
    ).toEqual(namesOf(first));
    writeFileSync(path, second);
    await waitUntil(() => watcher.version === 2 || (observe(), false), { what: 'the completed file to apply' });
    expect(
      observe()
        .listPolicies()
        .map((policy) => policy.name),
    ).toEqual(namesOf(second));
    // Whatever moment the manager was looked at, it held one whole version of the file.
    for (const names of seen) expect([JSON.stringify(namesOf(first)), JSON.stringify(namesOf(second))]).toContain(names);
  });

  it('follows an editor that saves by renaming a new file over the old one', async () => {
    const { scratch, path, manager, watch } = setUp();
    const watcher = await watch();
    const temporary = join(scratch.directory, '.policies.yaml.tmp');
    writeFileSync(temporary, second);
    renameSync(temporary, path);
    await waitUntil(() => watcher.version === 2, { what: 'the renamed file to apply' });
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(namesOf(second));
    // And keeps following the new file.
    writeFileSync(path, first);
    await waitUntil(() => watcher.version === 3, { what: 'the next edit to apply' });
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(namesOf(first));
  });

  it('reports a deleted file and picks it up again when it comes back', async () => {
    const { scratch, path, manager, errors, watch } = setUp();
    const watcher = await watch();
    const moved = join(scratch.directory, 'elsewhere.yaml');
    renameSync(path, moved);
    await waitUntil(() => errors.length >= 1, { what: 'the missing file to be reported' });
    expect(HitlError.is(errors[0], 'not_found')).toBe(true);
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(namesOf(first));
    writeFileSync(moved, second);
    renameSync(moved, path);
    await waitUntil(() => watcher.version === 2, { what: 'the restored file to apply' });
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(namesOf(second));
  });

  it('stops after close(): later edits change nothing', async () => {
    const { path, manager, watch } = setUp();
    const closed = await watch();
    // A second watcher of the same file, left open: when it has applied the edit, the closed one had the same chance.
    const open = await watchPolicies(path, { debounceMs: 10 });
    cleanups.push(() => open.close());
    closed.close();
    writeFileSync(path, second);
    await waitUntil(() => open.version === 2, { what: 'the open watcher to apply the edit' });
    expect(closed.version).toBe(1);
    expect(manager.listPolicies().map((policy) => policy.name)).toEqual(namesOf(first));
  });

  it('throws on an invalid initial file, like loadPolicyFile, and watches nothing', async () => {
    const scratch = scratchDirectory();
    cleanups.push(() => scratch.remove());
    const path = scratch.write('bad.yaml', 'policies: [{ name: x }]\n');
    await expect(watchPolicies(path)).rejects.toBeInstanceOf(PolicyFileError);
    await expect(watchPolicies(join(scratch.directory, 'none.yaml'))).rejects.toMatchObject({ code: 'not_found' });
    await expect(watchPolicies(path, { debounceMs: -1 })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});
