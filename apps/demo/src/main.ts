/** Entry point of `pnpm demo`: parses the flags and starts the demo server. */
import { parseArgs } from 'node:util';
import { isScenario, scenarios, startDemo } from './demo-server.js';

const usage = `usage: pnpm --filter @hitl/demo start [--scenario ${Object.keys(scenarios).join('|')}|none] [--port 3000]

environment: PORT, DATABASE_URL (use PostgreSQL), HITL_WEBHOOK_URL and HITL_WEBHOOK_SECRET (also notify a webhook)`;

let values: { scenario?: string; port?: string; help?: boolean };
try {
  ({ values } = parseArgs({ options: { scenario: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const scenario = values.scenario ?? 'all';
if (scenario !== 'none' && !isScenario(scenario)) {
  console.error(`unknown scenario '${scenario}'\n${usage}`);
  process.exit(2);
}
const port = Number(values.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got '${values.port ?? process.env.PORT}'`);
  process.exit(2);
}

// The launcher (npm run demo) forwards SIGINT and SIGTERM to this process and passes its own pid.
const stopPid = process.env.HITL_DEMO_STOP_PID ?? String(process.pid);

let demo;
try {
  demo = await startDemo({
    port,
    scenario: null,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(process.env.HITL_WEBHOOK_URL ? { webhookUrl: process.env.HITL_WEBHOOK_URL } : {}),
    ...(process.env.HITL_WEBHOOK_SECRET ? { webhookSecret: process.env.HITL_WEBHOOK_SECRET } : {}),
    ...(process.env.SLACK_BOT_TOKEN && process.env.SLACK_SIGNING_SECRET && process.env.SLACK_CHANNEL
      ? {
          slack: {
            token: process.env.SLACK_BOT_TOKEN,
            signingSecret: process.env.SLACK_SIGNING_SECRET,
            channel: process.env.SLACK_CHANNEL,
            ...(process.env.SLACK_TEAM_ID ? { teamId: process.env.SLACK_TEAM_ID } : {}),
          },
        }
      : {}),
  });
} catch (error) {
  const code = (error as { code?: string }).code;
  console.error(
    code === 'EADDRINUSE'
      ? `port ${port} is in use; set PORT to another one, e.g. PORT=${port + 1} npm run demo`
      : `the demo could not start: ${(error as Error).message}`,
  );
  process.exit(1);
}

console.log(`
  hitl demo is running
  ➜ reviewer dashboard: ${demo.dashboardUrl}
  ➜ start page (run scenarios): ${demo.url}
  ${process.env.DATABASE_URL ? 'store: PostgreSQL (DATABASE_URL)' : 'store: memory (set DATABASE_URL to keep approvals across restarts)'}
  ${process.env.SLACK_BOT_TOKEN && process.env.SLACK_SIGNING_SECRET && process.env.SLACK_CHANNEL ? `Slack: posting to ${process.env.SLACK_CHANNEL}; interactivity URL ${demo.url}slack/actions` : 'Slack: off (set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_CHANNEL to approve from Slack)'}
  each pending request also prints a link: open it to approve or reject from the browser
  Ctrl-C (or kill ${stopPid}) to stop
`);
if (scenario !== 'none') demo.start(scenario);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\n  stopping…');
  await demo.close();
  console.log('  stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
