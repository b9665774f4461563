// Servers in worker threads for the bench rows, so the load and the server do not share one event loop.
import { Worker } from 'node:worker_threads';

/** A server running in a worker thread, so load and server do not share one event loop. */
export interface WorkerServer {
  port: number;
  worker: Worker;
  request<T>(message: unknown): Promise<T>;
  stop(): Promise<void>;
}

export async function startWorkerServer(file: string, workerData: unknown): Promise<WorkerServer> {
  const worker = new Worker(new URL(`./servers/${file}`, import.meta.url), { workerData });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { port: number }) => resolve(message.port));
    worker.once('error', reject);
  });
  return {
    port,
    worker,
    request: <T>(message: unknown) =>
      new Promise<T>((resolve) => {
        worker.once('message', (reply: T) => resolve(reply));
        worker.postMessage(message);
      }),
    stop: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      await exited;
    },
  };
}
