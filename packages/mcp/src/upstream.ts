/** The upstream MCP server the proxy forwards to: stdio or HTTP, connected and reconnected. */
import { HitlError } from '@hitl/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ResultSchema, type Notification, type Result } from '@modelcontextprotocol/sdk/types.js';

/**
 * The MCP server the proxy fronts: a command it starts (stdio), a Streamable HTTP URL, or any
 * transport you make (a fresh one per connection, since the proxy reconnects after a restart).
 *
 * @example
 * ```ts
 * const upstream: UpstreamOptions = { command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] };
 * const remote: UpstreamOptions = { url: 'https://mcp.example.com/mcp', headers: { authorization: `Bearer ${token}` } };
 * ```
 */
export type UpstreamOptions =
  | {
      command: string;
      args?: string[];
      /** The server's environment. Default: the MCP SDK's safe subset of this process's (HOME, PATH, …). */
      env?: Record<string, string>;
      cwd?: string;
      /** The server's stderr. Default `'inherit'` (never stdout, which carries the protocol). */
      stderr?: 'inherit' | 'ignore' | 'pipe';
    }
  | { url: string | URL; headers?: Record<string, string> }
  | { transport: () => Transport };

/**
 * What happens to the upstream connection.
 *
 * @example
 * ```ts
 * proxy.subscribe((event: UpstreamEvent) => {
 *   if (event.type === 'upstream-closed') console.error('MCP server went away; reconnecting on the next request');
 * });
 * ```
 */
export type UpstreamEvent = { type: 'upstream-connected'; pid?: number } | { type: 'upstream-closed' };

/** Any result, passed on as it came (built once: making a zod schema per request costs more than the request). */
const AnyResult = ResultSchema.loose();

function makeTransport(upstream: UpstreamOptions): Transport {
  if ('transport' in upstream) return upstream.transport();
  if ('url' in upstream) {
    const url = upstream.url instanceof URL ? upstream.url : new URL(upstream.url);
    return new StreamableHTTPClientTransport(url, upstream.headers ? { requestInit: { headers: upstream.headers } } : undefined);
  }
  return new StdioClientTransport({
    command: upstream.command,
    args: upstream.args ?? [],
    env: upstream.env ?? getDefaultEnvironment(),
    stderr: upstream.stderr ?? 'inherit',
    ...(upstream.cwd === undefined ? {} : { cwd: upstream.cwd }),
  });
}

export function validateUpstream(upstream: unknown): asserts upstream is UpstreamOptions {
  const candidate = upstream as Record<string, unknown> | null;
  const ok =
    typeof candidate === 'object' &&
    candidate !== null &&
    ((typeof candidate.command === 'string' && candidate.command !== '') ||
      typeof candidate.url === 'string' ||
      candidate.url instanceof URL ||
      typeof candidate.transport === 'function');
  if (!ok) {
    throw new HitlError('invalid_input', 'options.upstream must be { command, args? }, { url } or { transport: () => Transport }', {
      details: { field: 'options.upstream' },
    });
  }
  if (typeof candidate.url === 'string') {
    try {
      new URL(candidate.url);
    } catch {
      throw new HitlError('invalid_input', `options.upstream.url '${candidate.url}' is not a URL`, {
        details: { field: 'options.upstream.url' },
      });
    }
  }
}

/**
 * One client connection to the upstream server, made on first use and made again after the server
 * went away (a restarted process, a dropped HTTP session). Requests in flight when it goes away fail;
 * the next one reconnects.
 */
export class Upstream {
  private current: Promise<Client> | undefined;
  private closed = false;
  private connected: Client | undefined;
  private connections = 0;

  constructor(
    private readonly options: UpstreamOptions,
    private readonly onNotification: (notification: Notification) => void,
    private readonly onEvent: (event: UpstreamEvent) => void,
  ) {}

  client(): Promise<Client> {
    if (this.closed) return Promise.reject(new HitlError('cancelled', 'the approval proxy is closed'));
    this.current ??= this.connect().catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    return this.current;
  }

  private async connect(): Promise<Client> {
    const client = new Client({ name: 'hitl-mcp', version: '1.0.0' }, { capabilities: {} });
    client.fallbackNotificationHandler = async (notification) => this.onNotification(notification);
    const transport = makeTransport(this.options);
    client.onclose = () => {
      // Only the live connection's end clears it (an older one closing late must not).
      if (this.connected === client) {
        this.connected = undefined;
        this.current = undefined;
      }
      if (!this.closed) this.onEvent({ type: 'upstream-closed' });
    };
    await client.connect(transport);
    this.connected = client;
    this.connections += 1;
    const pid = transport instanceof StdioClientTransport ? transport.pid : null;
    this.onEvent(pid === null ? { type: 'upstream-connected' } : { type: 'upstream-connected', pid });
    if (this.connections > 1) this.onNotification({ method: 'notifications/tools/list_changed' });
    return client;
  }

  async request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions = {}): Promise<Result> {
    const request = params === undefined ? { method } : { method, params };
    const client = await this.client();
    try {
      return await client.request(request, AnyResult, options);
    } catch (error) {
      if (!(error instanceof StreamableHTTPError) || error.code !== 404) throw error;
      // The HTTP server no longer knows the session (it restarted): it refused the request before
      // handling it, so per the spec start a new session and send the request once more.
      this.drop(client);
      return (await this.client()).request(request, AnyResult, options);
    }
  }

  /** Forgets a connection that no longer works; the next request connects again. */
  private drop(client: Client): void {
    if (this.connected !== client) return;
    this.connected = undefined;
    this.current = undefined;
    client.close().catch(() => undefined);
  }

  async notify(notification: Notification): Promise<void> {
    const client = await this.client();
    await client.notification(notification);
  }

  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    if (current) await (await current.catch(() => undefined))?.close();
  }
}
