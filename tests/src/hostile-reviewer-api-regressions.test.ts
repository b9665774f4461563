// Reviewer API regressions, each a defect this suite found and that is fixed: a deeply nested
// decision answered 500 (stack overflow while describing it); a one-byte body declared as UTF-16
// decoded to {} and approved the request.
import { createManager, type Manager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '@hitl/test-kit';
import { clientErrorProblem, rawRequest } from './hostile-support.js';

let manager: Manager;
let server: RunningServer;
const unexpectedErrors: unknown[][] = [];

beforeAll(async () => {
  manager = createManager({ timeoutMs: 3_600_000 });
  const app = express();
  app.use(
    '/hitl',
    createReviewRouter({
      manager,
      authenticate: (request) => (request.get('x-reviewer') === 'alice' ? { id: 'alice' } : null),
      resumeWindowMs: 0,
      logger: { error: (...args: unknown[]) => unexpectedErrors.push(args) },
    }),
  );
  server = await listen(app);
  await manager.submit({ id: 'victim', toolName: 'delete_user', input: { user_id: '1' }, riskLevel: 'irreversible' });
});

afterAll(async () => {
  await server?.close();
  await manager?.close();
});

describe('reviewer API: cases blocked by open defects', () => {
  // Defect 1 (fixed): the respond route builds its error message with JSON.stringify(body.decision), which
  // overflows the stack for a decision nested a few thousand levels deep: 500 instead of 400.
  it('a decision nested 10,000 levels deep is a 400, not a 500 (and depths 1 to 10,000, 100 runs)', async () => {
    const send = (nested: string) =>
      rawRequest(server.port, {
        method: 'POST',
        path: '/hitl/requests/victim/respond',
        headers: { 'x-reviewer': 'alice', 'content-type': 'application/json' },
        body: `{"decision":${nested}}`,
      });
    for (const nested of ['['.repeat(10_000) + ']'.repeat(10_000), '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)]) {
      const response = await send(nested);
      expect(clientErrorProblem(response)).toBeUndefined();
      expect(response.status).toBe(400);
    }
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000 }), async (depth) => {
        const response = await send('['.repeat(depth) + ']'.repeat(depth));
        expect(clientErrorProblem(response)).toBeUndefined();
      }),
      { numRuns: 100 },
    );
    expect(unexpectedErrors).toEqual([]);
    expect((await manager.get('victim'))?.status).toBe('pending');
  });

  // Defect 2 (fixed): with `charset=utf-16` (or utf-16le/be, utf-32) a body whose bytes decode to no
  // character at all ('{', '"', 'x': one byte, half a UTF-16 code unit) is read as an empty body,
  // i.e. `{}`, so a malformed body approves or rejects the request.
  it('a non-empty body that is not JSON is refused whatever UTF charset is declared: nothing decided', async () => {
    for (const charset of ['utf-16', 'utf-16le', 'utf-16be', 'utf-32']) {
      for (const route of ['approve', 'reject'] as const) {
        for (const body of ['{', '"', 'x', '{"']) {
          const response = await rawRequest(server.port, {
            method: 'POST',
            path: `/hitl/requests/victim/${route}`,
            headers: { 'x-reviewer': 'alice', 'content-type': `application/json; charset=${charset}` },
            body,
          });
          expect({ charset, route, body, status: response.status }).toMatchObject({
            status: expect.toSatisfy((status: number) => status === 400 || status === 415),
          });
          expect(clientErrorProblem(response)).toBeUndefined();
          expect((await manager.get('victim'))?.status).toBe('pending');
        }
      }
    }
  });
});
