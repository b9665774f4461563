// The authorization matrix of the reviewer API, with an `authorize` that scopes by tenant and role:
// a reviewer sees and decides only their own tenant's requests (`metadata.tenant`), and only an
// `admin` may decide an irreversible one. Every caller that must be refused is refused on every
// route (GET one, respond with each decision, approve, reject, the list, the event stream), and
// after the whole matrix nothing was decided.
//
// Another tenant's request answers 404, exactly as an unknown id does: a reviewer who may not view a
// request cannot tell that it exists (this suite first found 403 there, which leaked which ids
// exist; the router now hides them). Refused decisions on a request one may view stay 403.
import { createManager, HitlError, type ApprovalRecord, type Manager } from '@hitl/core';
import { createReviewRouter, type ReviewAction } from '@hitl/express';
import express, { type Request } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, openEventStream, type RunningServer } from '@hitl/test-kit';
import { clientErrorProblem, frameRequestId, rawRequest } from './hostile-support.js';

interface TenantReviewer {
  id: string;
  roles: readonly string[];
  tenant: string;
}

/** The identity provider: bearer tokens to reviewers. `tok-disabled` is a suspended account. */
const directory: Readonly<Record<string, TenantReviewer>> = {
  'tok-alice': { id: 'alice', roles: ['admin'], tenant: 'acme' },
  'tok-bob': { id: 'bob', roles: ['reviewer'], tenant: 'acme' },
  'tok-carol': { id: 'carol', roles: ['admin'], tenant: 'acme' },
  'tok-eve': { id: 'eve', roles: ['admin'], tenant: 'globex' },
};

function authenticate(request: Request): TenantReviewer | null {
  const match = /^Bearer ([A-Za-z0-9-]+)$/.exec(request.get('authorization') ?? '');
  if (!match) return null;
  if (match[1] === 'tok-disabled') throw new HitlError('forbidden', 'this account is suspended');
  return directory[match[1] as string] ?? null;
}

function authorize(reviewer: TenantReviewer, record: ApprovalRecord, action: ReviewAction): boolean {
  if (record.request.metadata?.tenant !== reviewer.tenant) return false;
  if (action === 'view') return true;
  if (record.request.riskLevel === 'irreversible') return reviewer.roles.includes('admin');
  return reviewer.roles.includes('admin') || reviewer.roles.includes('reviewer');
}

let manager: Manager;
let server: RunningServer;
let decisionsSeen: string[];
const authorizeCalls: string[] = [];

beforeAll(async () => {
  manager = createManager({ timeoutMs: 3_600_000 });
  const app = express();
  app.use(
    '/hitl',
    createReviewRouter<TenantReviewer>({
      manager,
      authenticate,
      authorize: (reviewer, record, action) => {
        authorizeCalls.push(`${reviewer.id}:${action}:${record.request.id}`);
        return authorize(reviewer, record, action);
      },
      resumeWindowMs: 0,
      heartbeatMs: 3_600_000,
      logger: { error: () => undefined },
    }),
  );
  server = await listen(app);
  // acme: two irreversible requests; carol asked for the first one herself.
  await manager.submit({
    id: 'acme-delete',
    toolName: 'delete_user',
    input: { user_id: '7' },
    riskLevel: 'irreversible',
    requestedBy: 'carol',
    metadata: { tenant: 'acme' },
  });
  await manager.submit({
    id: 'acme-wire',
    toolName: 'transfer_funds',
    input: { amount: 10_000 },
    riskLevel: 'irreversible',
    requestedBy: 'dave',
    metadata: { tenant: 'acme' },
  });
  // globex: eve's tenant.
  await manager.submit({
    id: 'globex-drop',
    toolName: 'drop_table',
    input: { table: 'users' },
    riskLevel: 'irreversible',
    requestedBy: 'frank',
    metadata: { tenant: 'globex' },
  });
  decisionsSeen = [];
  manager.subscribe((event) => {
    if (event.type !== 'request-created') decisionsSeen.push(`${event.type} ${event.record.request.id}`);
  });
});

afterAll(async () => {
  await server?.close();
  await manager?.close();
});

type Route = 'get' | 'respond:approve' | 'respond:reject' | 'respond:modify' | 'approve' | 'reject';
const routes: readonly Route[] = ['get', 'respond:approve', 'respond:reject', 'respond:modify', 'approve', 'reject'];

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** Extra body fields (an attempt to set respondedBy). */
  extraBody?: Record<string, unknown>;
}

