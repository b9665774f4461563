// HTTP for tests: a real node:http server (an Express app is a request listener) on 127.0.0.1 and an ephemeral port.
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on 127.0.0.1; `close()` drops open connections (event streams) and stops it. */
export interface RunningServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** The same as `url`, for code that speaks of origins. */
  origin: string;
  close(): Promise<void>;
}

/**
 * @example
 * const server = await listen(express().use(createReviewRouter({ manager })));
 * await fetch(`${server.url}/requests`);
 * await server.close();
 */
export async function listen(handler: RequestListener): Promise<RunningServer> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    origin: url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
