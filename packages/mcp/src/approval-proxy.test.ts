// createApprovalProxy and the hitl-mcp CLI: relisted tools, gated calls over stdio and Streamable HTTP, upstream restarts, elicitation.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createManager, type Manager } from '@hitl/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import express from 'express';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApprovalProxy, type ApprovalProxy, type UpstreamEvent, type UpstreamOptions } from './index.js';
import { connectedClient, nextPending, startReviewApi, testServerPath, textOf, within } from './test/support.js';
import { createTestServer } from './test/test-server.mjs';

const policies = [{ name: 'reads', toolPattern: '*', maxRiskLevel: 'read_only' as const }];
const quiet = { warn: vi.fn() };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const inMemoryUpstream: UpstreamOptions = {
  transport: () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    void createTestServer().connect(serverSide);
    return clientSide;
  },
};
const stdioUpstream: UpstreamOptions = { command: process.execPath, args: [testServerPath], stderr: 'inherit' };

async function downstreamOf(proxy: ApprovalProxy): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await proxy.connect(serverSide);
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(clientSide);
  cleanups.push(() => client.close());
  return client;
}

function setup(upstream: UpstreamOptions): { manager: Manager; proxy: ApprovalProxy } {
  const manager = createManager({ policies });
  const proxy = createApprovalProxy({ upstream, manager, logger: quiet });
  cleanups.push(
    () => manager.close(),
    () => proxy.close(),
  );
  return { manager, proxy };
}

function nextEvent(proxy: ApprovalProxy, type: UpstreamEvent['type']): Promise<UpstreamEvent> {
  return within(
    new Promise((resolve) => {
      const unsubscribe = proxy.subscribe((event) => {
        if (event.type === type) {
          unsubscribe();
          resolve(event);
        }
      });
    }),
    type,
  );
}

