// The reviewer REST API: router options, listing and reading requests, respond and its shortcuts with every 4xx, and 500/503 failures.
import { createManager, createMemoryStore, HitlError } from '@hitl/core';
import type { ApprovalRecord, ApprovalStore, InteractionRequest, Manager, ManagerOptions } from '@hitl/core';
import { createTestManager, nextEvent, type ManualClock } from '@hitl/core/testing';
import express, { type Request } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createReviewRouter, type ReviewRouterOptions } from './index.js';
import { listen, type RunningServer } from '@hitl/test-kit';

/** Reviewers identify themselves with the `x-reviewer` header; `x-roles` is a comma-separated list. */
function headerAuthenticate(httpRequest: Request) {
  const id = httpRequest.get('x-reviewer');
  if (!id) return null;
  return { id, roles: (httpRequest.get('x-roles') ?? '').split(',').filter(Boolean) };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Harness {
  manager: Manager;
  clock: ManualClock;
  server: RunningServer;
  http: ReturnType<typeof request>;
  submit(overrides?: Partial<InteractionRequest>): Promise<ApprovalRecord>;
}

async function setup(
  routerOptions: Partial<ReviewRouterOptions> = {},
  managerOptions: Omit<ManagerOptions, 'now' | 'scheduler'> = {},
): Promise<Harness> {
  const { manager, clock } = createTestManager({ timeoutMs: 60_000, ...managerOptions });
  const app = express();
  app.use('/hitl', createReviewRouter({ manager, authenticate: headerAuthenticate, ...routerOptions }));
  const server = await listen(app);
  cleanups.push(async () => {
    await server.close();
    await manager.close();
  });
  let count = 0;
  return {
    manager,
    clock,
    server,
    http: request(server.url),
    submit: (overrides = {}) =>
      manager.submit({
        toolName: 'delete_user',
        description: `Delete user ${++count}`,
        input: { user_id: String(count) },
        riskLevel: 'irreversible',
        confidence: 0.9,
        ...overrides,
      }),
  };
}

function expectError(response: request.Response, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof response.body.error.message).toBe('string');
  expect(response.body.error.message.length).toBeGreaterThan(0);
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(js|ts):\d+/);
}

