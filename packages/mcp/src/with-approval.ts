/** `withApproval` for an MCP client: `callTool` goes through the approval gate. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { createToolGate, type GateOptions } from './gate.js';
import { ToolIndex, validTools, type McpLogger } from './tool-list.js';

/**
 * Options of {@link withApproval}: how calls are gated, and where warnings about hidden tools go.
 *
 * @example
 * ```ts
 * const options: WithApprovalOptions = { manager, threadId: 'session-42' };
 * ```
 */
export interface WithApprovalOptions extends GateOptions {
  /** Where warnings go (tools hidden for an invalid name). Default `console`. */
  logger?: McpLogger;
}

type CallTool = Client['callTool'];
type ListTools = Client['listTools'];

/**
 * Puts a human in front of an MCP client's tool calls. The result is the same client (every other
 * method, property and type unchanged) whose `callTool` asks the manager first:
 *
 * - auto-approved: the call goes to the server at once;
 * - needs review: a request (the tool's description, arguments, risk and why, JSON Schema) waits for a
 *   decision; approve runs the call, modify runs it with the reviewer's arguments (checked against the
 *   tool's `inputSchema` when the reviewer submits them);
 * - denied, rejected or expired: the server is not called and `callTool` resolves with
 *   `{ isError: true, content: [{ type: 'text', text: 'Rejected by reviewer: …' }] }`, what MCP
 *   clients show the model. It never throws for a refusal.
 *
 * The risk comes from `riskLevel`, else from the tool's annotations (`readOnlyHint: true` → read_only,
 * `destructiveHint: false` → data_modification, else irreversible). Aborting the call's `signal`
 * cancels the pending request and rejects with `HitlError('cancelled')`. Tools with invalid names are
 * hidden from `listTools` (with a warning) and their calls refused.
 *
 * @example
 * ```ts
 * import { Client } from '@modelcontextprotocol/sdk/client/index.js';
 * import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
 * import { createManager } from '@hitl/core';
 * import { withApproval } from '@hitl/mcp';
 *
 * const manager = createManager({
 *   policies: [
 *     { name: 'reads', toolPattern: '*', maxRiskLevel: 'read_only' },
 *   ],
 * });
 * const client = new Client({ name: 'my-agent', version: '1.0.0' });
 * await client.connect(new StdioClientTransport({ command: 'npx', args: ['some-mcp-server'] }));
 * const gated = withApproval(client, { manager });
 * const result = await gated.callTool({ name: 'delete_user', arguments: { id: '42' } }); // waits for a reviewer
 * ```
 */
export function withApproval<T extends Client>(client: T, options: WithApprovalOptions): T {
  const gate = createToolGate(options);
  const logger = options.logger ?? console;
  const listAll = async (): Promise<Tool[]> => {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return validTools(tools, logger);
  };
  const index = new ToolIndex(listAll);

  const listTools: ListTools = async (params, requestOptions) => {
    const page = await client.listTools(params, requestOptions);
    return { ...page, tools: validTools(page.tools, logger) };
  };

  const callTool: CallTool = async (params, resultSchema, requestOptions) => {
    const args = params.arguments ?? {};
    const tool = await index.lookup(params.name);
    const result = await gate({
      name: params.name,
      args,
      tool,
      signal: requestOptions?.signal,
      forward: async (runArgs) =>
        (await client.callTool({ ...params, arguments: runArgs }, resultSchema, requestOptions)) as CallToolResult,
    });
    return result as Awaited<ReturnType<CallTool>>;
  };

  return new Proxy(client, {
    get(target, property) {
      if (property === 'callTool') return callTool;
      if (property === 'listTools') return listTools;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
