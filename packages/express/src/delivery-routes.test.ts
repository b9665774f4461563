// The outbox routes: GET /deliveries lists a dead delivery and redeliver sends it again; bad input, 403, no outbox.
import { createManager, type ApprovalStore, type Manager, type Notifier } from '@hitl/core';
import { createMemoryStore } from '@hitl/core';
import express, { type Request } from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createReviewRouter, type ReviewRouterOptions } from './index.js';
import { listen, waitUntil } from '@hitl/test-kit';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const authenticate = (httpRequest: Request) => {
  const id = httpRequest.get('x-reviewer');
  return id ? { id } : null;
};

/** A notifier whose receiver is down until `up` is set. */
function flakyNotifier() {
  const state = { up: false, delivered: [] as string[] };
  const notifier: Notifier = {
    name: 'pager',
    events: ['request.created'],
    async notify() {},
    async deliver(message) {
      if (!state.up) throw new Error('503 from the pager');
      state.delivered.push(message.id);
    },
  };
  return { notifier, state };
}

async function setup(routerOptions: Partial<ReviewRouterOptions> = {}, store: ApprovalStore = createMemoryStore()) {
  const { notifier, state } = flakyNotifier();
  const manager: Manager = createManager({
    store,
    notifiers: [notifier],
    policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }],
    outbox: { maxAttempts: 1 },
    logger: { warn() {}, error() {} },
  });
  const app = express();
  app.use('/hitl', createReviewRouter({ manager, authenticate, ...routerOptions }));
  const server = await listen(app);
  cleanups.push(async () => {
    await server.close();
    await manager.close();
  });
  return { manager, state, http: request(server.url) };
}

describe('GET /deliveries and POST /deliveries/:id/redeliver', () => {
  it('lists a dead delivery and sends it again on redeliver', async () => {
    const { manager, state, http } = await setup();
    const record = await manager.submit({ toolName: 'delete_user', input: { user_id: '1' } });
    const id = `${record.request.id}:request.created:pager`;
    await waitUntil(async () => (await manager.listDeliveries({ state: 'dead' })).items.length === 1, { what: 'the dead delivery' });

    const dead = await http.get('/hitl/deliveries?state=dead').set('x-reviewer', 'ops');
    expect(dead.status).toBe(200);
    expect(dead.body.items).toMatchObject([{ id, state: 'dead', attempts: 1, lastError: expect.stringContaining('503 from the pager') }]);

    state.up = true;
    const redelivered = await http.post(`/hitl/deliveries/${encodeURIComponent(id)}/redeliver`).set('x-reviewer', 'ops');
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toMatchObject({ id, state: 'pending', attempts: 0 });
    await waitUntil(() => state.delivered.includes(id), { what: 'the redelivery' });
    const done = await http.get(`/hitl/deliveries?state=done&requestId=${record.request.id}`).set('x-reviewer', 'ops');
    expect(done.body.items.map((job: { id: string }) => job.id)).toEqual([id]);
  });

  it('answers bad input with 4xx JSON', async () => {
    const { http } = await setup();
    const badState = await http.get('/hitl/deliveries?state=lost').set('x-reviewer', 'ops');
    expect(badState.status).toBe(400);
    expect(badState.body.error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining("state 'lost'") });
    expect((await http.get('/hitl/deliveries?limit=0').set('x-reviewer', 'ops')).status).toBe(400);
    expect((await http.get('/hitl/deliveries?color=red').set('x-reviewer', 'ops')).status).toBe(400);
    expect((await http.get('/hitl/deliveries?cursor=zzz').set('x-reviewer', 'ops')).status).toBe(400);
    const unknown = await http.post('/hitl/deliveries/nothing-here/redeliver').set('x-reviewer', 'ops');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
    expect((await http.get('/hitl/deliveries')).status).toBe(401);
  });

  it('is refused with 403 when the router has authorize and manageDeliveries does not allow the reviewer', async () => {
    const { http } = await setup({ authorize: () => true, manageDeliveries: (reviewer) => reviewer.id === 'ops' });
    expect((await http.get('/hitl/deliveries').set('x-reviewer', 'alice')).status).toBe(403);
    expect((await http.get('/hitl/deliveries').set('x-reviewer', 'ops')).status).toBe(200);
    const { http: strict } = await setup({ authorize: () => true });
    const refused = await strict.get('/hitl/deliveries').set('x-reviewer', 'ops');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
  });

  it('answers 400 when the store has no outbox', async () => {
    const memory = createMemoryStore();
    const plain: ApprovalStore = {
      create: (record) => memory.create(record),
      get: (id) => memory.get(id),
      list: (query) => memory.list(query),
      decide: (id, status, patch) => memory.decide(id, status, patch),
      subscribe: (listener) => memory.subscribe(listener),
    };
    const { http } = await setup({}, plain);
    const answer = await http.get('/hitl/deliveries').set('x-reviewer', 'ops');
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('no outbox');
  });
});