describe('createReviewRouter options', () => {
  it('refuses to create a router without authenticate unless allowAnonymous is true', () => {
    const manager = createManager();
    cleanups.push(() => manager.close());
    const attempt = (options: Partial<ReviewRouterOptions>) => () => createReviewRouter({ manager, ...options });
    for (const options of [{}, { allowAnonymous: false }]) {
      expect(attempt(options)).toThrowError(HitlError);
      try {
        attempt(options)();
      } catch (error) {
        expect(HitlError.is(error, 'invalid_input')).toBe(true);
        expect((error as Error).message).toMatch(/options\.authenticate is required.*allowAnonymous: true/);
        expect(error).toMatchObject({ code: 'invalid_input', details: { field: 'options.authenticate' } });
      }
    }
    expect(typeof attempt({ allowAnonymous: true })()).toBe('function');
  });

  it('names the bad option and its value', () => {
    const manager = createManager();
    cleanups.push(() => manager.close());
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ heartbeatMs: 0 }, /options\.heartbeatMs 0 must be a positive/],
      [{ bodyLimit: 'lots' }, /options\.bodyLimit 'lots' must be/],
      [{ bodyLimit: -1 }, /options\.bodyLimit -1 must be/],
      [{ eventBufferSize: 1.5 }, /options\.eventBufferSize 1\.5 must be a positive integer/],
      [{ resumeWindowMs: -1 }, /options\.resumeWindowMs -1 must be a non-negative/],
      [{ authenticate: 'header' }, /options\.authenticate 'header' must be a function/],
      [{ authorize: true }, /options\.authorize boolean must be a function/],
      [{ dashboard: 'yes' }, /options\.dashboard 'yes' must be a boolean/],
      [{ manager: {} }, /options\.manager must be a Manager/],
      [
        { signOutUrl: 'javascript:alert(1)' },
        /options\.signOutUrl 'javascript:alert\(1\)' must be a path such as '\/logout' or an http\(s\) URL/,
      ],
      [{ signOutUrl: '//evil.example/logout' }, /options\.signOutUrl '\/\/evil\.example\/logout' must be a path .*write https:/],
      [{ signOutUrl: '/\\evil.example' }, /options\.signOutUrl '\/\\evil\.example' must be a path .*backslashes/],
      [{ signOutUrl: 'ftp://files.example/logout' }, /options\.signOutUrl 'ftp:\/\/files\.example\/logout' must be a path/],
      [{ signOutUrl: 'https://exa mple.com' }, /options\.signOutUrl 'https:\/\/exa mple\.com' must be a path/],
      [{ signOutUrl: 'https://[::1' }, /options\.signOutUrl 'https:\/\/\[::1' is not a valid URL/],
      [{ signOutUrl: '' }, /options\.signOutUrl '' must be a path/],
      [{ signOutUrl: 42 }, /options\.signOutUrl 42 must be a path/],
    ];
    for (const [options, message] of cases) {
      expect(() => createReviewRouter({ manager, authenticate: headerAuthenticate, ...options } as ReviewRouterOptions)).toThrowError(
        message,
      );
    }
  });

  it('accepts a path or an http(s) URL as signOutUrl, and refuses anything else as invalid_input naming options.signOutUrl', () => {
    const manager = createManager();
    cleanups.push(() => manager.close());
    const create = (signOutUrl: unknown) => () =>
      createReviewRouter({ manager, authenticate: headerAuthenticate, signOutUrl } as ReviewRouterOptions);
    for (const good of ['/logout', 'logout', '../oauth2/sign_out?rd=%2F', 'https://auth.example.com/logout', 'HTTP://intranet/logout'])
      expect(typeof create(good)()).toBe('function');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'mailto:a@example.com', '//evil.example', ' /logout', null, {}]) {
      expect(create(bad)).toThrowError(HitlError);
      try {
        create(bad)();
      } catch (error) {
        expect(error).toMatchObject({ code: 'invalid_input', details: { field: 'options.signOutUrl' } });
      }
    }
  });

  it('lets anonymous reviewers decide as "anonymous" when allowAnonymous is true', async () => {
    const { manager } = createTestManager();
    const app = express();
    app.use(createReviewRouter({ manager, allowAnonymous: true }));
    const server = await listen(app);
    cleanups.push(async () => {
      await server.close();
      await manager.close();
    });
    const record = await manager.submit({ toolName: 'send_email' });
    const response = await request(server.url).post(`/requests/${record.request.id}/approve`).set('content-type', 'application/json');
    expect(response.status).toBe(200);
    expect(response.body.response.respondedBy).toBe('anonymous');
  });
});

