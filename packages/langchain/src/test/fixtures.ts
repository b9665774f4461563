import type { ManagerOptions } from '@hitl/core';
import { createTestManager } from '@hitl/core/testing';
import type { TestManager } from '@hitl/core/testing';
import { tool } from '@langchain/core/tools';
import { vi } from 'vitest';
import { z } from 'zod';

/** The five tiers of policies the README shows, on a manual clock with a recording notifier. */
export function createFixtureManager(options: Omit<ManagerOptions, 'now' | 'scheduler'> = {}): TestManager {
  const testManager = createTestManager({ timeoutMs: 60_000, ...options });
  const { manager } = testManager;
  manager.addPolicy({ name: 'read-only-auto', toolPattern: '{get,search}_*', minConfidence: 0.5, maxRiskLevel: 'read_only' });
  manager.addPolicy({ name: 'writes', toolPattern: 'update_*', minConfidence: 0.8, maxRiskLevel: 'data_modification' });
  manager.addPolicy({ name: 'payments', toolPattern: 'transfer_*', requireExplicit: true, timeoutMs: 30_000 });
  manager.addPolicy({ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true });
  manager.addPolicy({ name: 'forbidden', toolPattern: 'drop_*', deny: true });
  return testManager;
}

/** Real LangChain tools whose bodies are spies, so a test can tell whether and how they ran. */
export function createTools() {
  const weatherBody = vi.fn(async ({ city }: { city: string }) => `It is sunny in ${city}.`);
  const deleteBody = vi.fn(async ({ user_id }: { user_id: string }) => `Deleted user ${user_id}.`);
  const dropBody = vi.fn(async ({ table }: { table: string }) => `Dropped ${table}.`);
  const getWeather = tool(weatherBody, {
    name: 'get_weather',
    description: 'Get the weather for a city',
    schema: z.object({ city: z.string() }),
  });
  const deleteUser = tool(deleteBody, {
    name: 'delete_user',
    description: 'Delete a user account',
    schema: z.object({ user_id: z.string().regex(/^\d+$/, 'user_id must be digits') }),
  });
  const dropTable = tool(dropBody, {
    name: 'drop_table',
    description: 'Drop a database table',
    schema: z.object({ table: z.string() }),
  });
  return { weatherBody, deleteBody, dropBody, getWeather, deleteUser, dropTable };
}
