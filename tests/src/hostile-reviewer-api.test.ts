// Hostile input against the reviewer API of a real Express app on 127.0.0.1: arbitrary JSON bodies,
// malformed JSON, wrong content types, bodies over the limit, deep nesting, odd ids and odd query
// strings. Every answer must be a documented 4xx with a JSON error body and no stack trace, the
// server must never answer 500 or break the connection, and nothing may change: the pending
// requests stay pending and the list is byte for byte what it was.
import http from 'node:http';
import { canonicalJson, createManager, type Manager } from '@hitl/core';
import { createReviewRouter } from '@hitl/express';
import express, { type Request } from 'express';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '@hitl/test-kit';
import { clientErrorProblem, rawRequest, type RawResponse } from './hostile-support.js';

const MOUNT = '/hitl';
const PENDING_IDS = ['victim-0', 'victim-1', 'victim-2', 'victim-3'] as const;
const DECIDED_ID = 'victim-decided';

let manager: Manager;
let server: RunningServer;
let unexpectedErrors: unknown[][];
let stateChanges: string[];
let baseline: string;
const runCounts = new Map<string, number>();

function count(name: string): void {
  runCounts.set(name, (runCounts.get(name) ?? 0) + 1);
}

/** Only `alice` is a reviewer; anyone else has no identity. */
function authenticate(request: Request) {
  return request.get('x-reviewer') === 'alice' ? { id: 'alice', roles: ['admin'] } : null;
}

/** Everything a reviewer could observe: every record, as canonical JSON. */
async function snapshot(): Promise<string> {
  const page = await manager.list({ limit: 1000 });
  const records = await Promise.all([...PENDING_IDS, DECIDED_ID].map((id) => manager.get(id)));
  return canonicalJson({ items: page.items, records, next: page.nextCursor ?? null });
}

/** Fails with the input when the answer is not a documented 4xx, or when anything changed. */
async function expectRefusedWithoutChange(label: string, response: RawResponse, allowed?: readonly number[]): Promise<void> {
  const problem = clientErrorProblem(response);
  if (problem !== undefined) throw new Error(`${label}: ${problem}`);
  if (allowed && !allowed.includes(response.status)) {
    throw new Error(`${label}: status ${response.status} (${response.text.slice(0, 160)}), expected one of ${allowed.join(', ')}`);
  }
  if (stateChanges.length > 0) throw new Error(`${label}: the manager emitted ${stateChanges.join(', ')}`);
  const now = await snapshot();
  if (now !== baseline) throw new Error(`${label}: the records changed`);
}

beforeAll(async () => {
  manager = createManager({
    timeoutMs: 3_600_000,
    policies: [{ name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' }],
  });
  unexpectedErrors = [];
  const app = express();
  app.use(
    MOUNT,
    createReviewRouter({
      manager,
      authenticate,
      resumeWindowMs: 0,
      heartbeatMs: 3_600_000,
      logger: { error: (...args: unknown[]) => unexpectedErrors.push(args) },
    }),
  );
  server = await listen(app);
  for (const [index, id] of PENDING_IDS.entries()) {
    await manager.submit({
      id,
      toolName: 'delete_user',
      description: `Delete user ${index}`,
      input: { user_id: String(index) },
      riskLevel: 'irreversible',
    });
  }
  await manager.submit({ id: DECIDED_ID, toolName: 'send_email', input: { to: 'a@example.com' }, riskLevel: 'data_modification' });
  await manager.respond(DECIDED_ID, { decision: 'reject', feedback: 'no', respondedBy: 'bob' });
  await manager.submit({ id: 'auto-approved', toolName: 'get_user', input: { user_id: '1' }, riskLevel: 'read_only', confidence: 1 });
  stateChanges = [];
  manager.subscribe((event) => stateChanges.push(`${event.type} ${event.record.request.id}`));
  baseline = await snapshot();
}, 30_000);

afterAll(async () => {
  await server?.close();
  await manager?.close();
});

// ---------------------------------------------------------------------------------------------
// Generators

const decisionRoutes = ['respond', 'approve', 'reject'] as const;
type DecisionRoute = (typeof decisionRoutes)[number];

/**
 * Content types: `json` when the router must read the body as UTF-8 JSON, `charset` for JSON in
 * another charset (415, or 400 when the body is empty and never decoded), else not JSON (415).
 */
const contentTypes: ReadonlyArray<{ header: string | undefined; json: boolean; charset?: true }> = [
  { header: 'application/json', json: true },
  { header: 'application/json; charset=utf-8', json: true },
  { header: 'Application/JSON; Charset=UTF-8', json: true },
  { header: undefined, json: false },
  { header: '', json: false },
  { header: 'text/plain', json: false },
  { header: 'text/plain; charset=utf-8', json: false },
  { header: 'application/x-www-form-urlencoded', json: false },
  { header: 'multipart/form-data; boundary=----x', json: false },
  { header: 'application/jsonp', json: false },
  { header: 'application/json-patch+json', json: false },
  { header: 'application/ld+json', json: false },
  { header: 'text/json', json: false },
  { header: '*/*', json: false },
  { header: 'application/json; charset=latin1', json: false, charset: true },
  // UTF-16 and UTF-32 are left out here: hostile-reviewer-api.pending.ts (a defect).
  { header: 'application/json; charset=koi8-r', json: false, charset: true },
  { header: 'application/json, text/plain', json: false },
  { header: ';application/json', json: false },
];

/** Bodies that look almost like a decision: the right keys with wrong values, extra keys, respondedBy... */
const nearDecision = fc.record(
  {
    decision: fc.oneof(
      fc.constantFrom('approve', 'reject', 'modify', 'APPROVE', ' approve', 'approve\u0000', 'approved', '', 'deny', '__proto__'),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    feedback: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.jsonValue({ maxDepth: 2 })),
    modified: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    ),
    respondedBy: fc.constantFrom('mallory', 'alice', 'bob'),
    status: fc.constantFrom('approved', 'pending'),
    constructor: fc.jsonValue({ maxDepth: 1 }),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

const jsonBodyValue = fc.oneof(
  { weight: 4, arbitrary: nearDecision },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ unit: 'binary', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }) },
);

function isPlainJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The documented rule for a body the router would accept as a decision. */
function isAcceptableBody(route: DecisionRoute, body: unknown): boolean {
  if (body === undefined) return route !== 'respond';
  if (!isPlainJsonObject(body)) return false;
  const allowed = route === 'respond' ? ['decision', 'feedback', 'modified'] : ['feedback'];
  if (!Object.keys(body).every((key) => allowed.includes(key))) return false;
  if (body.feedback !== undefined && typeof body.feedback !== 'string') return false;
  if (route !== 'respond') return true;
  if (body.decision === 'approve' || body.decision === 'reject') return body.modified === undefined;
  return body.decision === 'modify' && isPlainJsonObject(body.modified);
}

/** Raw body texts: serialized values, truncated or broken JSON, binary junk, nothing at all. */
const bodyText = fc.oneof(
  { weight: 6, arbitrary: jsonBodyValue.map((value) => ({ text: JSON.stringify(value) as string | undefined, value: value as unknown })) },
  {
    weight: 2,
    arbitrary: jsonBodyValue
      .map((value) => JSON.stringify(value))
      .chain((text) =>
        fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => ({ text: text.slice(0, cut), value: undefined as unknown })),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '{"decision":"approve",}',
        "{'decision':'approve'}",
        '{"decision":"approve"}{"decision":"reject"}',
        '{"decision":"approve"',
        '{decision:"approve"}',
        '\uFEFF{"decision":"approve"}',
        '{"decision":"approve"}\u0000',
        '{"decision":"\\ud800"}',
        '{"decision":"\\u0061pprove","x":1}',
        '{"__proto__":{"decision":"approve"}}',
        '{"decision":"approve","__proto__":{"isAdmin":true}}',
        '{"constructor":{"prototype":{"decision":"approve"}}}',
        '{"decision":"approve","decision":"reject","x":1}',
        '{"decision":"approve","feedback":null}',
        '{"decision":"modify","modified":null}',
        '{"decision":"modify","modified":[]}',
        '{"decision":"modify","modified":"{}"}',
        '{"decision":"approve","modified":{}}',
        'null',
        'true',
        '"approve"',
        '[]',
        '[{"decision":"approve"}]',
        '1e309',
        '{"a":NaN}',
        '{"a":Infinity}',
        'decision=approve',
        '--x\r\nContent-Disposition: form-data; name="decision"\r\n\r\napprove\r\n--x--',
        ' ',
        '\n\t ',
      )
      .map((text) => ({ text: text as string | undefined, value: undefined as unknown })),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary', maxLength: 64 })
      .map((text) => ({ text: text as string | undefined, value: undefined as unknown })),
  },
  { weight: 1, arbitrary: fc.constant({ text: undefined as string | undefined, value: undefined as unknown }) },
);

