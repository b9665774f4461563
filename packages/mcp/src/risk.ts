/** The risk of an MCP tool from its annotations, with the reason shown to reviewers. */
import type { RiskLevel } from '@hitl/core';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/**
 * A risk level and why it was chosen, shown to reviewers (in the description and `metadata.mcp.risk`).
 *
 * @example
 * ```ts
 * const { level, reason }: RiskAssessment = riskFromAnnotations(tool);
 * ```
 */
export interface RiskAssessment {
  level: RiskLevel;
  /** `'options'` when your `riskLevel` option said so, `'annotations'` when read from the tool. */
  source: 'options' | 'annotations';
  reason: string;
}

/**
 * The risk of an MCP tool from its annotations, with the spec's defaults: `readOnlyHint: true` is
 * read_only; `destructiveHint: false` is data_modification; anything else (no annotations, or
 * `destructiveHint` true or absent) is irreversible. Annotations are hints from the server: a server
 * you do not trust can claim anything, so pass `riskLevel` for those.
 *
 * @example
 * ```ts
 * riskFromAnnotations({ name: 'get_weather', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } }).level;
 * // 'read_only'
 * ```
 */
export function riskFromAnnotations(tool: Pick<Tool, 'annotations'> | undefined): RiskAssessment {
  const annotations = tool?.annotations;
  if (annotations?.readOnlyHint === true) {
    return { level: 'read_only', source: 'annotations', reason: 'the MCP server marks the tool read-only (readOnlyHint: true)' };
  }
  if (annotations?.destructiveHint === false) {
    return {
      level: 'data_modification',
      source: 'annotations',
      reason: 'the MCP server marks the tool as modifying but not destructive (destructiveHint: false)',
    };
  }
  const why =
    tool === undefined
      ? "the tool is not in the MCP server's tool list"
      : annotations?.destructiveHint === true
        ? 'the MCP server marks the tool destructive (destructiveHint: true)'
        : 'the MCP server does not mark the tool read-only or non-destructive';
  return { level: 'irreversible', source: 'annotations', reason: why };
}
