/**
 * The demo server: the manager, the reviewer dashboard, the agents and their scenarios on one port.
 * Over 300 lines because startDemo wires store, notifiers, narrator, agent runs, routes and close over the demo's one state.
 */
import { createLogNotifier, createManager, HitlError, type ApprovalStore, type Manager, type Notifier } from '@hitl/core';
import { createDecisionLinks, createReviewRouter, type DecisionLinks } from '@hitl/express';
import { createWebhookNotifier, type WebhookNotifier } from '@hitl/notifier-webhook';
import { createSlackActionsRouter, createSlackNotifier } from '@hitl/slack';
import { createPostgresStore, type PostgresStore } from '@hitl/store-postgres';
import express, { type Express } from 'express';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAiSdkAgent } from './agents/ai-sdk-agent.js';
import { runLangChainAgent, type AgentContext } from './agents/langchain-agent.js';
import { createCrm, type Crm } from './crm.js';
import { clip, colorWanted, createNarrator, type Narrator, type Run } from './narrator.js';
import { defaultReviewer, reviewerOf } from './reviewer.js';
import { supportPolicies } from './policies.js';
import { startPageHtml } from './start-page.js';

/** The scripted runs a user can start, by name. */
export const scenarios = {
  all: 'Run both agents',
  langchain: 'LangChain agent',
  'ai-sdk': 'AI SDK agent',
  expiry: 'LangChain agent, 20 s to decide',
  remember: 'LangChain agent, two emails: allow send_email in this thread once',
} as const;
export type ScenarioName = keyof typeof scenarios;

export function isScenario(value: unknown): value is ScenarioName {
  return typeof value === 'string' && Object.hasOwn(scenarios, value);
}

export interface DemoOptions {
  /** Default 3000; 0 picks a free port. */
  port?: number;
  host?: string;
  /** The scenario to start at once; `null` starts none. Default `'all'`. */
  scenario?: ScenarioName | null;
  /** Use the PostgreSQL store (pending approvals survive a restart). */
  databaseUrl?: string;
  /** Also POST each pending request to this URL, signed when `webhookSecret` is set. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Where the narration goes; `console.log` by default. */
  print?: (line: string) => void;
  /** How long a request waits for a reviewer (default 10 minutes). */
  timeoutMs?: number;
  /** ANSI colours in the narration. Default: when printing to a terminal and `NO_COLOR` is unset. */
  color?: boolean;
  /** Signs the decision links printed for each pending request. Default: random per process. */
  decisionLinkSecret?: string;
  /** Also post pending requests to Slack, with buttons answered at `/slack/actions`. */
  slack?: { token: string; signingSecret: string; channel: string; teamId?: string; slackApiUrl?: string };
}

export interface Demo {
  url: string;
  dashboardUrl: string;
  app: Express;
  manager: Manager;
  narrator: Narrator;
  /** Starts a scenario; resolves its runs at once (they go on in the background). */
  start(scenario: ScenarioName): Run[];
  /** Resolves when a run has finished (or failed). */
  finished(runId: string): Promise<Run>;
  crmOf(runId: string): Crm | undefined;
  close(): Promise<void>;
}

