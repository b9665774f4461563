// Test fixtures for @hitl/langchain: the README's five policy tiers on a test manager, spy-bodied tools and scripted tool calls.
import type { ManagerOptions } from '@hitl/core';
import { createTestManager } from '@hitl/core/testing';
import type { TestManager } from '@hitl/core/testing';
import { ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { afterEach, vi } from 'vitest';
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

/**
 * A `setup()` for a test file: a fixture manager plus the spy tools; the manager it made last is
 * closed after each test. Call it at the top level of the file.
 */
export function useFixtureSetup(): (options?: Parameters<typeof createFixtureManager>[0]) => TestManager & ReturnType<typeof createTools> {
  let current: TestManager | undefined;
  afterEach(async () => {
    await current?.manager.close();
    current = undefined;
  });
  return (options = {}) => {
    current = createFixtureManager(options);
    return { ...current, ...createTools() };
  };
}

/** One tool call a `FakeToolCallingModel` makes in a turn. */
export type ToolCallScript = { name: string; args: Record<string, unknown>; id: string };

export const weatherCall: ToolCallScript = { name: 'get_weather', args: { city: 'Paris' }, id: 'call-weather' };
export const deleteCall: ToolCallScript = { name: 'delete_user', args: { user_id: '42' }, id: 'call-delete' };

/** The tool messages of an agent run, in order. */
export function toolMessages(messages: unknown[]): ToolMessage[] {
  return messages.filter((message): message is ToolMessage => ToolMessage.isInstance(message));
}
