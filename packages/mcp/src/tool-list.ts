/** Tool lists from MCP servers: names checked (invalid ones hidden) and indexed by name. */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { toolNameProblem } from './gate.js';

/**
 * Where warnings go (hidden tools). Default: `console`. On stdio, anything but stdout.
 *
 * @example
 * ```ts
 * const logger: McpLogger = { warn: (message) => process.stderr.write(`${message}\n`) };
 * ```
 */
export interface McpLogger {
  warn(message: string, ...details: unknown[]): void;
}

/**
 * Tools whose names are valid, in order; each invalid one is dropped with a warning (names from MCP
 * servers are untrusted input: a name no policy glob can reason about is never offered).
 */
export function validTools(tools: readonly Tool[], logger: McpLogger): Tool[] {
  return tools.filter((tool) => {
    const problem = toolNameProblem(tool.name);
    if (problem === undefined) return true;
    logger.warn(`hitl: hiding MCP tool ${JSON.stringify(String(tool.name)).slice(0, 140)}: its name ${problem}`);
    return false;
  });
}

/** A name -> tool index that refreshes itself (one listing at a time) when asked about an unknown name. */
export class ToolIndex {
  private tools = new Map<string, Tool>();
  private loading: Promise<void> | undefined;
  private loaded = false;

  constructor(private readonly listAll: () => Promise<Tool[]>) {}

  replace(tools: readonly Tool[]): void {
    this.tools = new Map(tools.map((tool) => [tool.name, tool]));
    this.loaded = true;
  }

  /** Forget the list (the server said it changed, or restarted); the next lookup lists again. */
  invalidate(): void {
    this.loaded = false;
  }

  async lookup(name: string): Promise<Tool | undefined> {
    if (this.loaded && this.tools.has(name)) return this.tools.get(name);
    await this.refresh().catch(() => undefined);
    return this.tools.get(name);
  }

  refresh(): Promise<void> {
    this.loading ??= this.listAll()
      .then((tools) => this.replace(tools))
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