/** Starts the demo: the manager with the five-tier policies, the reviewer dashboard, and the scripted agents. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const { port = 3000, host = 'localhost', scenario = 'all', print = console.log, timeoutMs = 10 * 60_000 } = options;
  let store: PostgresStore | undefined;
  if (options.databaseUrl) {
    store = createPostgresStore({ connectionString: options.databaseUrl });
    await store.migrate();
  }
  let webhook: WebhookNotifier | undefined;
  if (options.webhookUrl) {
    webhook = createWebhookNotifier({ url: options.webhookUrl, ...(options.webhookSecret ? { secret: options.webhookSecret } : {}) });
  }
  const logNotifier = createLogNotifier({
    warn: (_message, details) => {
      const { toolName, riskLevel, confidence, id } = details as { toolName: string; riskLevel: string; confidence: number; id: string };
      print(`   🔔 human interaction required: ${toolName} (risk ${riskLevel}, confidence ${confidence}) — request ${id}`);
    },
  });
  // Decision links need the server's address, known once it listens: the notifier and the route wait for it.
  const decision: { links?: DecisionLinks; router?: express.Router } = {};
  const linkNotifier: Notifier = {
    name: 'decision-links',
    notify: async (record) => {
      if (decision.links) print(`   🔗 or decide in the browser: ${decision.links.links(record, defaultReviewer).view}`);
    },
  };
  const slack = options.slack;
  const notifiers: Notifier[] = [
    logNotifier,
    linkNotifier,
    ...(webhook ? [webhook] : []),
    ...(slack
      ? [
          createSlackNotifier({
            token: slack.token,
            channel: slack.channel,
            ...(slack.slackApiUrl ? { slackApiUrl: slack.slackApiUrl } : {}),
          }),
        ]
      : []),
  ];
  const manager = createManager({
    timeoutMs,
    onTimeout: 'reject',
    policies: supportPolicies,
    notifiers,
    ...(store ? { store: store as ApprovalStore } : {}),
  });

  // Requests still pending in the database were made by an earlier demo process: its scripted agents
  // are gone, so deciding them would resume nothing. Cancel them, and say so.
  if (store) {
    const cancelled = await cancelLeftovers(manager);
    if (cancelled > 0) {
      print(
        `   ⏹  cancelled ${cancelled} pending request${cancelled === 1 ? '' : 's'} left by an earlier demo process (the agents that asked are gone)`,
      );
    }
  }

  let url = '';
  const color = options.color ?? (options.print === undefined && colorWanted());
  const narrator = createNarrator({ manager, dashboardUrl: () => `${url}hitl/`, print, color });
  const crms = new Map<string, Crm>();
  /** Set by close(): runs still waiting for a reviewer end then, and say so. */
  let closing = false;
  const done = new Map<string, Promise<Run>>();

  const launch = (name: ScenarioName, framework: Run['framework'], customerId: string, runTimeout?: number, followUp = false): Run => {
    const run = narrator.startRun(name, framework, customerId);
    const crm = createCrm();
    crms.set(run.id, crm);
    const context: AgentContext = { manager, crm, narrator, run, followUp, ...(runTimeout === undefined ? {} : { timeoutMs: runTimeout }) };
    const agent = framework === 'langchain' ? runLangChainAgent(context) : runAiSdkAgent(context);
    done.set(
      run.id,
      agent.then(
        () => {
          if (closing) {
            run.status = 'stopped';
            narrator.say(run, '⏹  stopped with the demo; pending approvals were left undecided');
            return run;
          }
          run.status = 'finished';
          const summary = Object.entries(run.results).map(
            ([tool, result]) => `${tool}: ${result.status === 'success' ? 'done' : clip(result.output, 120)}`,
          );
          narrator.say(run, `🏁 finished — ${summary.join('; ')}`);
          return run;
        },
        (error: unknown) => {
          if (closing) {
            run.status = 'stopped';
            narrator.say(run, '⏹  stopped with the demo; pending approvals were left undecided');
            return run;
          }
          run.status = 'failed';
          run.error = error instanceof Error ? error.message : String(error);
          narrator.say(run, `💥 failed: ${run.error}`);
          return run;
        },
      ),
    );
    return run;
  };
  const start = (name: ScenarioName): Run[] => {
    switch (name) {
      case 'langchain':
        return [launch(name, 'langchain', '12345')];
      case 'ai-sdk':
        return [launch(name, 'ai-sdk', '67890')];
      case 'expiry':
        return [launch(name, 'langchain', '12345', 20_000)];
      case 'remember':
        return [launch(name, 'langchain', '12345', undefined, true)];
      case 'all':
        return [launch(name, 'langchain', '12345'), launch(name, 'ai-sdk', '67890')];
    }
  };

  const app = express();
  app.disable('x-powered-by');
  app.get('/', (_request, response) => {
    response.type('html').send(startPageHtml(scenarios));
  });
  app.use(
    '/hitl',
    createReviewRouter({
      manager,
      // Demo sign-in: the name typed on the start page (a cookie), or an x-reviewer header.
      authenticate: (request) => ({ id: reviewerOf(request).id, roles: ['admin'] }),
    }),
  );
  app.use('/hitl/decide', (request, response, next) => (decision.router ? decision.router(request, response, next) : next()));
  if (slack) {
    app.use(
      '/slack/actions',
      createSlackActionsRouter({
        manager,
        token: slack.token,
        signingSecret: slack.signingSecret,
        ...(slack.slackApiUrl ? { slackApiUrl: slack.slackApiUrl } : {}),
        // Demo: anyone in your workspace (SLACK_TEAM_ID, when set) may decide.
        resolveReviewer: (userId, teamId) =>
          slack.teamId === undefined || teamId === slack.teamId ? { id: `slack:${userId}`, roles: ['admin'] } : null,
      }),
    );
  }
  app.post('/demo/run', express.json({ limit: '4kb' }), (request, response) => {
    const name: unknown = request.body?.scenario ?? 'all';
    if (!isScenario(name)) {
      response.status(400).json({
        error: { code: 'invalid_input', message: `scenario ${JSON.stringify(name)} is not one of ${Object.keys(scenarios).join(', ')}` },
      });
      return;
    }
    response.status(202).json({ runs: start(name) });
  });
  app.get('/demo/runs', (_request, response) => {
    response.json({ runs: [...narrator.runs.values()].reverse() });
  });
  app.get('/demo/runs/:id', (request, response) => {
    const run = narrator.runs.get(request.params.id);
    if (!run) {
      response.status(404).json({ error: { code: 'not_found', message: `run '${request.params.id}' does not exist` } });
      return;
    }
    response.json({ run, crm: crms.get(run.id)?.snapshot() });
  });
  app.use((error: unknown, _request: express.Request, response: express.Response, next: express.NextFunction) => {
    if (response.headersSent) return next(error);
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    response.status(status).json({
      error: { code: status === 500 ? 'internal_error' : 'invalid_input', message: status === 500 ? 'internal error' : 'bad request' },
    });
  });

  // Express 5 hands a failed listen (EADDRINUSE...) to the callback.
  const server: Server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, (error) => (error ? reject(error) : resolve(listening)));
  }).catch(async (error: unknown) => {
    await webhook?.close({ deadlineMs: 0 });
    await manager.close();
    await store?.close();
    throw error;
  });
  const address = server.address() as AddressInfo;
  url = `http://${host}:${address.port}/`;
  decision.links = createDecisionLinks({
    secret: options.decisionLinkSecret ?? randomBytes(32).toString('base64url'),
    baseUrl: `${url}hitl/decide`,
  });
  decision.router = decision.links.router({ manager });
  if (scenario) start(scenario);

  return {
    url,
    dashboardUrl: `${url}hitl/`,
    app,
    manager,
    narrator,
    start,
    finished: (runId) => done.get(runId) ?? Promise.reject(new Error(`no run ${runId}`)),
    crmOf: (runId) => crms.get(runId),
    async close() {
      closing = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await webhook?.close({ deadlineMs: 1_000 });
      await manager.close();
      await Promise.all(done.values());
      narrator.close();
      await store?.close();
    },
  };
}

/** Cancels every pending request of the demo's agents (made by an earlier process); returns how many. */
async function cancelLeftovers(manager: Manager): Promise<number> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await manager.list({ status: 'pending', limit: 200, ...(cursor ? { cursor } : {}) });
    // The demo's agents put a tool call id (`<run id>:call-<n>`) in every request's metadata.
    ids.push(...page.items.filter((record) => typeof record.request.metadata?.toolCallId === 'string').map((record) => record.request.id));
    cursor = page.nextCursor;
  } while (cursor);
  let cancelled = 0;
  for (const id of ids) {
    try {
      await manager.cancel(id, 'the demo process that asked has stopped');
      cancelled++;
    } catch (error) {
      if (!HitlError.is(error, 'conflict')) throw error;
    }
  }
  return cancelled;
}