/** The body as the router's JSON parser reads it (a leading byte-order mark is dropped by the UTF-8 decoder). */
function parsedValue(text: string | undefined): { ok: true; value: unknown } | { ok: false } {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Percent-encodes every UTF-8 byte outside the unreserved set, so the path is sent as given. */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** Path segments for the `:id` of a route, as sent on the wire (never one of the victims' ids). */
const hostileIdSegment = fc.oneof(
  fc.constantFrom(
    '..%2f..%2fetc%2fpasswd',
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '..%5c..%5cwindows%5cwin.ini',
    '%2e%2e',
    '..',
    '.',
    '%00',
    'victim-0%00',
    'victim-0%2f..',
    'victim-0%20',
    '%20victim-0',
    'VICTIM-0',
    'victim-0.',
    '%zz',
    '%',
    '%%',
    '%c0%af',
    '%ed%a0%80',
    '%ff%fe',
    '%e2%80%ae1-mitciv',
    '%e2%80%8bvictim-0',
    '%f0%9f%92%a3',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
    "'%20OR%201=1--",
    '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    'a'.repeat(10_000),
    percentEncode('\u202e'.repeat(1_000)),
    percentEncode('🙂'.repeat(800)),
    'x'.repeat(129),
    'x'.repeat(128),
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(percentEncode),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).map(percentEncode),
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,140}$/),
  fc.string({ unit: fc.constantFrom('%', '2', 'f', 'e', '.', '0', 'c', 'F', '5', 'C'), minLength: 1, maxLength: 30 }),
);

function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Query strings as sent on the wire: known and unknown keys, repeats, brackets, junk escapes. */
const queryPart = fc.tuple(
  fc.oneof(
    fc.constantFrom(
      'status',
      'toolName',
      'limit',
      'cursor',
      'status[]',
      'limit[0]',
      'a[b]',
      '__proto__',
      'constructor',
      '__proto__[status]',
      '',
      '%zz',
      '%00',
      'x'.repeat(500),
    ),
    fc.string({ maxLength: 10 }).map(percentEncode),
  ),
  fc.option(
    fc.oneof(
      fc.constantFrom(
        'pending',
        'PENDING',
        'approved',
        '',
        '0',
        '-1',
        '1.5',
        '1001',
        '1e3',
        '0x10',
        '%201',
        '+1',
        '%00',
        '%zz',
        'm1',
        'm-1',
        'm99999999999999999',
        'garbage',
        'delete_user',
        '*',
      ),
      fc.string({ unit: 'binary', maxLength: 30 }).map(percentEncode),
      fc.integer().map(String),
    ),
    { nil: undefined },
  ),
);
const queryString = fc
  .array(queryPart, { minLength: 1, maxLength: 5 })
  .map((parts) => parts.map(([key, value]) => (value === undefined ? key : `${key}=${value}`)).join('&'));

// ---------------------------------------------------------------------------------------------

