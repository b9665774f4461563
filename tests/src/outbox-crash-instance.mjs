// One manager process of the outbox crash test (forked by outbox-crash.test.ts): a PostgreSQL store,
// a webhook notifier on every event, hooks that record their runs in the database, and submit,
// respond and cancel on the parent's IPC messages. Plain JavaScript so it starts without a compiler.
/* global process */
import { createManager } from '@hitl/core';
import { createPostgresStore } from '@hitl/store-postgres';
import { createWebhookNotifier } from '@hitl/notifier-webhook';
import pg from 'pg';

const {
  DATABASE_URL,
  CRASH_SCHEMA: schema,
  CRASH_TABLE: table,
  CRASH_RECEIVER: receiverUrl,
  CRASH_SECRET: secret,
  CRASH_NAME: name,
} = process.env;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, application_name: `hitl_crash_${name}` });
const quiet = { warn() {}, error() {}, info() {}, debug() {} };
const store = createPostgresStore({
  pool,
  schema,
  table,
  logger: quiet,
  sweepIntervalMs: 200,
  sweepGraceMs: 300,
  outboxPollIntervalMs: 100,
  reconnect: { initialDelayMs: 5, maxDelayMs: 100 },
});
const recordHook = (hook) => async (record) => {
  await pool.query(`INSERT INTO "${schema}".hook_runs (request_id, hook, instance) VALUES ($1, $2, $3)`, [record.request.id, hook, name]);
};
const manager = createManager({
  store,
  logger: quiet,
  timeoutMs: 1_500,
  policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
  notifiers: [
    createWebhookNotifier({
      url: receiverUrl,
      secret,
      logger: quiet,
      timeoutMs: 2_000,
      events: ['request.created', 'request.decided', 'request.expired', 'request.cancelled'],
    }),
  ],
  hooks: {
    onApprove: recordHook('onApprove'),
    onReject: recordHook('onReject'),
    onTimeout: recordHook('onTimeout'),
    onCancel: recordHook('onCancel'),
    onError: () => undefined,
  },
  outbox: { leaseMs: 1_500, maxAttempts: 100, backoff: (attempt) => Math.min(50 * attempt, 500) },
});

const operations = {
  submit: ({ id }) => manager.submit({ id, toolName: 'delete_user', input: { id } }),
  respond: ({ id, decision }) => manager.respond(id, { decision, respondedBy: 'driver' }),
  cancel: ({ id }) => manager.cancel(id, 'driver cancelled'),
};

process.on('message', (message) => {
  const operation = operations[message.op];
  Promise.resolve()
    .then(() => operation(message))
    .then(
      () => process.send?.({ seq: message.seq, ok: true }),
      (error) => process.send?.({ seq: message.seq, ok: false, code: error?.code ?? 'error', message: String(error?.message ?? error) }),
    );
});

await store.migrate();
process.send?.({ ready: true });
