// A process that only relays bytes to and from a child (no MCP parsing): the cost of one more stdio
// hop, to tell the proxy's own work apart from the process hop in the MCP bench row.
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) throw new Error('usage: stdio-relay <command> [args…]');
const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
child.on('exit', (code) => process.exit(code ?? 0));