const anonymous: Caller = { name: 'anonymous (no Authorization)', headers: {} };
const unknownToken: Caller = { name: 'unknown reviewer (valid-looking token)', headers: { authorization: 'Bearer tok-mallory' } };
const malformed: Caller = { name: 'malformed credentials', headers: { authorization: 'Basic YWxpY2U6YWRtaW4=' } };
const forgedName: Caller = {
  name: 'a header naming a reviewer, no token',
  headers: { 'x-reviewer': 'alice', 'x-forwarded-user': 'alice' },
};
const disabled: Caller = { name: 'suspended account (authenticate throws forbidden)', headers: { authorization: 'Bearer tok-disabled' } };
const bob: Caller = { name: 'bob: same tenant, lacks the admin role', headers: { authorization: 'Bearer tok-bob' } };
const carol: Caller = { name: 'carol: admin, but requested it herself', headers: { authorization: 'Bearer tok-carol' } };
const eve: Caller = { name: 'eve: admin of another tenant', headers: { authorization: 'Bearer tok-eve' } };
const bobAsAlice: Caller = {
  name: 'bob claiming to be alice in the body',
  headers: { authorization: 'Bearer tok-bob' },
  extraBody: { respondedBy: 'alice' },
};

async function call(caller: Caller, route: Route, id: string): Promise<{ status: number; code?: string; problem?: string }> {
  const headers: Record<string, string> = { ...caller.headers };
  let response;
  if (route === 'get') {
    response = await rawRequest(server.port, { method: 'GET', path: `/hitl/requests/${id}`, headers });
  } else {
    const [path, decision] = route.split(':') as [string, string | undefined];
    const body: Record<string, unknown> = { ...caller.extraBody };
    if (decision !== undefined) body.decision = decision;
    if (decision === 'modify') body.modified = { user_id: '8' };
    if (decision === 'reject' || path === 'reject') body.feedback = 'no';
    headers['content-type'] = 'application/json';
    headers['idempotency-key'] = `matrix-${caller.name.length}-${route}`;
    response = await rawRequest(server.port, { method: 'POST', path: `/hitl/requests/${id}/${path}`, headers, body: JSON.stringify(body) });
  }
  if (response.status === 200) return { status: 200 };
  const problem = clientErrorProblem(response);
  const code = (JSON.parse(response.text) as { error?: { code?: string } }).error?.code;
  return problem === undefined
    ? { status: response.status, ...(code === undefined ? {} : { code }) }
    : { status: response.status, problem };
}

