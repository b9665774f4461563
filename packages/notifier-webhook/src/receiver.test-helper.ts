// Test helpers for the webhook notifiers: a local receiver that records requests, a dead URL, bounded waits, a memory logger, records.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApprovalRecord, Logger } from '@hitl/core';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  index: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Resolves true when the connection closed before an answer was sent (the sender aborted). */
  aborted: Promise<boolean>;
}

/** Answers one request; leave `response` unanswered to hang. */
export type Answer = (request: ReceivedRequest, response: ServerResponse) => void;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests left hanging, to answer later. */
  hanging: Map<number, ServerResponse>;
  /** The server itself, to watch its connections. */
  server: Server;
  close(): Promise<void>;
}

/** A real node:http server on 127.0.0.1 with an ephemeral port. */
export async function startReceiver(answer: Answer, path = '/hooks/hitl'): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const hanging = new Map<number, ServerResponse>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = requests.length;
      const aborted = new Promise<boolean>((resolve) => {
        response.on('close', () => resolve(!response.writableFinished));
      });
      const received: ReceivedRequest = {
        index,
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
        aborted,
      };
      requests.push(received);
      hanging.set(index, response);
      response.on('finish', () => hanging.delete(index));
      answer(received, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    hanging,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on 127.0.0.1 where nothing listens (a port just released). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hooks/hitl`;
}

/** Turns the event loop until `condition` holds; fails after `limitMs` of real time. */
export async function until(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Lets pending I/O callbacks run for a few turns of the event loop. */
export async function settleIo(turns = 20): Promise<void> {
  for (let index = 0; index < turns; index += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A promise's state without waiting for it. */
export function track<T>(promise: Promise<T>): {
  readonly state: 'pending' | 'resolved' | 'rejected';
  readonly error: unknown;
  promise: Promise<T>;
} {
  const tracked = { state: 'pending' as 'pending' | 'resolved' | 'rejected', error: undefined as unknown, promise };
  promise.then(
    () => {
      tracked.state = 'resolved';
    },
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}

/** A logger that keeps what it is told. */
export function createMemoryLogger(): Logger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  return {
    lines,
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
    info: (message) => lines.push({ level: 'info', message }),
    debug: (message) => lines.push({ level: 'debug', message }),
  };
}

/** A pending record as a manager hands it to notifiers. */
export function pendingRecord(nowMs: number, overrides: { id?: string; expiresInMs?: number } = {}): ApprovalRecord {
  const id = overrides.id ?? 'hitl-4f1c2a9e-delete-user';
  return {
    request: {
      id,
      type: 'approval',
      toolName: 'delete_user',
      description: 'Delete user 12345 and all their data',
      input: { user_id: '12345' },
      riskLevel: 'irreversible',
      confidence: 0.85,
      metadata: { tenant: 'acme' },
    },
    status: 'pending',
    evaluation: { outcome: 'review', policy: 'destructive', reason: "policy 'destructive' requires explicit approval for 'delete_user'" },
    inputHash: 'b5d4c3a2e1f0b5d4c3a2e1f0b5d4c3a2e1f0b5d4c3a2e1f0b5d4c3a2e1f0abcd',
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + (overrides.expiresInMs ?? 300_000)).toISOString(),
  };
}
