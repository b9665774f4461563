/** The proxy over Streamable HTTP: one MCP session per client, on an HTTP handler. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/**
 * An Express-compatible handler for MCP's Streamable HTTP transport (POST, GET and DELETE on one path).
 *
 * @example
 * ```ts
 * const handler: StreamableHttpHandler = proxy.httpHandler();
 * app.all('/mcp', handler);
 * ```
 */
export type StreamableHttpHandler = (request: IncomingMessage & { body?: unknown }, response: ServerResponse) => Promise<void>;

/**
 * Options of `proxy.httpHandler()`. Giving `allowedHosts` or `allowedOrigins` turns on the
 * SDK's DNS-rebinding protection (requests with another `Host`/`Origin` are refused): do so whenever
 * the endpoint listens on localhost, where a web page could otherwise reach it.
 *
 * @example
 * ```ts
 * app.all('/mcp', proxy.httpHandler({ allowedHosts: ['127.0.0.1:3000', 'localhost:3000'], maxSessions: 100 }));
 * ```
 */
export interface HttpHandlerOptions {
  allowedHosts?: string[];
  allowedOrigins?: string[];
  /** Open sessions kept at most; a new session beyond it is answered 503. Default 1 000. */
  maxSessions?: number;
}

/**
 * MCP sessions over Streamable HTTP: one server transport per session, found again by its
 * `mcp-session-id` header, forgotten when the session ends.
 */
export function createStreamableHttpSessions(connect: (transport: Transport) => Promise<void>): {
  handler: (options?: HttpHandlerOptions) => StreamableHttpHandler;
  close: () => Promise<void>;
} {
  const httpTransports = new Map<string, StreamableHTTPServerTransport>();
  const handler = (handlerOptions: HttpHandlerOptions = {}): StreamableHttpHandler => {
    const { allowedHosts, allowedOrigins, maxSessions = 1000 } = handlerOptions;
    const protection =
      allowedHosts || allowedOrigins
        ? { enableDnsRebindingProtection: true, ...(allowedHosts ? { allowedHosts } : {}), ...(allowedOrigins ? { allowedOrigins } : {}) }
        : {};
    return async (request, response) => {
      const header = request.headers['mcp-session-id'];
      const sessionId = Array.isArray(header) ? header[0] : header;
      let transport = sessionId === undefined ? undefined : httpTransports.get(sessionId);
      if (!transport && sessionId !== undefined) {
        response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      let fresh = false;
      if (!transport) {
        if (httpTransports.size >= maxSessions) {
          response
            .writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' })
            .end(
              JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: `Too many open MCP sessions (${maxSessions})` }, id: null }),
            );
          return;
        }
        const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          ...protection,
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            httpTransports.set(id, created);
          },
          onsessionclosed: (id) => {
            httpTransports.delete(id);
          },
        });
        created.onclose = () => {
          if (created.sessionId !== undefined) httpTransports.delete(created.sessionId);
        };
        transport = created;
        fresh = true;
        await connect(created);
      }
      await transport.handleRequest(request, response, request.body);
      // A first request that did not open a session (not an initialize) leaves nothing behind.
      if (fresh && transport.sessionId === undefined) await transport.close();
    };
  };

  return {
    handler,
    close: async () => {
      await Promise.allSettled([...httpTransports.values()].map((transport) => transport.close()));
    },
  };
}
