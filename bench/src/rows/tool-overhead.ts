// Tool overhead rows: what withApproval adds to an auto-approved LangChain tool call and an AI SDK tool's execute.
import { createManager, type Manager } from '@hitl/core';
import { withApproval as withLangChainApproval } from '@hitl/langchain';
import { withApproval as withAiSdkApproval } from '@hitl/vercel-ai';
import { tool as langChainTool } from '@langchain/core/tools';
import { tool as aiSdkTool } from 'ai';
import { z } from 'zod';
import { compareLatency, formatUs, type BenchContext, type Row } from '../harness.js';

const BUDGET_US = 5;

function supportManager(): Manager {
  return createManager({
    policies: [
      { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
      { name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
      { name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: 'data_modification' },
      { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
      { name: 'outbound', toolPattern: 'send_*', requireExplicit: true },
    ],
  });
}

function overheadRow(name: string, measured: string, stats: Awaited<ReturnType<typeof compareLatency>>): Row {
  const wrapped = stats.wrapped!;
  const raw = stats.raw!;
  const added = wrapped.medianUs - raw.medianUs;
  return {
    row: name,
    measured: `wrapped ${formatUs(wrapped.medianUs)} median, ${formatUs(wrapped.p99Us)} p99`,
    baseline: `${measured} ${formatUs(raw.medianUs)} median, ${formatUs(raw.p99Us)} p99`,
    result: added < 0 ? `−${formatUs(-added)} median (within noise)` : `+${formatUs(added)} median`,
    target: `≤ ${BUDGET_US} µs added (median)`,
    pass: added <= BUDGET_US,
    figures: {
      wrappedMedianUs: wrapped.medianUs,
      wrappedP99Us: wrapped.p99Us,
      rawMedianUs: raw.medianUs,
      rawP99Us: raw.p99Us,
      addedMedianUs: added,
    },
  };
}

/** An auto-approved LangChain tool call through `withApproval` against the same tool unwrapped, both via `invoke` with a tool call, as agents make them. */
export async function langChainOverhead(context: BenchContext): Promise<Row[]> {
  const manager = supportManager();
  const getWeather = langChainTool(async ({ city }: { city: string }) => `It is sunny in ${city}.`, {
    name: 'get_weather',
    description: 'Get the weather for a city',
    schema: z.object({ city: z.string() }),
  });
  const wrapped = withLangChainApproval(getWeather, { manager, riskLevel: 'read_only', confidence: 0.9 });
  const call = () => ({ name: 'get_weather', args: { city: 'Paris' }, id: 'call-1', type: 'tool_call' as const });
  const stats = await compareLatency(
    context,
    { raw: () => getWeather.invoke(call()), wrapped: () => wrapped.invoke(call()) },
    { rounds: 7 },
  );
  await manager.close();
  return [overheadRow('auto-approved LangChain tool', 'unwrapped invoke', stats)];
}

/** An auto-approved AI SDK tool's `execute` through `withApproval` against the raw `execute`. */
export async function aiSdkOverhead(context: BenchContext): Promise<Row[]> {
  const manager = supportManager();
  const tools = {
    get_weather: aiSdkTool({
      description: 'Current weather in a city',
      inputSchema: z.object({ city: z.string() }),
      execute: async ({ city }: { city: string }) => ({ city, celsius: 21 }),
    }),
  };
  const wrapped = withAiSdkApproval(tools, { manager, riskLevel: { get_weather: 'read_only' }, confidence: 0.9 });
  const options = { toolCallId: 'call-1', messages: [] };
  const rawExecute = tools.get_weather.execute!;
  const wrappedExecute = wrapped.get_weather.execute!;
  const stats = await compareLatency(
    context,
    { raw: () => rawExecute({ city: 'Paris' }, options), wrapped: () => wrappedExecute({ city: 'Paris' }, options) },
    { rounds: 7 },
  );
  await manager.close();
  return [overheadRow('auto-approved AI SDK tool', 'raw execute', stats)];
}