describe('createApprovalProxy', () => {
  it('relists the upstream tools exactly (names, schemas, annotations, _meta), without invalid names', async () => {
    const { proxy } = setup(inMemoryUpstream);
    const downstream = await downstreamOf(proxy);
    const direct = await connectedClient();
    cleanups.push(() => direct.close());
    const expected = (await direct.listTools()).tools.filter((tool) => tool.name !== 'bad tool/name');
    expect((await downstream.listTools()).tools).toEqual(expected);
    expect(quiet.warn).toHaveBeenCalledWith(expect.stringContaining('"bad tool/name"'));
    expect(downstream.getServerVersion()).toEqual({ name: 'test-server', version: '0.1.0' });
  });

  it('passes read-only calls and other requests through; refuses invalid names and rejected calls with isError', async () => {
    const { proxy, manager } = setup(inMemoryUpstream);
    const downstream = await downstreamOf(proxy);
    expect(textOf(await downstream.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } }))).toBe('Sunny in Oslo');
    expect((await downstream.readResource({ uri: 'note://current' })).contents[0]).toMatchObject({ text: "note is ''" });
    const invalid = await downstream.callTool({ name: 'bad tool/name', arguments: {} });
    expect(invalid.isError).toBe(true);

    const pending = nextPending(manager);
    const call = downstream.callTool({ name: 'delete_user', arguments: { id: '5' } });
    await manager.respond((await pending).request.id, { decision: 'reject', feedback: 'not today' });
    const rejected = await call;
    expect(rejected).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Rejected by reviewer: not today' }] });
  });

  it('cancels the pending request when the MCP client cancels the call', async () => {
    const { proxy, manager } = setup(inMemoryUpstream);
    const downstream = await downstreamOf(proxy);
    const controller = new AbortController();
    const pending = nextPending(manager);
    const call = downstream.callTool({ name: 'delete_user', arguments: { id: '5' } }, undefined, { signal: controller.signal });
    const record = await pending;
    const cancelled = within(
      new Promise<void>((resolve) =>
        manager.subscribe((event) => event.type === 'request-cancelled' && event.record.request.id === record.request.id && resolve()),
      ),
      'request-cancelled',
    );
    controller.abort('user pressed stop');
    await expect(call).rejects.toThrow();
    await cancelled;
    expect((await manager.get(record.request.id))?.status).toBe('cancelled');
  });

  it('fronts a real stdio server: a destructive call waits for a reviewer approving through Express, a modified one runs edited', async () => {
    const { proxy, manager } = setup(stdioUpstream);
    const api = await startReviewApi(manager);
    cleanups.push(() => api.close());
    const downstream = await downstreamOf(proxy);

    let pending = nextPending(manager);
    let call = downstream.callTool({ name: 'delete_user', arguments: { id: '42' } });
    let record = await pending;
    expect(record.request.inputSchema).toMatchObject({ properties: { id: { type: 'string', pattern: '^[0-9]+$' } } });
    expect((await api.respond(record.request.id, { decision: 'approve' })).status).toBe(200);
    expect(textOf(await within(call, 'approved call'))).toBe('deleted user 42');

    pending = nextPending(manager);
    call = downstream.callTool({ name: 'update_note', arguments: { text: 'draft' } });
    record = await pending;
    expect(record.request.riskLevel).toBe('data_modification');
    expect((await api.respond(record.request.id, { decision: 'modify', modified: { text: 'final' } })).status).toBe(200);
    expect(textOf(await within(call, 'modified call'))).toBe('note: final');
    expect((await downstream.readResource({ uri: 'note://current' })).contents[0]).toMatchObject({ text: "note is 'final'" });
  });

  it('survives the upstream restarting, and tells the client its tool list changed', async () => {
    const { proxy } = setup(stdioUpstream);
    const downstream = await downstreamOf(proxy);
    const listChanged = new Promise<void>((resolve) =>
      downstream.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
    );
    const firstPid = Number(textOf(await downstream.callTool({ name: 'get_pid', arguments: {} })));
    const closed = nextEvent(proxy, 'upstream-closed');
    process.kill(firstPid, 'SIGKILL');
    await closed;
    const connected = nextEvent(proxy, 'upstream-connected');
    const secondPid = Number(textOf(await downstream.callTool({ name: 'get_pid', arguments: {} })));
    expect(secondPid).not.toBe(firstPid);
    expect(await connected).toEqual({ type: 'upstream-connected', pid: secondPid });
    await within(listChanged, 'tools/list_changed');
    expect((await downstream.listTools()).tools).toHaveLength(4);
  });

  it('serves Streamable HTTP as an Express handler, and fronts a Streamable HTTP upstream across its restart', async () => {
    const { proxy: front } = setup(stdioUpstream);
    const app = express();
    let handler = front.httpHandler();
    app.all('/mcp', (request, response) => handler(request, response));
    const server = createServer(app);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;

    const httpClient = new Client({ name: 'agent', version: '1.0.0' });
    await httpClient.connect(new StreamableHTTPClientTransport(new URL(url)));
    cleanups.push(() => httpClient.close());
    expect(textOf(await httpClient.callTool({ name: 'get_weather', arguments: { city: 'Rome' } }))).toBe('Sunny in Rome');

    const { proxy: chained } = setup({ url });
    const downstream = await downstreamOf(chained);
    expect((await downstream.listTools()).tools.map((tool) => tool.name)).toEqual(['get_weather', 'get_pid', 'update_note', 'delete_user']);
    expect(textOf(await downstream.callTool({ name: 'get_weather', arguments: { city: 'Lima' } }))).toBe('Sunny in Lima');

    // The HTTP upstream restarts (a fresh proxy behind the same URL knows none of the old sessions).
    const { proxy: restarted } = setup(stdioUpstream);
    handler = restarted.httpHandler();
    expect(textOf(await downstream.callTool({ name: 'get_weather', arguments: { city: 'Quito' } }))).toBe('Sunny in Quito');

    const stray = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-session-id': 'nope' },
      body: '{}',
    });
    expect(stray.status).toBe(404);

    // With allowedHosts, a request naming another Host (a DNS-rebinding page) is refused.
    handler = restarted.httpHandler({ allowedHosts: ['mcp.internal'] });
    const rebinding = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    });
    expect(rebinding.status).toBe(403);
  });

  it('refuses options without an upstream', () => {
    expect(() => createApprovalProxy({ manager: createManager(), upstream: {} as UpstreamOptions })).toThrow(/options\.upstream must be/);
    expect(() => createApprovalProxy({ manager: createManager(), upstream: {} as UpstreamOptions })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.upstream' }) }),
    );
  });
});

