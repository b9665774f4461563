/** `createApprovalProxy`: an MCP server that forwards to an upstream server, gating each tool call. */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isPlainObject } from '@hitl/core/internal';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Progress,
  type ServerNotification,
  type ServerRequest,
  type Notification,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { askThroughElicitation, type ElicitationOptions } from './elicitation.js';
import { createStreamableHttpSessions, type HttpHandlerOptions, type StreamableHttpHandler } from './streamable-http.js';
import { createToolGate, type GateOptions } from './gate.js';
import { ToolIndex, validTools, type McpLogger } from './tool-list.js';
import { Upstream, validateUpstream, type UpstreamEvent, type UpstreamOptions } from './upstream.js';

/**
 * Options of {@link createApprovalProxy}: the server to front, how calls are gated, and where
 * warnings go.
 *
 * @example
 * ```ts
 * const options: ApprovalProxyOptions = { upstream: { command: 'node', args: ['server.js'] }, manager };
 * ```
 */
export interface ApprovalProxyOptions extends GateOptions {
  upstream: UpstreamOptions;
  /** Where warnings go (tools hidden for an invalid name, failed notifications). Default `console` (stderr for warn). */
  logger?: McpLogger;
  /**
   * Also ask the MCP client's user (when the client declares elicitation), beside your other channels.
   * The first decision from any channel wins; a question overtaken by another channel is withdrawn.
   * Default `false`.
   */
  elicitation?: boolean | ElicitationOptions;
}

/**
 * An MCP server in front of another one: same tools (names, schemas, annotations), every
 * `tools/call` gated by the manager, every other request and notification passed through.
 *
 * @example
 * ```ts
 * const proxy = createApprovalProxy({ upstream: { command: 'npx', args: ['some-mcp-server'] }, manager });
 * await proxy.serveStdio();
 * ```
 */
export interface ApprovalProxy {
  /** Serves one downstream MCP session over `transport` (any server transport: in-memory, stdio, HTTP). */
  connect(transport: Transport): Promise<void>;
  /** Serves this process's stdin/stdout: what an MCP client that starts the proxy as a command talks to. */
  serveStdio(): Promise<void>;
  /**
   * A Streamable HTTP endpoint (sessions included) to mount on an Express app:
   * `app.all('/mcp', proxy.httpHandler({ allowedHosts: ['127.0.0.1:3000'] }))`.
   */
  httpHandler(options?: HttpHandlerOptions): StreamableHttpHandler;
  /** Listens to the upstream connection: `upstream-connected` (with the child's `pid` over stdio) and `upstream-closed`. */
  subscribe(listener: (event: UpstreamEvent) => void): () => void;
  /** Closes every downstream session and the upstream connection. */
  close(): Promise<void>;
}

/** Everything a server can offer, mirrored from the upstream so passed-through requests are advertised. */
function mirroredCapabilities(upstream: ServerCapabilities | undefined): ServerCapabilities {
  const capabilities: ServerCapabilities = { ...upstream, tools: { ...upstream?.tools, listChanged: true } };
  return capabilities;
}

/**
 * Creates an MCP server that fronts any MCP server (a command over stdio, or a Streamable HTTP URL)
 * and puts a human in front of its tools:
 *
 * - `tools/list` relists the upstream's tools exactly (names, descriptions, schemas, annotations),
 *   hiding (with a warning) any whose name is not 1–128 of `A-Z a-z 0-9 _ - . :`;
 * - `tools/call` asks the manager: auto-approved calls go straight through; others wait for a
 *   reviewer (the request carries the tool's description, arguments, risk and why, and its
 *   `inputSchema`, so an edit is checked against it); a refusal is a tool result with
 *   `isError: true` and the reason. The client cancelling the call cancels the request;
 * - everything else (resources, prompts, completions, logging, notifications) is passed through.
 *
 * Risk comes from `riskLevel`, else from the tool's annotations (`readOnlyHint: true` → read_only,
 * `destructiveHint: false` → data_modification, else irreversible). The upstream is connected on first
 * use and again after it went away (a restart); downstream clients are told the tool list changed.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createManager } from '@hitl/core';
 * import { createReviewRouter } from '@hitl/express';
 * import { createApprovalProxy } from '@hitl/mcp';
 *
 * const manager = createManager({ policies: [{ name: 'reads', toolPattern: '*', maxRiskLevel: 'read_only' }] });
 * const proxy = createApprovalProxy({ upstream: { command: 'npx', args: ['-y', 'some-mcp-server'] }, manager });
 * const app = express();
 * app.all('/mcp', proxy.httpHandler());
 * app.use('/hitl', createReviewRouter({ manager, authenticate: (request) => reviewerFrom(request) }));
 * app.listen(3000);
 * ```
 */
