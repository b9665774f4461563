// The memory store's conformance run: every ApprovalStore rule, and the suite catching stores that break them.
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './memory-store.js';
import { storeConformanceCases } from './testing.js';
import type { ApprovalRecord, ApprovalStore } from './types.js';

describe('the memory store keeps every ApprovalStore rule', () => {
  for (const testCase of storeConformanceCases({ createStore: () => createMemoryStore() })) {
    it(testCase.name, testCase.run);
  }
});

describe('the conformance suite catches a store that breaks the rules', () => {
  /** A memory store whose `decide` forgets to compare the status first: a lost-update bug. */
  function storeWithoutCompareAndSet(): ApprovalStore {
    const inner = createMemoryStore();
    return {
      ...inner,
      async decide(id, _expectedStatus, patch) {
        const current = await inner.get(id);
        return current === undefined ? inner.decide(id, 'pending', patch) : inner.decide(id, current.status, patch);
      },
    };
  }

  /** A memory store whose `create` overwrites an existing record. */
  function storeThatOverwrites(): ApprovalStore {
    const records = new Map<string, ApprovalRecord>();
    const inner = createMemoryStore();
    return {
      ...inner,
      async create(record) {
        records.set(record.request.id, record);
        return { record, created: true };
      },
      get: async (id) => records.get(id),
    };
  }

  const caseNamed = (store: () => ApprovalStore, name: string) => {
    const found = storeConformanceCases({ createStore: store }).find((testCase) => testCase.name.startsWith(name));
    if (!found) throw new Error(`no case named ${name}`);
    return found;
  };

  it('a decide without compare-and-set fails the compare-and-set case', async () => {
    await expect(caseNamed(storeWithoutCompareAndSet, 'decide is a compare-and-set').run()).rejects.toThrow(
      /expected HitlError 'conflict'/,
    );
  });

  it('a create that overwrites fails the never-overwrites case', async () => {
    await expect(caseNamed(storeThatOverwrites, 'create never overwrites').run()).rejects.toThrow(/created: false/);
  });
});
