// Runs in a worker thread: an Express app on 127.0.0.1, either the hitl review router over a memory
// store holding `count` records, or a bare JSON handler on the same routes (the baseline).
import { createManager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

export interface ReviewServerData {
  mode: 'hitl' | 'bare';
  /** Pending requests to create, with ids `bench-0` … */
  count: number;
}

const { mode, count } = workerData as ReviewServerData;
const app = express();
if (mode === 'bare') {
  app.post('/hitl/requests/:id/respond', express.json({ limit: '64kb' }), (request, response) => {
    response.json({ request: { id: request.params.id }, status: 'approved', response: { decision: request.body?.decision } });
  });
} else {
  const manager = createManager({ timeoutMs: Infinity, logger: { warn() {}, error() {} } });
  app.use('/hitl', createReviewRouter({ manager, authenticate: (request) => ({ id: request.get('x-reviewer') ?? 'bench-reviewer' }) }));
  for (let index = 0; index < count; index++) {
    await manager.submit({
      id: `bench-${index}`,
      toolName: index % 1000 === 0 ? 'rare_tool' : 'delete_user',
      description: `Delete inactive user ${index}`,
      input: { user_id: String(index), reason: 'inactive for 3 years' },
      riskLevel: 'irreversible',
      confidence: 0.8,
    });
  }
}
const server = app.listen(0, '127.0.0.1', () => {
  parentPort?.postMessage({ port: (server.address() as AddressInfo).port });
});
parentPort?.on('message', (message: unknown) => {
  if (message === 'stop') server.close(() => process.exit(0));
});
