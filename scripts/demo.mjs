// `npm run demo`: installs the workspace (with the pinned pnpm), builds the demo and the packages it
// uses, then runs the demo server as a child of this process. npm runs this script with `exec`, so
// this is the process npm signals: SIGINT and SIGTERM (to npm, to this pid, or Ctrl-C) are passed
// to whatever step is running, and a stop the user asked for ends quietly with exit code 0.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pnpm = ['-y', 'pnpm@10.34.9'];

let child;
let stopRequested = false;

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopRequested = true;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
    else process.exit(0);
  });
}

/** Runs one step; resolves with its exit code (a step killed by a signal counts as 1). */
function step(command, args, options = {}) {
  return new Promise((resolve) => {
    child = spawn(command, args, { cwd: root, stdio: 'inherit', ...options });
    child.once('error', (error) => {
      console.error(`could not run ${command}: ${error.message}`);
      resolve(1);
    });
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const steps = [
  ['npx', [...pnpm, 'install', '--frozen-lockfile']],
  ['npx', [...pnpm, 'exec', 'turbo', 'run', 'build', '--filter=@hitl/demo...', '--output-logs=errors-only', '--log-prefix=none']],
];
for (const [command, args] of steps) {
  const code = await step(command, args);
  if (stopRequested) process.exit(0);
  if (code !== 0) {
    console.error(
      `\nnpm run demo: \`${[command === 'npx' ? 'pnpm' : command, ...args.slice(command === 'npx' ? 2 : 0)].join(' ')}\` failed (exit code ${code})`,
    );
    process.exit(code);
  }
}

const code = await step(process.execPath, ['apps/demo/dist/main.js', ...process.argv.slice(2)], {
  env: { ...process.env, HITL_DEMO_STOP_PID: String(process.pid) },
});
process.exit(stopRequested ? 0 : code);