describe('GET /requests', () => {
  it('lists records newest first and pages with nextCursor', async () => {
    const { http, submit } = await setup();
    const first = await submit();
    const second = await submit();
    const third = await submit();
    const page1 = await http.get('/hitl/requests?limit=2').set('x-reviewer', 'alice');
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((record: ApprovalRecord) => record.request.id)).toEqual([third.request.id, second.request.id]);
    expect(typeof page1.body.nextCursor).toBe('string');
    const page2 = await http.get('/hitl/requests').query({ limit: 2, cursor: page1.body.nextCursor }).set('x-reviewer', 'alice');
    expect(page2.body.items.map((record: ApprovalRecord) => record.request.id)).toEqual([first.request.id]);
    expect(page2.body).not.toHaveProperty('nextCursor');
  });

  it('filters by status and toolName', async () => {
    const { http, submit, manager } = await setup();
    const decided = await submit();
    await manager.respond(decided.request.id, { decision: 'approve' });
    const pending = await submit();
    const other = await submit({ toolName: 'send_email' });
    const byStatus = await http.get('/hitl/requests?status=pending').set('x-reviewer', 'alice');
    expect(byStatus.body.items.map((record: ApprovalRecord) => record.request.id)).toEqual([other.request.id, pending.request.id]);
    const byTool = await http.get('/hitl/requests?status=pending&toolName=delete_user').set('x-reviewer', 'alice');
    expect(byTool.body.items.map((record: ApprovalRecord) => record.request.id)).toEqual([pending.request.id]);
  });

  it('filters by threadId, runId, requestedBy and creation time; records carry their context', async () => {
    const { http, submit } = await setup();
    const first = await submit({ threadId: 'chat-1', runId: 'turn-1', requestedBy: 'carol' });
    const second = await submit({ threadId: 'chat-1', runId: 'turn-2' });
    const third = await submit({ threadId: 'chat-2', runId: 'turn-3', requestedBy: 'carol' });
    const ids = async (query: string) =>
      (await http.get(`/hitl/requests?${query}`).set('x-reviewer', 'alice').expect(200)).body.items.map(
        (record: ApprovalRecord) => record.request.id,
      );
    expect(await ids('threadId=chat-1')).toEqual([second.request.id, first.request.id]);
    expect(await ids('runId=turn-3')).toEqual([third.request.id]);
    expect(await ids('requestedBy=carol&threadId=chat-1')).toEqual([first.request.id]);
    expect(await ids(`createdAfter=${encodeURIComponent(first.createdAt)}&threadId=chat-2`)).toEqual([third.request.id]);
    expect(await ids(`createdBefore=${encodeURIComponent(first.createdAt)}`)).toEqual([]);
    const one = await http.get(`/hitl/requests/${first.request.id}`).set('x-reviewer', 'alice').expect(200);
    expect(one.body.request).toMatchObject({ threadId: 'chat-1', runId: 'turn-1' });
  });

  it('answers 400 for bad query values, naming the parameter', async () => {
    const { http } = await setup();
    const cases: Array<[string, RegExp]> = [
      ['status=bogus', /status 'bogus' is not a request status/],
      ['limit=0', /limit '0' must be an integer from 1 to 1000/],
      ['limit=1001', /limit '1001'/],
      ['limit=ten', /limit 'ten'/],
      ['limit=-5', /limit '-5'/],
      ['limit=2.5', /limit '2.5'/],
      ['statsu=pending', /query parameter 'statsu' is not supported/],
      ['status=pending&status=approved', /'status' must be given once/],
      ['toolName=', /'toolName' must not be empty/],
      ['cursor=not-a-cursor', /cursor 'not-a-cursor'/],
      ['createdAfter=yesterday', /createdAfter 'yesterday' is not an ISO 8601 date/],
      ['createdBefore=2026-01-01T10:00', /createdBefore/],
      ['threadId=', /'threadId' must not be empty/],
      ['runId=a&runId=b', /'runId' must be given once/],
    ];
    for (const [query, message] of cases) {
      const response = await http.get(`/hitl/requests?${query}`).set('x-reviewer', 'alice');
      expectError(response, 400, 'invalid_input');
      expect(response.body.error.message).toMatch(message);
      // The field is data too: `{ error: { code, message, details: { field } } }`.
      expect(response.body.error.details, query).toMatchObject({ field: query.split('=')[0] });
    }
  });

  it('answers 401 without an identity', async () => {
    const { http } = await setup();
    expectError(await http.get('/hitl/requests'), 401, 'unauthorized');
  });

  it('hides records authorize refuses to show', async () => {
    const { http, submit } = await setup({
      authorize: (reviewer, record, action) =>
        action !== 'view' || record.request.toolName !== 'delete_user' || reviewer.roles?.includes('admin') === true,
    });
    await submit();
    const visible = await submit({ toolName: 'send_email' });
    const asBob = await http.get('/hitl/requests').set('x-reviewer', 'bob');
    expect(asBob.body.items.map((record: ApprovalRecord) => record.request.id)).toEqual([visible.request.id]);
    const asAdmin = await http.get('/hitl/requests').set({ 'x-reviewer': 'alice', 'x-roles': 'admin' });
    expect(asAdmin.body.items).toHaveLength(2);
  });

  it('never answers 500 to an arbitrary query string', async () => {
    const { http, submit } = await setup();
    await submit();
    const key = fc.constantFrom('status', 'toolName', 'limit', 'cursor', 'other', 'status[]', 'limit[a]');
    const value = fc.oneof(fc.string(), fc.constantFrom('pending', '1', '1000', 'm0', '%', '&', '=', '%00'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 4 }), async (pairs) => {
        const query = pairs.map(([name, text]) => `${encodeURIComponent(name)}=${encodeURIComponent(text)}`).join('&');
        const response = await http.get(`/hitl/requests?${query}`).set('x-reviewer', 'alice');
        expect([200, 400]).toContain(response.status);
        if (response.status === 400) expect(response.body.error.code).toBe('invalid_input');
        else expect(Array.isArray(response.body.items)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('GET /requests/:id', () => {
  it('returns the record with the policy evaluation', async () => {
    const { http, manager } = await setup({}, { policies: [{ name: 'destructive', toolPattern: 'delete_*', requireExplicit: true }] });
    const record = await manager.submit({ toolName: 'delete_user', input: { user_id: '7' } });
    const response = await http.get(`/hitl/requests/${record.request.id}`).set('x-reviewer', 'alice');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('pending');
    expect(response.body.request.input).toEqual({ user_id: '7' });
    expect(response.body.evaluation).toMatchObject({ outcome: 'review', policy: 'destructive' });
    expect(response.body.evaluation.reason).toMatch(/destructive/);
    expect(response.body.inputHash).toBe(record.inputHash);
  });

  it('answers 404 for an unknown id or one the reviewer may not view, 400 for an invalid one, 401 and 403', async () => {
    const { http, submit } = await setup({
      authorize: (reviewer, _record, action) => reviewer.id !== 'mallory' && (action === 'view' || reviewer.id !== 'viewer'),
    });
    const record = await submit();
    expectError(await http.get('/hitl/requests/hitl-unknown').set('x-reviewer', 'alice'), 404, 'not_found');
    expectError(await http.get('/hitl/requests/bad%20id!').set('x-reviewer', 'alice'), 400, 'invalid_input');
    expectError(await http.get(`/hitl/requests/${record.request.id}`), 401, 'unauthorized');
    // Not allowed to view: answered exactly as an unknown id, so existence does not leak.
    const hidden = await http.get(`/hitl/requests/${record.request.id}`).set('x-reviewer', 'mallory');
    expectError(hidden, 404, 'not_found');
    expect(hidden.body.error.message).toBe(`request '${record.request.id}' does not exist`);
    expectError(await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'mallory').send({}), 404, 'not_found');
    // Allowed to view but not to decide: 403.
    expect((await http.get(`/hitl/requests/${record.request.id}`).set('x-reviewer', 'viewer')).status).toBe(200);
    const refused = await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'viewer').send({});
    expectError(refused, 403, 'forbidden');
    expect(refused.body.error.message).toMatch(/reviewer 'viewer' may not approve/);
  });
});

describe('POST /requests/:id/respond and the shortcuts', () => {
  it('unblocks a requestInteraction waiting in the same process, with the reviewer as respondedBy', async () => {
    const { http, manager } = await setup();
    const created = nextEvent(manager, 'request-created');
    const waiting = manager.requestInteraction({ toolName: 'transfer_money', input: { amount: 100 }, riskLevel: 'irreversible' });
    const { record } = await created;
    const response = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'approve', feedback: 'looks right' });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('approved');
    await expect(waiting).resolves.toMatchObject({ decision: 'approve', feedback: 'looks right', respondedBy: 'alice' });
  });

  it('resolves modify with the edited input', async () => {
    const { http, manager } = await setup();
    const created = nextEvent(manager, 'request-created');
    const waiting = manager.requestInteraction({ toolName: 'transfer_money', input: { amount: 100 } });
    const { record } = await created;
    const response = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'modify', modified: { amount: 10 } });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('modified');
    await expect(waiting).resolves.toMatchObject({ decision: 'modify', modified: { amount: 10 }, respondedBy: 'alice' });
  });

  it('approves and rejects with the shortcuts; the body is optional but must be JSON', async () => {
    const { http, submit, manager } = await setup();
    const first = await submit();
    const approved = await http
      .post(`/hitl/requests/${first.request.id}/approve`)
      .set({ 'x-reviewer': 'alice', 'content-type': 'application/json' });
    expect(approved.status).toBe(200);
    expect(approved.body.response).toMatchObject({ decision: 'approve', respondedBy: 'alice' });

    const second = await submit();
    const rejected = await http
      .post(`/hitl/requests/${second.request.id}/reject`)
      .set('x-reviewer', 'bob')
      .send({ feedback: 'wrong user' });
    expect(rejected.status).toBe(200);
    expect((await manager.get(second.request.id))?.response).toMatchObject({
      decision: 'reject',
      feedback: 'wrong user',
      respondedBy: 'bob',
    });

    const third = await submit();
    const bad = await http.post(`/hitl/requests/${third.request.id}/approve`).set('x-reviewer', 'bob').send({ decision: 'reject' });
    expectError(bad, 400, 'invalid_input');
    expect(bad.body.error.message).toMatch(/body field 'decision' is not supported/);
    expect(bad.body.error.details).toEqual({ field: 'decision' });
  });

  it('answers 400 for bad bodies and leaves the request pending', async () => {
    const { http, submit, manager } = await setup();
    const record = await submit();
    const url = `/hitl/requests/${record.request.id}/respond`;
    const cases: Array<[unknown, RegExp, string]> = [
      [{ decision: 'maybe' }, /decision 'maybe' is not a decision/, 'decision'],
      [{ decision: 42 }, /decision 42 is not a decision/, 'decision'],
      [{}, /decision is required/, 'decision'],
      [{ decision: 'modify' }, /modified undefined is required when decision is 'modify'/, 'modified'],
      [{ decision: 'modify', modified: [1, 2] }, /modified an array must be a plain object/, 'modified'],
      [{ decision: 'modify', modified: 'x' }, /modified 'x' must be a plain object/, 'modified'],
      [{ decision: 'approve', modified: { a: 1 } }, /modified a object is only allowed when decision is 'modify'/, 'modified'],
      [{ decision: 'reject', feedback: 3 }, /feedback must be a string, got number/, 'feedback'],
      [{ decision: 'approve', respondedBy: 'ceo' }, /respondedBy cannot be set in the body/, 'respondedBy'],
      [{ decision: 'approve', extra: true }, /body field 'extra' is not supported/, 'extra'],
      [[{ decision: 'approve' }], /must be a JSON object/, 'body'],
    ];
    for (const [body, message, field] of cases) {
      const response = await http
        .post(url)
        .set('x-reviewer', 'alice')
        .send(body as object);
      expectError(response, 400, 'invalid_input');
      expect(response.body.error.message).toMatch(message);
      expect(response.body.error.details, JSON.stringify(body)).toMatchObject({ field });
    }
    for (const text of ['{"decision": "approve"', 'null', '"approve"', '{decision: approve}']) {
      const response = await http.post(url).set({ 'x-reviewer': 'alice', 'content-type': 'application/json' }).send(text);
      expectError(response, 400, 'invalid_input');
    }
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('answers 401 without an identity and leaves the request pending', async () => {
    const { http, submit, manager } = await setup();
    const record = await submit();
    expectError(await http.post(`/hitl/requests/${record.request.id}/respond`).send({ decision: 'approve' }), 401, 'unauthorized');
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('answers 403 when authorize refuses, per action', async () => {
    const { http, submit } = await setup({
      authorize: (reviewer, record, action) =>
        action === 'view' ||
        action === 'reject' ||
        record.request.riskLevel !== 'irreversible' ||
        reviewer.roles?.includes('admin') === true,
    });
    const record = await submit({ riskLevel: 'irreversible' });
    const refused = await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'bob').send({});
    expectError(refused, 403, 'forbidden');
    expect(refused.body.error.message).toMatch(/reviewer 'bob' may not approve/);
    const admin = await http
      .post(`/hitl/requests/${record.request.id}/approve`)
      .set({ 'x-reviewer': 'alice', 'x-roles': 'admin' })
      .send({});
    expect(admin.status).toBe(200);
    const other = await submit({ riskLevel: 'irreversible' });
    expect((await http.post(`/hitl/requests/${other.request.id}/reject`).set('x-reviewer', 'bob').send({})).status).toBe(200);
  });

  it('answers 403 when the reviewer made the request (self-approval)', async () => {
    const { http, submit, manager } = await setup();
    const record = await submit({ requestedBy: 'bob' });
    const response = await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'bob').send({});
    expectError(response, 403, 'forbidden');
    expect(response.body.error.message).toMatch(/who made request/);
    expect(response.body.error.details).toMatchObject({ field: 'respondedBy' });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    expect((await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'alice').send({})).status).toBe(200);
  });

  // An auth proxy that passes the user id percent-encoded (so any Unicode id fits in a header).
  const encodedUser = (httpRequest: Request) => {
    const id = httpRequest.get('x-user');
    return id ? { id: decodeURIComponent(id) } : null;
  };

  it.each(['Carol', 'CAROL', 'carol', '%20carol', encodeURIComponent('ｃａｒｏｌ'), encodeURIComponent('Ｃarol')])(
    "answers 403 when x-user %s decides carol's request (one person however spelled)",
    async (header) => {
      const { http, submit, manager } = await setup({ authenticate: encodedUser });
      const record = await submit({ requestedBy: 'carol' });
      for (const action of ['approve', 'reject']) {
        const response = await http.post(`/hitl/requests/${record.request.id}/${action}`).set('x-user', header).send({});
        expectError(response, 403, 'forbidden');
      }
      expect((await manager.get(record.request.id))?.status).toBe('pending');
      expect((await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-user', 'dave').send({})).status).toBe(200);
    },
  );

  it('answers 403 for NFD and NFC forms of the requester', async () => {
    const { http, submit } = await setup({ authenticate: encodedUser });
    const record = await submit({ requestedBy: 'Jos\u00e9' });
    expectError(
      await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-user', encodeURIComponent('jose\u0301')).send({}),
      403,
      'forbidden',
    );
  });

  it('answers 400 for a reviewer id hiding a zero-width character', async () => {
    const { http, submit, manager } = await setup({ authenticate: encodedUser });
    const record = await submit({ requestedBy: 'carol' });
    const response = await http
      .post(`/hitl/requests/${record.request.id}/approve`)
      .set('x-user', encodeURIComponent('carol\u200b'))
      .send({});
    expectError(response, 400, 'invalid_input');
    expect(response.body.error.message).toMatch(/U\+200B/);
    expect(response.body.error.details).toMatchObject({ field: 'respondedBy' });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
  });

  it('answers 400 naming the path when an edit does not fit the request schema, and records nothing', async () => {
    const { http, submit, manager } = await setup();
    const inputSchema = { type: 'object', properties: { user_id: { type: 'string' } }, required: ['user_id'] };
    const record = await submit({ inputSchema });
    const response = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'modify', modified: { user_id: 12345 } });
    expectError(response, 400, 'invalid_input');
    expect(response.body.error.message).toContain('modified/user_id must be string');
    expect(response.body.error.details).toEqual({ field: 'modified', path: 'modified/user_id' });
    expect((await manager.get(record.request.id))?.status).toBe('pending');
    const fixed = await http
      .post(`/hitl/requests/${record.request.id}/respond`)
      .set('x-reviewer', 'alice')
      .send({ decision: 'modify', modified: { user_id: '12345' } });
    expect(fixed.status).toBe(200);
    expect(fixed.body.status).toBe('modified');
  });

  it('answers 404 for an unknown id', async () => {
    const { http } = await setup();
    expectError(
      await http.post('/hitl/requests/hitl-nope/respond').set('x-reviewer', 'alice').send({ decision: 'approve' }),
      404,
      'not_found',
    );
  });

  it('answers 409 when the request is already decided', async () => {
    const { http, submit } = await setup();
    const record = await submit();
    expect((await http.post(`/hitl/requests/${record.request.id}/reject`).set('x-reviewer', 'alice').send({})).status).toBe(200);
    const again = await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'bob').send({});
    expectError(again, 409, 'conflict');
    expect(again.body.error.message).toMatch(/already rejected/);
    expect(again.body.error.details).toEqual({ ids: [record.request.id] });
  });

  it('answers 409 when the request has expired (manual clock)', async () => {
    const { http, submit, manager, clock } = await setup({}, { timeoutMs: 5_000 });
    const record = await submit();
    const expired = nextEvent(manager, 'request-expired');
    clock.advance(5_000);
    await expired;
    const response = await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'alice').send({});
    expectError(response, 409, 'conflict');
    expect(response.body.error.message).toMatch(/expired/);
    expect(response.body.error.details).toEqual({ ids: [record.request.id] });
  });

  it('answers 413 for a body over the limit (64 kB by default, configurable)', async () => {
    const { http, submit } = await setup();
    const record = await submit();
    const big = await http
      .post(`/hitl/requests/${record.request.id}/reject`)
      .set('x-reviewer', 'alice')
      .send({ feedback: 'x'.repeat(70 * 1024) });
    expectError(big, 413, 'payload_too_large');
    const fits = await http
      .post(`/hitl/requests/${record.request.id}/reject`)
      .set('x-reviewer', 'alice')
      .send({ feedback: 'x'.repeat(60 * 1024) });
    expect(fits.status).toBe(200);

    const small = await setup({ bodyLimit: 1024 });
    const other = await small.submit();
    expectError(
      await small.http
        .post(`/hitl/requests/${other.request.id}/reject`)
        .set('x-reviewer', 'alice')
        .send({ feedback: 'y'.repeat(2048) }),
      413,
      'payload_too_large',
    );
    expect((await small.manager.get(other.request.id))?.status).toBe('pending');
  });

  it('answers 415 to anything but application/json, so a cross-site form post cannot decide', async () => {
    const { http, submit, manager } = await setup();
    const record = await submit();
    const id = record.request.id;
    // What an HTML <form method="post"> on another site sends (the browser attaches the cookies).
    const form = await http.post(`/hitl/requests/${id}/approve`).set('x-reviewer', 'alice').type('form').send('decision=approve');
    expectError(form, 415, 'unsupported_media_type');
    expect(form.body.error.message).toMatch(/application\/x-www-form-urlencoded/);
    const formRespond = await http.post(`/hitl/requests/${id}/respond`).set('x-reviewer', 'alice').type('form').send('decision=approve');
    expectError(formRespond, 415, 'unsupported_media_type');
    const plain = await http
      .post(`/hitl/requests/${id}/respond`)
      .set({ 'x-reviewer': 'alice', 'content-type': 'text/plain' })
      .send('{"decision":"approve"}');
    expectError(plain, 415, 'unsupported_media_type');
    const multipart = await http.post(`/hitl/requests/${id}/approve`).set('x-reviewer', 'alice').field('decision', 'approve');
    expectError(multipart, 415, 'unsupported_media_type');
    const none = await http.post(`/hitl/requests/${id}/approve`).set('x-reviewer', 'alice');
    expectError(none, 415, 'unsupported_media_type');
    expect(none.body.error.message).toMatch(/none was sent/);
    const latin = await http
      .post(`/hitl/requests/${id}/approve`)
      .set({ 'x-reviewer': 'alice', 'content-type': 'application/json; charset=latin1' })
      .send('{}');
    expectError(latin, 415, 'unsupported_media_type');
    expect((await manager.get(id))?.status).toBe('pending');
    const json = await http
      .post(`/hitl/requests/${id}/approve`)
      .set({ 'x-reviewer': 'alice', 'content-type': 'application/json; charset=utf-8' })
      .send('{}');
    expect(json.status).toBe(200);
  });

  it('lets exactly one of 50 parallel decisions win; the other 49 get 409', async () => {
    const { server, submit, manager } = await setup();
    const record = await submit();
    const http = request(server.url);
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_unused, index) =>
        http
          .post(`/hitl/requests/${record.request.id}/respond`)
          .set('x-reviewer', `reviewer-${index}`)
          .send({ decision: index % 2 === 0 ? 'approve' : 'reject' }),
      ),
    );
    const winners = responses.filter((response) => response.status === 200);
    expect(winners).toHaveLength(1);
    expect(responses.filter((response) => response.status === 409 && response.body.error.code === 'conflict')).toHaveLength(49);
    const final = await manager.get(record.request.id);
    expect(final?.response?.respondedBy).toBe(winners[0]?.body.response.respondedBy);
  });

  it('a retry with the same Idempotency-Key gets the recorded decision, not a second one', async () => {
    const approvals: string[] = [];
    const { server, submit, manager } = await setup({}, { hooks: { onApprove: (record) => void approvals.push(record.request.id) } });
    const record = await submit();
    const http = request(server.url);
    const send = (key: string | undefined, reviewer = 'alice') => {
      const call = http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', reviewer);
      return (key === undefined ? call : call.set('idempotency-key', key)).send({});
    };
    const first = await send('click-7f3a');
    expect(first.status).toBe(200);
    const retry = await send('click-7f3a');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expectError(await send('click-other'), 409, 'conflict');
    expectError(await send(undefined), 409, 'conflict');
    expectError(await send('click-7f3a', 'bob'), 409, 'conflict');
    expectError(await send('x'.repeat(101)), 400, 'invalid_input');
    expect(approvals).toEqual([record.request.id]);
    expect((await manager.get(record.request.id))?.response?.respondedBy).toBe('alice');
  });

  it('keeps one reviewer\'s Idempotency-Key apart from another\'s even when ids and keys contain ":"', async () => {
    // 'a' + 'b:c' and 'a:b' + 'c' once made the same composite key, so bob's retry returned alice's decision.
    const { server, submit } = await setup();
    const record = await submit();
    const http = request(server.url);
    const send = (reviewer: string, key: string) =>
      http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', reviewer).set('idempotency-key', key).send({});
    expect((await send('a', 'b:c')).status).toBe(200);
    expectError(await send('a:b', 'c'), 409, 'conflict');
    expect((await send('a', 'b:c')).status).toBe(200);
  });

  it('never answers 500 to an arbitrary JSON body; only valid bodies decide', async () => {
    const { http, submit, manager } = await setup();
    const decision = fc.oneof(fc.constantFrom('approve', 'reject', 'modify'), fc.jsonValue());
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { decision, feedback: fc.oneof(fc.string(), fc.jsonValue()), modified: fc.jsonValue(), respondedBy: fc.string() },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const record = await submit();
        const response = await http
          .post(`/hitl/requests/${record.request.id}/respond`)
          .set({ 'x-reviewer': 'alice', 'content-type': 'application/json' })
          .send(JSON.stringify(payload));
        expect([200, 400]).toContain(response.status);
        const stored = await manager.get(record.request.id);
        if (response.status === 400) {
          expect(response.body.error.code).toBe('invalid_input');
          expect(stored?.status).toBe('pending');
        } else {
          const valid = payload as { decision: string; feedback?: unknown; modified?: unknown };
          expect(stored?.response).toMatchObject({ decision: valid.decision, respondedBy: 'alice' });
          expect(valid.feedback === undefined || typeof valid.feedback === 'string').toBe(true);
          expect(valid).not.toHaveProperty('respondedBy');
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('unexpected failures', () => {
  it('answers 500 with a generic message, no stack, and logs the error', async () => {
    const logger = { error: vi.fn() };
    const { http } = await setup({
      logger,
      authenticate: () => {
        throw new Error('database password is hunter2');
      },
    });
    const response = await http.get('/hitl/requests');
    expectError(response, 500, 'internal_error');
    expect(JSON.stringify(response.body)).not.toMatch(/hunter2|Error:/);
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(String(logger.error.mock.calls[0]?.[1])).toMatch(/hunter2/);
  });

  it('maps a HitlError thrown by authenticate to its status', async () => {
    const { http } = await setup({
      authenticate: () => {
        throw new HitlError('forbidden', 'your account is suspended');
      },
    });
    const response = await http.get('/hitl/requests');
    expectError(response, 403, 'forbidden');
    expect(response.body.error.message).toBe('your account is suspended');
  });

  it('answers the 401 or 403 of an http-errors-like error thrown by authenticate, not 400', async () => {
    const httpError = (status: number, message: string, field: 'status' | 'statusCode') =>
      Object.assign(new Error(message), { [field]: status, expose: true });
    for (const [status, field, code] of [
      [401, 'status', 'unauthorized'],
      [403, 'status', 'forbidden'],
      [401, 'statusCode', 'unauthorized'],
      [403, 'statusCode', 'forbidden'],
    ] as const) {
      const { http } = await setup({
        authenticate: () => {
          throw httpError(status, 'session expired', field);
        },
      });
      const response = await http.get('/hitl/requests');
      expectError(response, status, code);
      expect(response.body.error.message).toMatch(/session expired/);
    }
  });

  it('answers 401, never 500, when authenticate returns false, an empty string, 0 or null', async () => {
    for (const answer of [false, '', 0, null, undefined]) {
      const logger = { error: vi.fn() };
      const { http } = await setup({ logger, authenticate: () => answer as unknown as null });
      expectError(await http.get('/hitl/requests'), 401, 'unauthorized');
      expect(logger.error).not.toHaveBeenCalled();
    }
  });

  it('answers 500 when authenticate returns a reviewer without an id', async () => {
    const logger = { error: vi.fn() };
    const { http } = await setup({ logger, authenticate: () => ({ id: '' }) });
    expectError(await http.get('/hitl/requests'), 500, 'internal_error');
  });

  it('answers 503 when the store is unavailable', async () => {
    const memory = createMemoryStore();
    let failing = false;
    const store: ApprovalStore = {
      ...memory,
      get: (id) => (failing ? Promise.reject(new Error('connection refused')) : memory.get(id)),
      list: (query) => (failing ? Promise.reject(new Error('connection refused')) : memory.list(query)),
    };
    const { http, submit } = await setup({}, { store });
    const record = await submit();
    failing = true;
    expectError(await http.get('/hitl/requests').set('x-reviewer', 'alice'), 503, 'store_unavailable');
    expectError(
      await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'alice').send({}),
      503,
      'store_unavailable',
    );
  });

  it('answers 503 once the manager is closed', async () => {
    const { http, submit, manager } = await setup();
    const record = await submit();
    await manager.close();
    expectError(await http.post(`/hitl/requests/${record.request.id}/approve`).set('x-reviewer', 'alice').send({}), 503, 'cancelled');
  });
});