describe('authorization matrix (tenant and role scoped authorize, real Express app on 127.0.0.1)', () => {
  it('refuses every caller that may not decide, on every route and decision; nothing is decided', async () => {
    const expected: Record<string, { status: number; code?: string }> = {};
    const actual: Record<string, { status: number; code?: string; problem?: string }> = {};
    const cell = async (caller: Caller, route: Route, id: string, status: number, code?: string) => {
      const key = `${caller.name} | ${route} | ${id}`;
      expected[key] = code === undefined ? { status } : { status, code };
      actual[key] = await call(caller, route, id);
    };

    for (const id of ['acme-delete', 'acme-wire', 'globex-drop', 'no-such-request']) {
      for (const route of routes) {
        // No identity: 401 before anything else, whether or not the id exists.
        for (const caller of [anonymous, unknownToken, malformed, forgedName]) await cell(caller, route, id, 401, 'unauthorized');
        await cell(disabled, route, id, 403, 'forbidden');
      }
    }
    for (const id of ['acme-delete', 'acme-wire']) {
      for (const route of routes) {
        // Same tenant, no admin role: may look, may not decide an irreversible request.
        await cell(bob, route, id, route === 'get' ? 200 : 403, route === 'get' ? undefined : 'forbidden');
        // Another tenant: answered as if the request did not exist, for looking and deciding alike.
        await cell(eve, route, id, 404, 'not_found');
        // The body cannot name the reviewer.
        if (route !== 'get') await cell(bobAsAlice, route, id, 400, 'invalid_input');
      }
    }
    for (const route of routes) {
      // carol is an admin of acme, but acme-delete is her own request: no self-approval.
      await cell(carol, route, 'acme-delete', route === 'get' ? 200 : 403, route === 'get' ? undefined : 'forbidden');
    }
    // An unknown id is 404 for a reviewer of any tenant.
    for (const caller of [bob, eve]) await cell(caller, 'get', 'no-such-request', 404, 'not_found');

    expect(actual).toEqual(expected);
    const cells = Object.keys(expected).length;
    expect(cells).toBe(162);
    console.info(`authorization matrix: ${cells} cells`);

    expect(decisionsSeen).toEqual([]);
    for (const id of ['acme-delete', 'acme-wire', 'globex-drop']) expect((await manager.get(id))?.status).toBe('pending');
    // authorize was consulted, and never with an identity authenticate did not give.
    expect(authorizeCalls.length).toBeGreaterThan(0);
    expect(authorizeCalls.every((entry) => /^(bob|carol|eve):/.test(entry))).toBe(true);
  });

  it('GET /requests: 401 without identity, 403 suspended, and each reviewer sees only their tenant', async () => {
    const list = async (caller: Caller) =>
      rawRequest(server.port, { method: 'GET', path: '/hitl/requests?limit=1000', headers: caller.headers });
    for (const caller of [anonymous, unknownToken, malformed, forgedName]) {
      const response = await list(caller);
      expect({ caller: caller.name, status: response.status, problem: clientErrorProblem(response) }).toEqual({
        caller: caller.name,
        status: 401,
        problem: undefined,
      });
    }
    expect((await list(disabled)).status).toBe(403);
    const idsFor = async (caller: Caller) =>
      ((JSON.parse((await list(caller)).text) as { items: ApprovalRecord[] }).items.map((record) => record.request.id) as string[]).sort();
    expect(await idsFor(bob)).toEqual(['acme-delete', 'acme-wire']);
    expect(await idsFor(eve)).toEqual(['globex-drop']);
    expect(decisionsSeen).toEqual([]);
  });

  it("GET /events: 401 JSON without identity, 403 suspended; a stream never carries another tenant's request", async () => {
    for (const caller of [anonymous, unknownToken, malformed, forgedName, disabled]) {
      const stream = await openEventStream(`${server.url}/hitl/events`, caller.headers);
      const problem = clientErrorProblem({ status: stream.status, headers: stream.headers, text: await stream.body() });
      expect({ caller: caller.name, status: stream.status, problem }).toEqual({
        caller: caller.name,
        status: caller === disabled ? 403 : 401,
        problem: undefined,
      });
    }

    const bobStream = await openEventStream(`${server.url}/hitl/events`, bob.headers);
    const eveStream = await openEventStream(`${server.url}/hitl/events`, eve.headers);
    try {
      await bobStream.next((frame) => frame.event === 'ready');
      await eveStream.next((frame) => frame.event === 'ready');
      // A new acme request, then a globex marker: events keep their order, so once eve has the
      // marker she would already have had the acme event, had it been sent to her.
      await manager.submit({
        id: 'acme-new',
        toolName: 'delete_user',
        input: { user_id: '9' },
        riskLevel: 'irreversible',
        metadata: { tenant: 'acme' },
      });
      await manager.submit({
        id: 'globex-marker',
        toolName: 'drop_table',
        input: { table: 'logs' },
        riskLevel: 'irreversible',
        metadata: { tenant: 'globex' },
      });
      await manager.cancel('acme-new', 'cleanup');
      await manager.submit({
        id: 'globex-marker-2',
        toolName: 'drop_table',
        input: { table: 'audit' },
        riskLevel: 'irreversible',
        metadata: { tenant: 'globex' },
      });

      const bobSaw = await bobStream.next((frame) => frameRequestId(frame) === 'acme-new');
      expect(bobSaw.event).toBe('request-created');
      await eveStream.next((frame) => frameRequestId(frame) === 'globex-marker-2');
      const eveIds = eveStream.frames.map(frameRequestId).filter((id) => id !== undefined);
      expect(eveIds).toEqual(['globex-marker', 'globex-marker-2']);
    } finally {
      bobStream.close();
      eveStream.close();
    }
    expect(decisionsSeen).toEqual(['request-cancelled acme-new']);
  });

  it('control: the same routes let the right reviewer decide (so the refusals above are not a router that refuses everything)', async () => {
    const alice: Caller = { name: 'alice', headers: { authorization: 'Bearer tok-alice' } };
    expect(await call(alice, 'approve', 'acme-wire')).toEqual({ status: 200 });
    expect(await call(carol, 'respond:reject', 'acme-wire')).toEqual({ status: 409, code: 'conflict' });
    expect(await call(eve, 'respond:modify', 'globex-drop')).toEqual({ status: 200 });
    expect((await manager.get('acme-wire'))?.response?.respondedBy).toBe('alice');
    expect((await manager.get('globex-drop'))?.response).toMatchObject({
      decision: 'modify',
      respondedBy: 'eve',
      modified: { user_id: '8' },
    });
    expect((await manager.get('acme-delete'))?.status).toBe('pending');
  });
});
