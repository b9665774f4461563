// Test support for @hitl/mcp: an in-process test server and client, waits for pending requests, and the real reviewer API on a port.
import type { AddressInfo } from 'node:net';
import { createServer, type Server as HttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ApprovalRecord, Manager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { createTestServer } from './test-server.mjs';

export const testServerPath = fileURLToPath(new URL('./test-server.mjs', import.meta.url));

/** An in-process test server and a connected SDK client. */
export async function connectedClient(): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createTestServer().connect(serverSide);
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

/** Resolves with the next record the manager creates as pending, or fails after `timeoutMs`. */
export function nextPending(manager: Manager, timeoutMs = 5000): Promise<ApprovalRecord> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no request was created within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = manager.subscribe((event) => {
      if (event.type === 'request-created' && event.record.status === 'pending') {
        clearTimeout(timer);
        unsubscribe();
        resolve(event.record);
      }
    });
  });
}

/** Bounded wait for any promise. */
export function within<T>(promise: Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The real reviewer API on an ephemeral port, and a way to decide through it. */
export async function startReviewApi(manager: Manager): Promise<{
  url: string;
  respond: (id: string, body: Record<string, unknown>) => Promise<{ status: number; body: unknown }>;
  close: () => Promise<void>;
}> {
  const app = express();
  app.use(
    '/hitl',
    createReviewRouter({ manager, authenticate: (request) => ({ id: String(request.headers['x-reviewer'] ?? 'reviewer') }) }),
  );
  const server: HttpServer = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hitl`;
  return {
    url,
    async respond(id, body) {
      const response = await fetch(`${url}/requests/${encodeURIComponent(id)}/respond`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-reviewer': 'alice' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((part) => part.text ?? '').join('');
}
