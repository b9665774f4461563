#!/usr/bin/env node
// hitl-mcp: an approval proxy in front of any MCP server, for an MCP client's config.
// stdout carries the MCP protocol: everything else goes to stderr.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadPolicies } from '@hitl/cli';
import { createLogNotifier, createManager, HitlError, type ApprovalStore, type ManagerOptions } from '@hitl/core';
import { createApprovalProxy } from './approval-proxy.js';
import { parseCliArguments, USAGE } from './cli-args.js';

const logger = {
  debug: (...values: unknown[]) => console.error(...values),
  info: (...values: unknown[]) => console.error(...values),
  warn: (...values: unknown[]) => console.error(...values),
  error: (...values: unknown[]) => console.error(...values),
};

async function optionalImport<T>(name: string, flag: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    throw new HitlError('invalid_input', `${flag} needs the package '${name}': npm install ${name}`, { cause: error });
  }
}

async function main(): Promise<void> {
  const parsed = parseCliArguments(process.argv.slice(2));
  if (parsed === 'help') {
    console.error(USAGE);
    return;
  }
  const policies = await loadPolicies(parsed.policies);
  const options: ManagerOptions = { policies, logger, notifiers: [createLogNotifier(logger)] };
  if (parsed.timeoutMs !== undefined) options.timeoutMs = parsed.timeoutMs;
  if (parsed.databaseUrl !== undefined) {
    const { createPostgresStore } = await optionalImport<{ createPostgresStore: (options: { connectionString: string }) => ApprovalStore }>(
      '@hitl/store-postgres',
      '--database-url',
    );
    options.store = createPostgresStore({ connectionString: parsed.databaseUrl });
  }
  const manager = createManager(options);
  const proxy = createApprovalProxy({
    upstream: { command: parsed.command, args: parsed.args, env: { ...process.env } as Record<string, string> },
    manager,
    logger,
    elicitation: parsed.elicitation,
  });

  let closeDashboard = async (): Promise<void> => undefined;
  if (parsed.port !== undefined) {
    const [{ default: express }, { createReviewRouter }] = await Promise.all([
      optionalImport<{ default: () => import('express').Express }>('express', '--port'),
      optionalImport<typeof import('@hitl/express')>('@hitl/express', '--port'),
    ]);
    const token = process.env.HITL_REVIEWER_TOKEN;
    const app = express();
    if (token) {
      app.use(
        '/',
        createReviewRouter({
          manager,
          authenticate: (request) => (request.headers.authorization === `Bearer ${token}` ? { id: 'reviewer' } : null),
        }),
      );
    } else {
      logger.warn('hitl-mcp: HITL_REVIEWER_TOKEN is not set; the dashboard lets anyone who reaches it decide');
      app.use('/', createReviewRouter({ manager, allowAnonymous: true }));
    }
    const server = createServer(app);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(parsed.port, parsed.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    logger.info(`hitl-mcp: reviewer dashboard at http://${parsed.host}:${port}/`);
    closeDashboard = () => new Promise((resolve) => server.close(() => resolve()));
  }

  const shutdown = async (): Promise<void> => {
    await proxy.close().catch(() => undefined);
    await closeDashboard();
    await manager.close();
    process.exit(0);
  };
  process.stdin.once('end', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
  await proxy.serveStdio();
}

main().catch((error: unknown) => {
  console.error(`hitl-mcp: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