describe('reviewer API under hostile input (real Express app on 127.0.0.1)', () => {
  it('arbitrary, malformed and mistyped bodies on the decision routes: a documented 4xx, nothing decided (3,000 runs)', async () => {
    const runs = 3_000;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...decisionRoutes),
        fc.constantFrom(...PENDING_IDS, DECIDED_ID),
        fc.constantFrom(...contentTypes),
        fc.constantFrom('alice', 'alice', 'alice', undefined, 'mallory'),
        fc.boolean(),
        bodyText,
        async (route, id, contentType, reviewer, chunked, body) => {
          const parsed = parsedValue(body.text);
          // A well-formed decision from a reviewer would rightly be accepted: not hostile input.
          if (reviewer === 'alice' && contentType.json && parsed.ok && isAcceptableBody(route, parsed.value) && id !== DECIDED_ID) {
            return;
          }
          count('bodies');
          const headers: Record<string, string> = {};
          if (reviewer !== undefined) headers['x-reviewer'] = reviewer;
          if (contentType.header !== undefined) headers['content-type'] = contentType.header;
          if (chunked && body.text !== undefined) headers['transfer-encoding'] = 'chunked';
          const request = {
            method: 'POST',
            path: `${MOUNT}/requests/${id}/${route}`,
            headers,
            chunked,
            ...(body.text === undefined ? {} : { body: body.text }),
          };
          const response = await rawRequest(server.port, request);
          const expected = reviewer !== 'alice' ? [401] : contentType.charset ? [400, 415] : !contentType.json ? [415] : undefined;
          await expectRefusedWithoutChange(
            `POST ${route} ${JSON.stringify(contentType.header)} ${JSON.stringify(body.text)?.slice(0, 200)}`,
            response,
            expected,
          );
        },
      ),
      { numRuns: runs },
    );
    expect(runCounts.get('bodies')).toBeGreaterThanOrEqual(runs * 0.9);
  });

  it('path traversal, NUL, bad escapes, unicode, RTL marks, emoji and 10 kB ids on every route: 400 or 404, nothing decided (2,000 runs)', async () => {
    const runs = 2_000;
    await fc.assert(
      fc.asyncProperty(hostileIdSegment, fc.constantFrom('get', 'events-like', ...decisionRoutes), async (segment, route) => {
        if ((PENDING_IDS as readonly string[]).includes(decodedOrRaw(segment)) || decodedOrRaw(segment) === DECIDED_ID) return;
        count('ids');
        const headers: Record<string, string> = { 'x-reviewer': 'alice', 'content-type': 'application/json' };
        let response: RawResponse;
        if (route === 'get' || route === 'events-like') {
          // `events-like` asks for the record with an event-stream Accept header: still JSON errors.
          if (route === 'events-like') headers.accept = 'text/event-stream';
          response = await rawRequest(server.port, { method: 'GET', path: `${MOUNT}/requests/${segment}`, headers });
        } else {
          const body = route === 'respond' ? '{"decision":"approve"}' : '{}';
          response = await rawRequest(server.port, { method: 'POST', path: `${MOUNT}/requests/${segment}/${route}`, headers, body });
        }
        await expectRefusedWithoutChange(`${route} /requests/${segment.slice(0, 120)}`, response, [400, 404]);
      }),
      { numRuns: runs },
    );
    expect(runCounts.get('ids')).toBeGreaterThanOrEqual(runs * 0.99);
  });

  it('odd query strings on GET /requests and GET /requests/:id: 200 or 400, never anything else (1,500 runs)', async () => {
    const runs = 1_500;
    await fc.assert(
      fc.asyncProperty(queryString, fc.constantFrom('list', 'one'), async (query, target) => {
        count('queries');
        const path = target === 'list' ? `${MOUNT}/requests?${query}` : `${MOUNT}/requests/victim-0?${query}`;
        const response = await rawRequest(server.port, { method: 'GET', path, headers: { 'x-reviewer': 'alice' } });
        if (response.status === 200) {
          const body = JSON.parse(response.text) as { items?: unknown[]; request?: { id?: string } };
          if (target === 'list') expect(Array.isArray(body.items), path).toBe(true);
          else expect(body.request?.id, path).toBe('victim-0');
          expect(stateChanges).toEqual([]);
          expect(await snapshot()).toBe(baseline);
        } else {
          await expectRefusedWithoutChange(`GET ${path.slice(0, 200)}`, response, [400]);
        }
      }),
      { numRuns: runs },
    );
    expect(runCounts.get('queries')).toBe(runs);
  });

  it('bodies over the 64 kB limit, up to 4 MB, with and without Content-Length: 413 (or 415 for a non-JSON type), nothing decided (40 runs)', async () => {
    const runs = 40;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...decisionRoutes),
        fc.integer({ min: 64 * 1024 + 1, max: 4 * 1024 * 1024 }),
        fc.constantFrom('feedback', 'decision', 'modified', 'padding', 'whole'),
        fc.boolean(),
        fc.constantFrom('application/json', 'text/plain'),
        async (route, size, field, chunked, contentType) => {
          count('huge');
          const filler = 'A'.repeat(size);
          const body =
            field === 'whole'
              ? `"${filler}"`
              : field === 'modified'
                ? JSON.stringify({ decision: 'modify', modified: { note: filler } })
                : JSON.stringify({ decision: 'approve', [field]: filler });
          expect(Buffer.byteLength(body)).toBeGreaterThan(64 * 1024);
          const headers: Record<string, string> = { 'x-reviewer': 'alice', 'content-type': contentType };
          if (chunked) headers['transfer-encoding'] = 'chunked';
          const response = await rawRequest(server.port, {
            method: 'POST',
            path: `${MOUNT}/requests/victim-1/${route}`,
            headers,
            body,
            chunked,
          });
          await expectRefusedWithoutChange(`${route} ${size} bytes in ${field}`, response, [contentType === 'text/plain' ? 415 : 413]);
        },
      ),
      { numRuns: runs },
    );
    expect(runCounts.get('huge')).toBe(runs);
    // A 1 MB string exactly, as the issue names it.
    const response = await rawRequest(server.port, {
      method: 'POST',
      path: `${MOUNT}/requests/victim-1/reject`,
      headers: { 'x-reviewer': 'alice', 'content-type': 'application/json' },
      body: JSON.stringify({ feedback: 'x'.repeat(1024 * 1024) }),
    });
    await expectRefusedWithoutChange('1 MB feedback', response, [413]);
  });

  it('JSON nested 10,000 levels deep as the whole body and in feedback, modified and unknown fields: 400 or 413, nothing decided', async () => {
    const depth = 10_000;
    const array = '['.repeat(depth) + ']'.repeat(depth);
    const object = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const cases: Array<{ route: DecisionRoute; body: string; label: string }> = [];
    for (const [shape, nested] of [
      ['array', array],
      ['object', object],
    ] as const) {
      cases.push({ route: 'respond', body: nested, label: `whole body, ${shape}` });
      cases.push({ route: 'approve', body: nested, label: `whole body, ${shape}` });
      cases.push({ route: 'respond', body: `{"decision":"reject","feedback":${nested}}`, label: `feedback, ${shape}` });
      cases.push({ route: 'reject', body: `{"feedback":${nested}}`, label: `feedback, ${shape}` });
      cases.push({ route: 'respond', body: `{"decision":"modify","modified":${nested}}`, label: `modified, ${shape}` });
      cases.push({ route: 'respond', body: `{"decision":"modify","modified":{"deep":${nested}}}`, label: `inside modified, ${shape}` });
      cases.push({ route: 'approve', body: `{"x":${nested}}`, label: `unknown field, ${shape}` });
      cases.push({ route: 'respond', body: `{"decision":"approve","respondedBy":${nested}}`, label: `respondedBy, ${shape}` });
    }
    for (const { route, body, label } of cases) {
      count('deep');
      const response = await rawRequest(server.port, {
        method: 'POST',
        path: `${MOUNT}/requests/victim-2/${route}`,
        headers: { 'x-reviewer': 'alice', 'content-type': 'application/json' },
        body,
      });
      await expectRefusedWithoutChange(`${route}: ${label}`, response, [400, 413]);
    }
    expect(runCounts.get('deep')).toBe(cases.length);
  });

  it('nesting of random depth (1 to 20,000) in random fields: a documented 4xx, nothing decided (300 runs)', async () => {
    const runs = 300;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom('[', '{"k":'),
        fc.constantFrom('feedback', 'modified', 'unknown', 'whole'),
        fc.constantFrom(...decisionRoutes),
        async (randomDepth, opener, field, route) => {
          count('random-depth');
          // An edited input up to 100 levels deep is a valid modify; deeper is refused by the core.
          const depth = field === 'modified' ? Math.max(randomDepth, 100) : randomDepth;
          const closer = opener === '[' ? ']' : '}';
          const nested = opener.repeat(depth) + (opener === '[' ? '' : '0') + closer.repeat(depth);
          const body =
            field === 'whole'
              ? nested
              : field === 'modified'
                ? `{"decision":"modify","modified":{"v":${nested}}}`
                : field === 'feedback'
                  ? `{"feedback":${nested}}`
                  : `{"decision":"approve","feedback":"ok","unknown":${nested}}`;
          const response = await rawRequest(server.port, {
            method: 'POST',
            path: `${MOUNT}/requests/victim-3/${route}`,
            headers: { 'x-reviewer': 'alice', 'content-type': 'application/json' },
            body,
          });
          await expectRefusedWithoutChange(`${route} ${field} depth ${depth}`, response, [400, 413]);
        },
      ),
      { numRuns: runs },
    );
    expect(runCounts.get('random-depth')).toBe(runs);
  });

  it('a malformed Idempotency-Key on an otherwise valid decision: 400, nothing decided (200 runs)', async () => {
    const runs = 200;
    const badKey = fc.oneof(
      fc.constantFrom(' ', 'key with spaces', 'tab\tkey', 'x'.repeat(101), 'x'.repeat(4_000), 'caf\u00e9', '\u00ff\u00fe'),
      // HTTP drops spaces and tabs around a header value, so only what is left must be malformed.
      fc
        .string({ unit: fc.constantFrom(' ', '\t', '\u00e9', 'a', '\u00a0'), minLength: 1, maxLength: 20 })
        .filter((key) => !/^[\x21-\x7e]{1,100}$/.test(key.replace(/^[ \t]+|[ \t]+$/g, ''))),
      fc.string({ unit: fc.constantFrom('a', 'b', '-'), minLength: 101, maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(badKey, fc.constantFrom(...decisionRoutes), async (key, route) => {
        count('idempotency');
        const response = await rawRequest(server.port, {
          method: 'POST',
          path: `${MOUNT}/requests/victim-0/${route}`,
          headers: { 'x-reviewer': 'alice', 'content-type': 'application/json', 'idempotency-key': key },
          body: route === 'respond' ? '{"decision":"approve"}' : '{}',
        });
        await expectRefusedWithoutChange(`${route} with Idempotency-Key ${JSON.stringify(key).slice(0, 60)}`, response, [400]);
      }),
      { numRuns: runs },
    );
    expect(runCounts.get('idempotency')).toBe(runs);
  });

  it('GET /events with hostile Last-Event-ID values opens a stream (reset or ready), and without identity answers 401 JSON (150 runs)', async () => {
    const runs = 150;
    const lastEventId = fc.oneof(
      fc.constantFrom('0', '-1', 'x-1', 'abc-99999999999999999', '../..', 'a'.repeat(5_000), '__proto__-1', 'a-1-2', '%00', 'a-01'),
      fc.string({ unit: fc.constantFrom('a', 'z', '0', '9', '-', '.', '/', '%', ' ', '\u00e9'), maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(lastEventId, fc.boolean(), async (id, identified) => {
        count('events');
        const headers: Record<string, string> = { accept: 'text/event-stream', 'last-event-id': id };
        if (identified) headers['x-reviewer'] = 'alice';
        if (!identified) {
          const response = await rawRequest(server.port, { method: 'GET', path: `${MOUNT}/events`, headers });
          await expectRefusedWithoutChange(`events without identity, Last-Event-ID ${JSON.stringify(id).slice(0, 60)}`, response, [401]);
          return;
        }
        const frames = await readStreamUntilReady(server.port, `${MOUNT}/events`, headers);
        expect(frames.status).toBe(200);
        expect(frames.events.at(-1)).toBe('ready');
        expect(frames.events.filter((event) => event !== 'reset' && event !== 'ready')).toEqual([]);
      }),
      { numRuns: runs },
    );
    expect(runCounts.get('events')).toBe(runs);
    expect(stateChanges).toEqual([]);
  });

  it('after all of it: the server still answers, nothing was logged as unexpected, the four requests are still pending', async () => {
    const response = await rawRequest(server.port, {
      method: 'GET',
      path: `${MOUNT}/requests?status=pending`,
      headers: { 'x-reviewer': 'alice' },
    });
    expect(response.status).toBe(200);
    const ids = (JSON.parse(response.text) as { items: Array<{ request: { id: string } }> }).items.map((item) => item.request.id).sort();
    expect(ids).toEqual([...PENDING_IDS].sort());
    expect(unexpectedErrors).toEqual([]);
    expect(stateChanges).toEqual([]);
    expect(await snapshot()).toBe(baseline);
    const total = [...runCounts.values()].reduce((sum, value) => sum + value, 0);
    expect(total).toBeGreaterThanOrEqual(7_000);
    console.info(`hostile reviewer API: ${total} hostile requests`, Object.fromEntries(runCounts));
  });

  it('control: a well-formed decision from the reviewer is accepted, so the checks above can see a change', async () => {
    const response = await rawRequest(server.port, {
      method: 'POST',
      path: `${MOUNT}/requests/victim-0/approve`,
      headers: { 'x-reviewer': 'alice', 'content-type': 'application/json' },
      body: '{"feedback":"checked"}',
    });
    expect(response.status).toBe(200);
    expect(stateChanges).toEqual(['request-decided victim-0']);
    expect(await snapshot()).not.toBe(baseline);
  });
});

/** Reads an event stream until its `ready` frame, then closes it. */
function readStreamUntilReady(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; events: string[] }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path, headers }, (response) => {
      let buffer = '';
      const events: string[] = [];
      const timer = setTimeout(() => {
        request.destroy();
        reject(new Error(`no ready frame within 10 s; got ${JSON.stringify(buffer.slice(0, 300))}`));
      }, 10_000);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let boundary = buffer.indexOf('\n\n');
        while (boundary !== -1) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          if (event !== undefined) events.push(event);
          if (event === 'ready') {
            clearTimeout(timer);
            request.destroy();
            resolve({ status: response.statusCode ?? 0, events });
            return;
          }
          boundary = buffer.indexOf('\n\n');
        }
      });
    });
    request.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
  });
}
