// The outbox crash test's parts: a webhook receiver on 127.0.0.1 that verifies and dedupes what it
// gets, and manager child processes that can be SIGKILLed and restarted.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { verifyWebhook, type WebhookEvent } from '@hitl/notifier-webhook';
import { databaseUrl } from '@hitl/test-kit/postgres';

/** What the receiver got: each event once by its webhook-id, and how many posts in all. */
export interface CrashReceiver {
  url: string;
  /** `type:requestId` of every verified event. */
  seen: Set<string>;
  /** webhook-ids seen (deduplication key). */
  ids: Set<string>;
  posts: number;
  refused: number;
  close(): Promise<void>;
}

export async function startCrashReceiver(secret: string): Promise<CrashReceiver> {
  const seen = new Set<string>();
  const ids = new Set<string>();
  const state = { posts: 0, refused: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.posts += 1;
      try {
        const event = verifyWebhook<WebhookEvent>({
          secret,
          headers: request.headers as Record<string, string>,
          rawBody: Buffer.concat(chunks),
        });
        ids.add(String(request.headers['webhook-id']));
        seen.add(`${event.type}:${event.data.id}`);
        response.writeHead(204).end();
      } catch {
        state.refused += 1;
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    seen,
    ids,
    get posts() {
      return state.posts;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Reply = { seq: number; ok: boolean; code?: string; message?: string };

/** A manager child process and the operations it was asked to do. */
export interface CrashInstance {
  name: string;
  child: ChildProcess;
  /** Sends an operation; resolves with its reply, or `{ ok: false, code: 'killed' }` when the process died first. */
  call(message: { op: 'submit' | 'respond' | 'cancel'; id: string; decision?: string }): Promise<Reply>;
  kill(): Promise<void>;
}

const script = fileURLToPath(new URL('./outbox-crash-instance.mjs', import.meta.url));

/** Forks one instance; resolves once its store has migrated. */
export async function startCrashInstance(
  name: string,
  env: { schema: string; table: string; receiver: string; secret: string },
): Promise<CrashInstance> {
  const child = fork(script, [], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      CRASH_SCHEMA: env.schema,
      CRASH_TABLE: env.table,
      CRASH_RECEIVER: env.receiver,
      CRASH_SECRET: env.secret,
      CRASH_NAME: name,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  let seq = 0;
  const waiting = new Map<number, (reply: Reply) => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const [key, resolve] of waiting) resolve({ seq: key, ok: false, code: 'killed' });
    waiting.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: { ready?: boolean }) => {
      if (!message.ready) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    void exited.then(() => reject(new Error(`instance ${name} exited before it was ready`)));
  });
  child.on('message', (message: Reply) => {
    const resolve = waiting.get(message.seq);
    waiting.delete(message.seq);
    resolve?.(message);
  });
  return {
    name,
    child,
    call(message) {
      const key = ++seq;
      if (child.exitCode !== null || child.signalCode !== null || !child.connected)
        return Promise.resolve({ seq: key, ok: false, code: 'killed' });
      return new Promise<Reply>((resolve) => {
        waiting.set(key, resolve);
        child.send({ ...message, seq: key }, (error) => {
          if (error && waiting.delete(key)) resolve({ seq: key, ok: false, code: 'killed' });
        });
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
