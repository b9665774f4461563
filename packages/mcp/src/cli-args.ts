/** The command line of `hitl-mcp`: its flags, the upstream command, and the usage text. */
import { HitlError } from '@hitl/core';

/** What `hitl-mcp` was asked to do. */
export interface CliArguments {
  policies: string;
  databaseUrl?: string;
  port?: number;
  host: string;
  timeoutMs?: number;
  elicitation: boolean;
  command: string;
  args: string[];
}

export const USAGE = `Usage: hitl-mcp --policies <file> [options] -- <command to start the MCP server> [args…]

Puts human approval in front of an MCP server's tools. Point your MCP client at hitl-mcp
instead of the server; read-only calls run at once, the rest follow your policies.

Options:
  --policies <file>       policy file (YAML or JSON), required
  --database-url <url>    keep requests in PostgreSQL (shared with other instances)
  --port <n>              serve the reviewer dashboard on http://127.0.0.1:<n>/ (0 picks a port)
  --host <address>        address for the dashboard (default 127.0.0.1)
  --timeout <ms>          how long a call waits for a reviewer (default 300000)
  --elicitation           also ask the MCP client's user (clients that support elicitation);
                          the first decision from any channel wins
  -h, --help              show this help

Reviewers sign in to the dashboard with the token in HITL_REVIEWER_TOKEN (Authorization: Bearer …);
without it the dashboard is open to anyone who can reach the port (only 127.0.0.1 by default).

Example (an MCP client's config):
  { "command": "npx", "args": ["@hitl/mcp", "--policies", "policies.yaml", "--port", "3000",
                               "--", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"] }`;

function fail(message: string): never {
  throw new HitlError('invalid_input', `${message}\n\n${USAGE}`);
}

/** Parses `hitl-mcp`'s arguments; returns `'help'` for `--help`. Throws `HitlError('invalid_input')` with the usage. */
export function parseCliArguments(argv: readonly string[]): CliArguments | 'help' {
  const separator = argv.indexOf('--');
  const own = separator === -1 ? argv : argv.slice(0, separator);
  const upstream = separator === -1 ? [] : argv.slice(separator + 1);
  if (own.includes('-h') || own.includes('--help')) return 'help';
  const values = new Map<string, string>();
  let elicitation = false;
  for (let index = 0; index < own.length; index += 1) {
    const flag = own[index] ?? '';
    if (flag === '--elicitation') {
      elicitation = true;
      continue;
    }
    const [name, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    if (!['--policies', '--database-url', '--port', '--host', '--timeout'].includes(name)) fail(`unknown option '${flag}'`);
    const value = inline ?? own[++index];
    if (value === undefined || value === '') fail(`${name} needs a value`);
    values.set(name, value);
  }
  const policies = values.get('--policies') ?? fail('--policies <file> is required');
  const [command, ...args] = upstream;
  if (command === undefined) fail("the MCP server's command is missing after '--'");
  const parsed: CliArguments = { policies, host: values.get('--host') ?? '127.0.0.1', elicitation, command, args };
  const databaseUrl = values.get('--database-url');
  if (databaseUrl !== undefined) parsed.databaseUrl = databaseUrl;
  const port = values.get('--port');
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) > 65535) fail(`--port '${port}' must be a port number (0 picks a free one)`);
    parsed.port = Number(port);
  }
  const timeout = values.get('--timeout');
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout) || Number(timeout) <= 0) fail(`--timeout '${timeout}' must be a positive number of milliseconds`);
    parsed.timeoutMs = Number(timeout);
  }
  return parsed;
}
