// Builders for the results a mock language model returns. The shapes are the provider
// specification's (LanguageModelV3 in ai 6, LanguageModelV4 in ai 7: identical for these parts).
import type { ApprovalPolicy } from '@hitl/core';

export interface PlannedCall {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** A generate result in which the model calls these tools. */
export function toolCallsResult(calls: PlannedCall[]) {
  return {
    content: calls.map((call) => ({
      type: 'tool-call' as const,
      toolCallId: call.id,
      toolName: call.name,
      input: JSON.stringify(call.input),
    })),
    finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
    usage,
    warnings: [],
  };
}

/** A generate result with a final text answer. */
export function textResult(text: string) {
  return {
    content: [{ type: 'text' as const, text }],
    finishReason: { unified: 'stop' as const, raw: 'stop' },
    usage,
    warnings: [],
  };
}

/** Stream parts in which the model calls these tools. */
export function toolCallsStream(calls: PlannedCall[]) {
  return [
    { type: 'stream-start' as const, warnings: [] },
    ...calls.map((call) => ({
      type: 'tool-call' as const,
      toolCallId: call.id,
      toolName: call.name,
      input: JSON.stringify(call.input),
    })),
    { type: 'finish' as const, finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' }, usage },
  ];
}

/** Stream parts of a final text answer. */
export function textStream(text: string) {
  return [
    { type: 'stream-start' as const, warnings: [] },
    { type: 'text-start' as const, id: 'text-1' },
    { type: 'text-delta' as const, id: 'text-1', delta: text },
    { type: 'text-end' as const, id: 'text-1' },
    { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage },
  ];
}

/** The tool results a prompt sends to the model, by tool name (the last one per tool wins). */
export function toolOutputsIn(
  prompt: ReadonlyArray<{ role: string; content: unknown }>,
): Map<string, { type: string; value?: unknown; reason?: string }> {
  const outputs = new Map<string, { type: string; value?: unknown; reason?: string }>();
  for (const message of prompt) {
    if (message.role !== 'tool' || !Array.isArray(message.content)) continue;
    for (const part of message.content as Array<{
      type: string;
      toolName?: string;
      output?: { type: string; value?: unknown; reason?: string };
    }>) {
      if (part.type === 'tool-result' && part.toolName !== undefined && part.output) outputs.set(part.toolName, part.output);
    }
  }
  return outputs;
}

/** The five-tier policies of the hitl tutorial. */
export const fiveTierPolicies: ApprovalPolicy[] = [
  { name: 'read-only-auto', toolPattern: 'get_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'search-auto', toolPattern: 'search_*', minConfidence: 0.5, maxRiskLevel: 'read_only' },
  { name: 'update-confident', toolPattern: 'update_*', minConfidence: 0.9, maxRiskLevel: 'data_modification' },
  { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
  { name: 'outbound', toolPattern: 'send_*', requireExplicit: true },
];

/** The five tiers plus a policy that refuses `drop_*` tools outright. */
export const policiesWithDeny: ApprovalPolicy[] = [{ name: 'never-drop', toolPattern: 'drop_*', deny: true }, ...fiveTierPolicies];