export function createApprovalProxy(options: ApprovalProxyOptions): ApprovalProxy {
  validateUpstream(options?.upstream);
  const gate = createToolGate(options);
  const logger = options.logger ?? console;
  const sessions = new Set<Server>();
  const listeners = new Set<(event: UpstreamEvent) => void>();

  const broadcast = (notification: Notification): void => {
    for (const server of sessions) {
      server
        .notification(notification)
        .catch((error: unknown) => logger.warn(`hitl: could not pass ${notification.method} to an MCP client: ${String(error)}`));
    }
  };
  const upstream = new Upstream(
    options.upstream,
    (notification) => {
      if (notification.method === 'notifications/tools/list_changed') index.invalidate();
      broadcast(notification);
    },
    (event) => {
      if (event.type === 'upstream-closed') index.invalidate();
      for (const listener of listeners) listener(event);
    },
  );
  const listAll = async (): Promise<Tool[]> => {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await upstream.request('tools/list', cursor === undefined ? undefined : { cursor });
      tools.push(...((page.tools as Tool[] | undefined) ?? []));
      cursor = typeof page.nextCursor === 'string' ? page.nextCursor : undefined;
    } while (cursor !== undefined);
    return validTools(tools, { warn: () => undefined });
  };
  const index = new ToolIndex(listAll);

  const elicitation =
    options.elicitation === true
      ? {}
      : options.elicitation === false || options.elicitation === undefined
        ? undefined
        : options.elicitation;
  const callTool = async (
    params: unknown,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
    server: Server,
  ): Promise<CallToolResult> => {
    if (!isPlainObject(params) || typeof params.name !== 'string')
      throw new McpError(ErrorCode.InvalidParams, 'tools/call needs params.name (a string)');
    if (params.arguments !== undefined && !isPlainObject(params.arguments)) {
      throw new McpError(ErrorCode.InvalidParams, 'tools/call params.arguments must be an object');
    }
    const { name } = params;
    const args = params.arguments ?? {};
    const meta = params._meta;
    const progressToken = isPlainObject(meta) ? meta.progressToken : undefined;
    return gate({
      name,
      args,
      tool: await index.lookup(name),
      signal: extra.signal,
      onPending:
        elicitation && server.getClientCapabilities()?.elicitation
          ? (record) => askThroughElicitation(server, options.manager, record, elicitation, logger)
          : undefined,
      forward: async (runArgs) => {
        const result = await upstream.request(
          'tools/call',
          { ...params, arguments: runArgs },
          {
            signal: extra.signal,
            ...(typeof progressToken === 'string' || typeof progressToken === 'number'
              ? {
                  onprogress: (progress: Progress) => {
                    void extra
                      .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } })
                      .catch(() => undefined);
                  },
                }
              : {}),
          },
        );
        return result as CallToolResult;
      },
    });
  };

  const createSession = async (): Promise<Server> => {
    const client = await upstream.client();
    const info = client.getServerVersion();
    const instructions = client.getInstructions();
    const server = new Server(
      { name: info?.name ?? 'hitl-mcp', version: info?.version ?? '1.0.0' },
      { capabilities: mirroredCapabilities(client.getServerCapabilities()), ...(instructions === undefined ? {} : { instructions }) },
    );
    // Everything the proxy does not gate goes to the upstream as it came, and its answer (or error) back.
    server.removeRequestHandler('logging/setLevel');
    // tools/call is gated here rather than with setRequestHandler: the SDK would parse the request and
    // the result with zod on the way through (about a third of the proxy's cost); the upstream's result
    // goes back exactly as it came, and the client validates it as usual.
    server.fallbackRequestHandler = async (request, extra) => {
      if (request.method === 'tools/call') return callTool(request.params, extra, server);
      return upstream.request(request.method, request.params, { signal: extra.signal });
    };
    server.fallbackNotificationHandler = async (notification) => upstream.notify(notification);

    if (elicitation) {
      // The MCP SDK (1.x, typescript-sdk#2283) ignores notifications/cancelled for request id 0, and a
      // session's first server request gets id 0: spend it on a ping, so a withdrawn question is withdrawn.
      server.oninitialized = () => {
        if (server.getClientCapabilities()?.elicitation) void server.ping().catch(() => undefined);
      };
    }
    server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
      const page = await upstream.request('tools/list', request.params, { signal: extra.signal });
      const tools = validTools((page.tools as Tool[] | undefined) ?? [], logger);
      return { ...page, tools };
    });
    return server;
  };

  const connect = async (transport: Transport): Promise<void> => {
    const server = await createSession();
    sessions.add(server);
    server.onclose = () => sessions.delete(server);
    await server.connect(transport);
  };

  const http = createStreamableHttpSessions(connect);

  return {
    connect,
    serveStdio: () => connect(new StdioServerTransport()),
    httpHandler: (handlerOptions) => http.handler(handlerOptions),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      await Promise.allSettled([...sessions].map((server) => server.close()));
      await http.close();
      await upstream.close();
    },
  };
}
