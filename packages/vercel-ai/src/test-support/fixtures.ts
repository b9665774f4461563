// Test fixtures shared by the ai 6 and ai 7 runs: managers closed after each test, planned tool calls,
// tool-body spies. Nothing here imports `ai`: the tools themselves are built per run with that run's `tool()`.
import { createManager, createMemoryStore, type ApprovalPolicy, type Manager } from '@hitl/core';
import { createTestManager, type TestManager } from '@hitl/core/testing';
import { afterEach, vi } from 'vitest';
import { fiveTierPolicies, policiesWithDeny, type PlannedCall } from './model.js';

/** A `setup()` for a test file: a test manager with the five tiers, closed after each test. Call it at the top level. */
export function useTestManagers(): (options?: {
  timeoutMs?: number;
  onTimeout?: 'error' | 'reject';
  policies?: ApprovalPolicy[];
}) => TestManager {
  const managers: TestManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map(({ manager }) => manager.close()));
  });
  return (options = {}) => {
    const test = createTestManager({ timeoutMs: 60_000, policies: fiveTierPolicies, ...options });
    managers.push(test);
    return test;
  };
}

/** What `useTwoProcesses` returns: the factory, and the cleanups it runs after each test (push your own). */
export interface TwoProcesses {
  (policies?: ApprovalPolicy[]): { agent: Manager; reviewers: Manager };
  readonly cleanups: Array<() => Promise<void>>;
}

/** Two managers on one memory store, the agent's process and the reviewers' process, closed after each test. Call it at the top level. */
export function useTwoProcesses(): TwoProcesses {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const twoProcesses = (policies: ApprovalPolicy[] = policiesWithDeny) => {
    const store = createMemoryStore();
    const agent = createManager({ store, policies, timeoutMs: 3_600_000 });
    const reviewers = createManager({ store, policies, timeoutMs: 3_600_000 });
    cleanups.push(async () => {
      await agent.close();
      await reviewers.close();
      await store.close?.();
    });
    return { agent, reviewers };
  };
  return Object.assign(twoProcesses, { cleanups });
}

/** Tool bodies as spies, so a test can tell whether and how each tool ran. */
export function createToolSpies() {
  return {
    weather: vi.fn(async ({ city }: { city: string }) => ({ city, celsius: 21 })),
    deleteUser: vi.fn(async ({ user_id }: { user_id: string }) => ({ deleted: user_id })),
    sendEmail: vi.fn(async ({ to }: { to: string; body: string }) => ({ sent: to })),
    dropTable: vi.fn(async ({ table }: { table: string }) => ({ dropped: table })),
  };
}

export const weatherCall: PlannedCall = { id: 'call-1', name: 'get_weather', input: { city: 'Paris' } };
export const deleteCall: PlannedCall = { id: 'call-2', name: 'delete_user', input: { user_id: '12345' } };
export const emailCall: PlannedCall = {
  id: 'call-3',
  name: 'send_email',
  input: { to: 'ann@example.com', body: 'Your refund is on its way' },
};
export const dropCall: PlannedCall = { id: 'call-3', name: 'drop_table', input: { table: 'users' } };

/** Risk levels for the withApproval tests' tools. */
export const withApprovalRiskLevel = { get_weather: 'read_only', delete_user: 'irreversible', send_email: 'data_modification' } as const;
/** Risk levels for the native-approval tests' tools. */
export const nativeRiskLevel = { get_weather: 'read_only', delete_user: 'irreversible', drop_table: 'irreversible' } as const;
