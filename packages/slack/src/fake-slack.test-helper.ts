// Test helpers for @hitl/slack: a fake Slack Web API that records calls, and signed block_actions and view_submission payloads.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  authorization: string | undefined;
}

/** A local stand-in for Slack's Web API: records each call and answers like Slack does. */
export interface FakeSlack {
  /** The `slackApiUrl` to give the WebClient: `http://127.0.0.1:<port>/api/`. */
  url: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** Resolves when `count` calls to `method` have arrived. */
  waitForCalls(method: string, count?: number): Promise<SlackCall[]>;
  close(): Promise<void>;
}

function parseArgs(body: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    // WebClient sends arrays and objects (blocks, view) as JSON strings in a form body.
    args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
  }
  return args;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const waiters = new Set<() => void>();
  let counter = 0;
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const method = (request.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const args = parseArgs(body, request.headers['content-type']);
      calls.push({ method, args, authorization: request.headers.authorization });
      for (const wake of waiters) wake();
      counter += 1;
      const ts = `1767225600.${String(counter).padStart(6, '0')}`;
      const answer =
        method === 'views.open'
          ? { ok: true, view: { id: `V${counter}`, ...(args.view as object) } }
          : {
              ok: true,
              channel: typeof args.channel === 'string' ? args.channel : 'C0FAKE',
              ts: typeof args.ts === 'string' ? args.ts : ts,
              message: { text: args.text },
            };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const callsTo = (method: string) => calls.filter((call) => call.method === method);
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo,
    waitForCalls: (method, count = 1) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake Slack: waited for ${count} ${method} call(s), got ${callsTo(method).length}`));
        }, 5_000);
        const check = () => {
          if (callsTo(method).length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(callsTo(method));
        };
        waiters.add(check);
        check();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A `block_actions` payload shaped like Slack's documented one, for a button click on a message. */
export function blockActionsPayload({
  userId,
  teamId,
  actionId,
  requestId,
  channel = 'C0APPROVALS',
  ts = '1767225600.000001',
}: {
  userId: string;
  teamId: string;
  actionId: string;
  requestId: string;
  channel?: string;
  ts?: string;
}): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: teamId },
    api_app_id: 'A0HITL',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    trigger_id: `${Date.now()}.1234.abcdef`,
    team: { id: teamId, domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'approvals' },
    message: { type: 'message', ts, text: 'Approval needed', blocks: [] },
    state: { values: {} },
    response_url: 'https://hooks.slack.com/actions/T0/1/xyz',
    actions: [
      {
        action_id: actionId,
        block_id: 'hitl_actions',
        text: { type: 'plain_text', text: 'Approve' },
        value: requestId,
        type: 'button',
        action_ts: '1767225601.000000',
      },
    ],
  };
}

/** A `view_submission` payload shaped like Slack's documented one. */
export function viewSubmissionPayload({
  userId,
  teamId,
  view,
  values,
}: {
  userId: string;
  teamId: string;
  view: Record<string, unknown>;
  values: Record<string, Record<string, { type: string; value: string | null }>>;
}): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: teamId, domain: 'example' },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: teamId },
    api_app_id: 'A0HITL',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.1234.fedcba`,
    view: {
      id: 'V0001',
      team_id: teamId,
      type: 'modal',
      ...view,
      state: { values },
      hash: '1767225600.abc',
      app_id: 'A0HITL',
      bot_id: 'B0HITL',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export function formBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
