// MCP row: an auto-approved tools/call through hitl-mcp over stdio, against the upstream server direct and a bare byte relay.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { compareLatency, formatUs, type BenchContext, type Row } from '../harness.js';

const BUDGET_US = 500;

async function stdioClient(command: string, args: string[]): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, stderr: 'ignore' }));
  return client;
}

/**
 * An auto-approved `tools/call` through `hitl-mcp` (the approval proxy, as an MCP client starts it)
 * against the same call straight to the upstream server, both over stdio with the SDK's `Client`. A
 * third task goes through a process that only relays bytes: the cost of the extra process hop alone.
 */
export async function mcpProxyOverhead(context: BenchContext): Promise<Row[]> {
  const server = fileURLToPath(new URL('../servers/mcp-server.js', import.meta.url));
  const bin = join(dirname(createRequire(import.meta.url).resolve('@hitl/mcp/package.json')), 'dist', 'bin.js');
  const folder = await mkdtemp(join(tmpdir(), 'hitl-bench-mcp-'));
  const policies = join(folder, 'policies.yaml');
  await writeFile(
    policies,
    'policies:\n  - { name: reads, toolPattern: "get_*", maxRiskLevel: read_only }\n  - { name: rest, toolPattern: "*", requireExplicit: true }\n',
  );
  const direct = await stdioClient(process.execPath, [server]);
  const proxied = await stdioClient(process.execPath, [bin, '--policies', policies, '--', process.execPath, server]);
  const relay = fileURLToPath(new URL('../servers/stdio-relay.js', import.meta.url));
  const relayed = await stdioClient(process.execPath, [relay, process.execPath, server]);
  try {
    const call = (client: Client) => () => client.callTool({ name: 'get_weather', arguments: { city: 'Paris' } });
    const first = await proxied.callTool({ name: 'get_weather', arguments: { city: 'Paris' } });
    if (first.isError) throw new Error('the proxied call was not auto-approved');
    const stats = await compareLatency(
      context,
      { raw: call(direct), wrapped: call(proxied), relayed: call(relayed) },
      { rounds: 5, timeMs: 600 },
    );
    const wrapped = stats.wrapped!;
    const raw = stats.raw!;
    const hop = stats.relayed!;
    const added = wrapped.medianUs - raw.medianUs;
    const addedP99 = wrapped.p99Us - raw.p99Us;
    return [
      {
        row: 'auto-approved MCP tools/call via hitl-mcp (stdio)',
        measured: `proxied ${formatUs(wrapped.medianUs)} median, ${formatUs(wrapped.p99Us)} p99`,
        baseline: `direct to the server ${formatUs(raw.medianUs)} median, ${formatUs(raw.p99Us)} p99; through a byte relay process ${formatUs(hop.medianUs)} median`,
        result: `${added < 0 ? '−' : '+'}${formatUs(Math.abs(added))} median, ${addedP99 < 0 ? '−' : '+'}${formatUs(Math.abs(addedP99))} p99`,
        target: `≤ ${BUDGET_US} µs added (median)`,
        pass: added <= BUDGET_US,
        figures: {
          wrappedMedianUs: wrapped.medianUs,
          wrappedP99Us: wrapped.p99Us,
          rawMedianUs: raw.medianUs,
          rawP99Us: raw.p99Us,
          addedMedianUs: added,
          addedP99Us: addedP99,
          relayMedianUs: hop.medianUs,
          relayP99Us: hop.p99Us,
        },
      },
    ];
  } finally {
    await Promise.allSettled([direct.close(), proxied.close(), relayed.close()]);
    await rm(folder, { recursive: true, force: true });
  }
}