describe('hitl-mcp (the CLI)', () => {
  it('exits 1 naming the file, line and column of a bad policy file', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hitl-mcp-'));
    const policyFile = join(folder, 'policies.yaml');
    await writeFile(policyFile, 'policies:\n  - name: reads\n    toolPattern: "*"\n    maxRiskLevel: high\n');
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--policies', policyFile, '--', process.execPath, testServerPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await within(once(child, 'exit'), 'the CLI exiting', 10_000)) as [number];
    expect(code).toBe(1);
    expect(stderr).toContain(`hitl-mcp: ${policyFile}:4:19: policies[0].maxRiskLevel 'high' must be one of`);
  });

  it('works as the stdio command of an MCP client, with the reviewer dashboard on --port', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hitl-mcp-'));
    const policyFile = join(folder, 'policies.yaml');
    await writeFile(policyFile, 'policies:\n  - name: reads\n    toolPattern: "*"\n    maxRiskLevel: read_only\n');
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, '--policies', policyFile, '--port', '0', '--', process.execPath, testServerPath],
      stderr: 'pipe',
    });
    let stderr = '';
    const dashboard = within(
      new Promise<string>((resolve) => {
        transport.stderr?.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /dashboard at (http:\S+)/.exec(stderr);
          if (match?.[1]) resolve(match[1]);
        });
      }),
      'the dashboard URL on stderr',
      10_000,
    );
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const base = await dashboard;

    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['get_weather', 'get_pid', 'update_note', 'delete_user']);
    expect(textOf(await client.callTool({ name: 'get_weather', arguments: { city: 'Kyiv' } }))).toBe('Sunny in Kyiv');

    // The request is created by another process: follow the dashboard's event stream (opened before the call).
    const response = await fetch(`${base}events`, { headers: { accept: 'text/event-stream' } });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (pattern: RegExp): Promise<RegExpExecArray> => {
      for (;;) {
        const match = pattern.exec(text);
        if (match) return match;
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    await within(readUntil(/event: ready/), 'the event stream', 10_000);
    const call = client.callTool({ name: 'delete_user', arguments: { id: '9' } });
    call.catch(() => undefined);
    const id = (
      await within(readUntil(/event: request-created\ndata: .*?"id":"(hitl-[^"]+)"/), 'the pending request on the dashboard', 10_000)
    )[1];
    await reader.cancel();
    const decided = await fetch(`${base}requests/${id}/respond`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve' }),
    });
    expect(decided.status).toBe(200);
    expect(textOf(await within(call, 'the approved call', 10_000))).toBe('deleted user 9');
  });
});

describe('elicitation (opt in)', () => {
  async function elicitingClient(proxy: ApprovalProxy, answer: (signal: AbortSignal) => Promise<ElicitResult>): Promise<Client> {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await proxy.connect(serverSide);
    const client = new Client({ name: 'agent', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, (_request, extra) => answer(extra.signal));
    await client.connect(clientSide);
    cleanups.push(() => client.close());
    return client;
  }

  it("lets the client's user decide when the client supports elicitation", async () => {
    const manager = createManager({ policies });
    const proxy = createApprovalProxy({ upstream: inMemoryUpstream, manager, logger: quiet, elicitation: { respondedBy: 'desk-user' } });
    cleanups.push(
      () => manager.close(),
      () => proxy.close(),
    );
    const client = await elicitingClient(proxy, async () => ({ action: 'accept', content: { decision: 'approve' } }));
    expect(textOf(await within(client.callTool({ name: 'delete_user', arguments: { id: '3' } }), 'the elicited call'))).toBe(
      'deleted user 3',
    );
    const [record] = (await manager.list()).items;
    expect(record?.response).toMatchObject({ decision: 'approve', respondedBy: 'desk-user' });

    const declining = await elicitingClient(proxy, async () => ({ action: 'decline' }));
    const declined = await declining.callTool({ name: 'delete_user', arguments: { id: '4' } });
    expect(declined).toMatchObject({ isError: true, content: [{ text: 'Rejected by reviewer: declined in the MCP client' }] });
  });

  it('withdraws the question when another channel decides first', async () => {
    const manager = createManager({ policies });
    const proxy = createApprovalProxy({ upstream: inMemoryUpstream, manager, logger: quiet, elicitation: true });
    cleanups.push(
      () => manager.close(),
      () => proxy.close(),
    );
    let withdrawn!: () => void;
    const questionWithdrawn = new Promise<void>((resolve) => (withdrawn = resolve));
    let asked!: () => void;
    const questionAsked = new Promise<void>((resolve) => (asked = resolve));
    const client = await elicitingClient(proxy, (signal) => {
      asked();
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          withdrawn();
          reject(new Error('withdrawn'));
        }),
      );
    });
    const pending = nextPending(manager);
    const call = client.callTool({ name: 'delete_user', arguments: { id: '8' } });
    const record = await pending;
    await within(questionAsked, 'the elicitation');
    await manager.respond(record.request.id, { decision: 'approve', respondedBy: 'dashboard-reviewer' });
    expect(textOf(await call)).toBe('deleted user 8');
    await within(questionWithdrawn, 'the withdrawn elicitation');
  });

  it('does not ask clients that do not declare elicitation', async () => {
    const manager = createManager({ policies });
    const proxy = createApprovalProxy({ upstream: inMemoryUpstream, manager, logger: quiet, elicitation: true });
    cleanups.push(
      () => manager.close(),
      () => proxy.close(),
    );
    const downstream = await downstreamOf(proxy);
    const pending = nextPending(manager);
    const call = downstream.callTool({ name: 'delete_user', arguments: { id: '1' } });
    await manager.respond((await pending).request.id, { decision: 'reject', respondedBy: 'r' });
    expect((await call).isError).toBe(true);
  });
});
