// Runs in a worker thread: a webhook receiver on 127.0.0.1 that reads each body and answers 204.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort } from 'node:worker_threads';

let received = 0;
const server = createServer((request, response) => {
  request.on('data', () => undefined);
  request.on('end', () => {
    received++;
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => parentPort?.postMessage({ port: (server.address() as AddressInfo).port }));
parentPort?.on('message', (message: unknown) => {
  if (message === 'count') parentPort?.postMessage({ received });
  if (message === 'stop') server.close(() => process.exit(0));
});
