// The grant routes and bulk respond: respond with remember, POST /requests/respond all or nothing, /grants CRUD and authorizeGrant.
import type { ApprovalRecord, Grant, InteractionRequest, Manager } from '@hitl/core';
import { createTestManager } from '@hitl/core/testing';
import express, { type Request } from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createReviewRouter, type ReviewRouterOptions } from './index.js';
import { listen, openEventStream } from '@hitl/test-kit';

/** The reviewer is the `x-reviewer` header; 'root' is the one admin. */
const reviewerOf = (httpRequest: Request) => {
  const id = httpRequest.get('x-reviewer');
  return id ? { id, roles: id === 'root' ? ['admin'] : [] } : null;
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(routerOptions: Partial<ReviewRouterOptions> = {}) {
  const { manager } = createTestManager({ timeoutMs: 60_000 });
  manager.addPolicy({ name: 'email', toolPattern: 'send_email', requireExplicit: true });
  const app = express();
  app.use('/hitl', createReviewRouter({ manager, authenticate: reviewerOf, dashboard: false, ...routerOptions }));
  const server = await listen(app);
  cleanups.push(async () => {
    await server.close();
    await manager.close();
  });
  const submit = (overrides: Partial<InteractionRequest> = {}): Promise<ApprovalRecord> =>
    manager.submit({
      toolName: 'send_email',
      input: { to: 'bob@example.com' },
      riskLevel: 'data_modification',
      threadId: 'thread-a',
      ...overrides,
    });
  return { manager: manager as Manager, url: server.url, http: request(server.url), submit };
}

describe('POST /requests/:id/respond with remember', () => {
  it('decides, makes the grant, and names it in response.grantId; the next call in the thread runs', async () => {
    const { http, submit } = await setup();
    const first = await submit();
    const answer = await http
      .post(`/hitl/requests/${first.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'approve', remember: { scope: 'thread', maxUses: 10 } });
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('approved');
    const grantId = answer.body.response.grantId as string;
    expect(grantId).toMatch(/^grant-/);
    const next = await submit();
    expect(next.status).toBe('approved');
    expect(next.evaluation.grant).toBe(grantId);
    const other = await submit({ threadId: 'thread-b' });
    expect(other.status).toBe('pending');
  });

  it('needs the grant action as well as the decision action', async () => {
    const { http, submit, manager } = await setup({ authorize: (_reviewer, _record, action) => action !== 'grant' });
    const record = await submit();
    const refused = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'approve', remember: { scope: 'thread' } });
    expect(refused.status).toBe(403);
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    const plain = await http.post(`/hitl/requests/${record.request.id}/respond`).set('x-reviewer', 'alice').send({ decision: 'approve' });
    expect(plain.status).toBe(200);
  });

  it('answers 400 for a scope the request lacks and for unknown remember fields', async () => {
    const { http, submit } = await setup();
    const record = await submit({ threadId: undefined });
    const noThread = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'approve', remember: { scope: 'thread' } });
    expect([noThread.status, noThread.body.error.code]).toEqual([400, 'invalid_input']);
    const odd = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'approve', remember: { scope: 'global', forever: true } });
    expect([odd.status, odd.body.error.code]).toEqual([400, 'invalid_input']);
  });
});

describe('POST /requests/respond', () => {
  it('decides every pending request of a run: 200 { items }', async () => {
    const { http, submit } = await setup();
    await Promise.all([submit({ runId: 'run-1' }), submit({ runId: 'run-1' }), submit({ runId: 'run-2' })]);
    const answer = await http
      .post('/hitl/requests/respond')
      .set('x-reviewer', 'alice')
      .send({ runId: 'run-1', decision: 'approve', feedback: 'fine' });
    expect(answer.status).toBe(200);
    expect(answer.body.items.map((item: ApprovalRecord) => [item.request.runId, item.status, item.response?.respondedBy])).toEqual([
      ['run-1', 'approved', 'alice'],
      ['run-1', 'approved', 'alice'],
    ]);
  });

  it('409 names the ids that are no longer pending, and decides nothing', async () => {
    const { http, submit, manager } = await setup();
    const [a, b] = await Promise.all([submit(), submit()]);
    await manager.respond(b.request.id, { decision: 'reject', respondedBy: 'bob' });
    const answer = await http
      .post('/hitl/requests/respond')
      .set('x-reviewer', 'alice')
      .send({ ids: [a.request.id, b.request.id], decision: 'approve' });
    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: 'conflict', ids: [b.request.id] });
    expect((await manager.get(a.request.id))?.status).toBe('pending');
  });

  it('403 names the ids authorize refuses, and decides nothing', async () => {
    const { http, submit, manager } = await setup({
      authorize: (_reviewer, record, action) => action === 'view' || record.request.runId !== 'secret',
      authorizeGrant: () => true,
    });
    const [open, secret] = await Promise.all([submit(), submit({ runId: 'secret' })]);
    const answer = await http
      .post('/hitl/requests/respond')
      .set('x-reviewer', 'alice')
      .send({ ids: [open.request.id, secret.request.id], decision: 'reject' });
    expect(answer.status).toBe(403);
    expect(answer.body.error.ids).toEqual([secret.request.id]);
    expect((await manager.get(open.request.id))?.status).toBe('pending');
  });

  it('an id the reviewer may not view is answered as unknown: 404 naming it, nothing decided', async () => {
    const { http, submit, manager } = await setup({
      authorize: (_reviewer, record) => record.request.runId !== 'hidden',
      authorizeGrant: () => true,
    });
    const [open, hidden] = await Promise.all([submit(), submit({ runId: 'hidden' })]);
    const answer = await http
      .post('/hitl/requests/respond')
      .set('x-reviewer', 'alice')
      .send({ ids: [open.request.id, hidden.request.id], decision: 'approve' });
    expect([answer.status, answer.body.error.code, answer.body.error.ids]).toEqual([404, 'not_found', [hidden.request.id]]);
    expect((await manager.get(open.request.id))?.status).toBe('pending');
  });

  it('400 for a body with two targets, a modify, or too many ids', async () => {
    const { http } = await setup();
    const post = (body: object) => http.post('/hitl/requests/respond').set('x-reviewer', 'alice').send(body);
    expect((await post({ runId: 'r', threadId: 't', decision: 'approve' })).status).toBe(400);
    expect((await post({ runId: 'r', decision: 'modify' })).status).toBe(400);
    expect((await post({ ids: Array.from({ length: 501 }, (_, index) => `id-${index}`), decision: 'approve' })).status).toBe(400);
  });
});

describe('the grant routes', () => {
  it('POST /grants creates (201), GET /grants lists, DELETE /grants/:id revokes (200), 404 for an unknown id', async () => {
    const { http, manager } = await setup();
    const created = await http
      .post('/hitl/grants')
      .set('x-reviewer', 'alice')
      .send({ effect: 'approve', toolPattern: 'send_*', scope: { threadId: 't-1' }, ttlMs: 60_000, reason: 'trusted' });
    expect(created.status).toBe(201);
    const grant = created.body as Grant;
    expect(grant).toMatchObject({
      effect: 'approve',
      toolPattern: 'send_*',
      scope: { threadId: 't-1' },
      grantedBy: 'alice',
      uses: 0,
      reason: 'trusted',
    });
    const listed = await http.get('/hitl/grants?active=true&tool=send_email&threadId=t-1').set('x-reviewer', 'bob');
    expect(listed.body.items.map((item: Grant) => item.id)).toEqual([grant.id]);
    expect((await http.get('/hitl/grants?tool=get_user').set('x-reviewer', 'bob')).body.items).toEqual([]);
    const revoked = await http.delete(`/hitl/grants/${grant.id}`).set('x-reviewer', 'bob');
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: grant.id, revokedBy: 'bob' });
    expect((await manager.listGrants({ active: true })).items).toEqual([]);
    expect((await http.get('/hitl/grants?active=false').set('x-reviewer', 'bob')).body.items).toHaveLength(1);
    const unknown = await http.delete('/hitl/grants/grant-nope').set('x-reviewer', 'bob');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  });

  it('refuses grantedBy in the body, bad values, and bad queries with 400', async () => {
    const { http } = await setup();
    const post = (body: object) => http.post('/hitl/grants').set('x-reviewer', 'alice').send(body);
    expect((await post({ effect: 'approve', toolPattern: 'x', grantedBy: 'mallory' })).status).toBe(400);
    expect((await post({ effect: 'approve', toolPattern: 'x', maxUses: 0 })).status).toBe(400);
    expect((await post({ effect: 'approve', toolPattern: '@(x)' })).status).toBe(400);
    expect((await post({ toolPattern: 'x' })).status).toBe(400);
    expect((await http.get('/hitl/grants?active=yes').set('x-reviewer', 'alice')).status).toBe(400);
  });

  it('fails closed: with authorize and no authorizeGrant the grant routes answer 403', async () => {
    const { http } = await setup({ authorize: () => true });
    expect((await http.get('/hitl/grants').set('x-reviewer', 'alice')).status).toBe(403);
    expect((await http.post('/hitl/grants').set('x-reviewer', 'alice').send({ effect: 'approve', toolPattern: 'x' })).status).toBe(403);
  });

  it('authorizeGrant decides who may create, see and revoke grants', async () => {
    const { http, manager } = await setup({
      authorizeGrant: (reviewer, _grant, action) => action === 'view' || (reviewer.roles ?? []).includes('admin'),
    });
    expect((await http.post('/hitl/grants').set('x-reviewer', 'alice').send({ effect: 'deny', toolPattern: 'drop_*' })).status).toBe(403);
    const created = await http.post('/hitl/grants').set('x-reviewer', 'root').send({ effect: 'deny', toolPattern: 'drop_*' });
    expect(created.status).toBe(201);
    expect((await http.delete(`/hitl/grants/${created.body.id}`).set('x-reviewer', 'alice')).status).toBe(403);
    expect((await manager.listGrants({ active: true })).items).toHaveLength(1);
  });

  it('GET /events streams grant-created and grant-revoked with the grant', async () => {
    const { url, manager } = await setup();
    const stream = await openEventStream(`${url}/hitl/events`, { 'x-reviewer': 'alice' });
    cleanups.push(async () => stream.close());
    await stream.next((frame) => frame.event === 'ready');
    const grant = await manager.grant({ effect: 'approve', toolPattern: 'send_email', grantedBy: 'alice' });
    const created = await stream.next((frame) => frame.event === 'grant-created');
    expect(JSON.parse(created.data ?? '{}')).toMatchObject({ type: 'grant-created', grant: { id: grant.id } });
    await manager.revokeGrant(grant.id, { revokedBy: 'alice' });
    const revoked = await stream.next((frame) => frame.event === 'grant-revoked');
    expect(JSON.parse(revoked.data ?? '{}')).toMatchObject({ type: 'grant-revoked', grant: { id: grant.id, revokedBy: 'alice' } });
  });
});
