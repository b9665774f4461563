// Regression tests for the gate's own safety: tool names, globs that fail open, self-approval by another spelling, unvalidated edits.
import { afterEach, describe, expect, it } from 'vitest';
import { createManager } from './approval-manager.js';
import { HitlError } from './hitl-error.js';
import type { Manager } from './types.js';

const managers: Manager[] = [];
function manager(options: Parameters<typeof createManager>[0] = {}): Manager {
  const created = createManager({ logger: { warn() {}, error() {}, info() {} } as never, ...options });
  managers.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(managers.splice(0).map((created) => created.close()));
});

async function failure(promise: Promise<unknown>): Promise<HitlError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!HitlError.is(error)) throw new Error(`expected a HitlError, got ${String(error)}`);
  return error;
}

function thrown(run: () => unknown): HitlError {
  try {
    run();
  } catch (error) {
    if (HitlError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('tool names', () => {
  it.each([
    ['', 'is empty'],
    ['x'.repeat(129), 'is 129 characters long (at most 128)'],
    ['get user', 'contains " " at position 3'],
    ['tools/delete', 'contains "/" at position 5'],
    ['delete_user\u200b', 'contains "\u200b" at position 11'],
    ['ｄelete', 'at position 0'],
  ])('submit refuses %j with invalid_input naming the field, and evaluate denies it', async (toolName, problem) => {
    const gate = manager({ policies: [{ name: 'all', toolPattern: '*', maxRiskLevel: 'irreversible' }] });
    const error = await failure(gate.submit({ toolName }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('request.toolName');
    expect(error.message).toContain(problem);
    expect(error.details?.field).toBe('request.toolName');
    expect((await gate.list()).items).toHaveLength(0);
    const evaluation = gate.evaluate(toolName, 1, 'read_only');
    expect(evaluation.outcome).toBe('deny');
    expect(evaluation.reason).toContain(problem);
    expect(evaluation.policy).toBeUndefined();
  });

  it("denies '*delete*' against a 400 KB name at once, as an invalid name", () => {
    const gate = manager({
      policies: [
        { name: 'never-delete', toolPattern: '*delete*', deny: true },
        { name: 'all', toolPattern: '*', maxRiskLevel: 'irreversible' },
      ],
    });
    const huge = `${'a'.repeat(400_000)}x`;
    const evaluation = gate.evaluate(huge, 1, 'read_only');
    expect(evaluation).toMatchObject({ outcome: 'deny' });
    expect(evaluation.reason).toContain('is 400001 characters long (at most 128)');
    // The message shows a shortened value, not 400 KB.
    expect(evaluation.reason.length).toBeLessThan(300);
  });

  it('shortens the value in the submit error', async () => {
    const error = await failure(manager().submit({ toolName: 'y'.repeat(10_000) }));
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('globs that failed open', () => {
  it("refuses '!(delete|drop)_*' instead of auto-approving delete_user", () => {
    const gate = manager();
    const error = thrown(() => gate.addPolicy({ name: 'safe', toolPattern: '!(delete|drop)_*', maxRiskLevel: 'irreversible' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain("policy 'safe': toolPattern '!(delete|drop)_*' is not a valid glob: it uses the extglob '!(…)'");
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: "policy 'safe': toolPattern", value: "'!(delete|drop)_*'" } });
    expect(gate.listPolicies()).toHaveLength(0);
    expect(gate.evaluate('delete_user', 1, 'read_only').outcome).toBe('review');
  });

  it("refuses 'drop_shard_{1..150000}' rather than truncating it", () => {
    const error = thrown(() => manager().addPolicy({ name: 'shards', toolPattern: 'drop_shard_{1..150000}', deny: true }));
    expect(error.message).toContain('150000 alternatives; at most 256');
    expect(error).toMatchObject({ code: 'invalid_input', details: { field: "policy 'shards': toolPattern" } });
  });

  it.each(['**', 'admin/**', 'x+(a)', '@(a|b)_*', '?(x)y', '*(x)'])('refuses %s naming the construct', (toolPattern) => {
    const error = thrown(() => manager().addPolicy({ name: 'p', toolPattern, deny: true }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(/extglob|'\*\*'|'\/'/);
    expect(error.details?.field).toBe("policy 'p': toolPattern");
  });

  it('keeps a negated deny policy meaning exactly what it says', () => {
    const gate = manager({
      policies: [
        { name: 'only-reads', toolPattern: '!{get,list}_*', deny: true },
        { name: 'reads', toolPattern: '*', maxRiskLevel: 'read_only' },
      ],
    });
    expect(gate.evaluate('delete_user', 1, 'read_only').outcome).toBe('deny');
    expect(gate.evaluate('get_user', 1, 'read_only').outcome).toBe('approve');
  });
});

describe('no self-approval by another spelling', () => {
  const variants = ['alice', 'Alice', ' alice', 'alice ', 'ALICE', 'ａｌｉｃｅ', 'Ａｌｉｃｅ'];
  it.each(variants)('forbids %j deciding a request by alice (and by Alice, NFD é)', async (respondedBy) => {
    const gate = manager();
    for (const requestedBy of ['alice', 'Alice']) {
      const record = await gate.submit({ toolName: 'delete_user', requestedBy });
      const error = await failure(gate.respond(record.request.id, { decision: 'approve', respondedBy }));
      expect(error.code).toBe('forbidden');
      expect((await gate.get(record.request.id))?.status).toBe('pending');
    }
  });

  it('treats NFC and NFD forms as one person', async () => {
    const gate = manager();
    const record = await gate.submit({ toolName: 'delete_user', requestedBy: 'Jos\u00e9' });
    const error = await failure(gate.respond(record.request.id, { decision: 'approve', respondedBy: 'jose\u0301' }));
    expect(error.code).toBe('forbidden');
  });

  it.each(['alice\u200b', 'al\u200cice', '\u200dalice', 'alice\u2060', '\ufeffalice', 'alice\u0000', 'ali\nce', 'alice\u202e'])(
    'refuses the id %j with invalid_input, as reviewer and as requester',
    async (id) => {
      const gate = manager();
      const requesterError = await failure(gate.submit({ toolName: 'delete_user', requestedBy: id }));
      expect(requesterError.code).toBe('invalid_input');
      expect(requesterError.message).toContain('request.requestedBy');
      expect(requesterError.details?.field).toBe('request.requestedBy');
      const record = await gate.submit({ toolName: 'delete_user', requestedBy: 'alice' });
      const reviewerError = await failure(gate.respond(record.request.id, { decision: 'approve', respondedBy: id }));
      expect(reviewerError.code).toBe('invalid_input');
      expect(reviewerError.message).toMatch(/respondedBy [\s\S]* contains the invisible or control character U\+/);
      expect(reviewerError.details?.field).toMatch(/respondedBy$/);
      expect((await gate.get(record.request.id))?.status).toBe('pending');
    },
  );

  it('forbids an anonymous decision on a request that has a requester, and allows another person', async () => {
    const gate = manager();
    const record = await gate.submit({ toolName: 'delete_user', requestedBy: 'alice' });
    const error = await failure(gate.respond(record.request.id, { decision: 'approve' }));
    expect(error.code).toBe('forbidden');
    expect(error.message).toContain('respondedBy');
    expect(error.details?.field).toBe('respondedBy');
    const decided = await gate.respond(record.request.id, { decision: 'approve', respondedBy: 'bob' });
    expect(decided.status).toBe('approved');
    // The ids are kept as given; only the comparison is normalised.
    expect(decided.request.requestedBy).toBe('alice');
    expect(decided.response?.respondedBy).toBe('bob');
  });

  it('still lets anyone decide a request without a requester', async () => {
    const gate = manager();
    const record = await gate.submit({ toolName: 'delete_user' });
    expect((await gate.respond(record.request.id, { decision: 'reject' })).status).toBe('rejected');
  });
});

describe('what the reviewer approved is what runs', () => {
  const inputSchema = {
    type: 'object',
    properties: { user_id: { type: 'string' }, hard: { type: 'boolean' } },
    required: ['user_id'],
    additionalProperties: false,
  };

  it('refuses an edit that does not fit the schema, naming the path, and records nothing', async () => {
    const gate = manager();
    const record = await gate.submit({ toolName: 'delete_user', input: { user_id: '1' }, inputSchema });
    expect(record.request.inputSchema).toEqual(inputSchema);
    const error = await failure(gate.respond(record.request.id, { decision: 'modify', modified: { user_id: 12345 }, respondedBy: 'bob' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('modified/user_id must be string');
    expect(error.details?.path).toBe('modified/user_id');
    const missing = await failure(gate.respond(record.request.id, { decision: 'modify', modified: {} }));
    expect(missing.message).toContain("modified must have required property 'user_id'");
    expect(missing).toMatchObject({ code: 'invalid_input', details: { field: 'modified', path: 'modified' } });
    const extra = await failure(gate.respond(record.request.id, { decision: 'modify', modified: { user_id: '2', force: true } }));
    expect(extra.message).toContain("must NOT have additional properties ('force')");
    expect(extra.details?.field).toBe('modified');
    expect((await gate.get(record.request.id))?.status).toBe('pending');
    const decided = await gate.respond(record.request.id, { decision: 'modify', modified: { user_id: '2' } });
    expect(decided).toMatchObject({ status: 'modified', response: { modified: { user_id: '2' } } });
  });

  it('understands the 2020-12 dialect zod emits', async () => {
    const gate = manager();
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...inputSchema };
    const record = await gate.submit({ toolName: 'delete_user', input: { user_id: '1' }, inputSchema: schema });
    expect((await failure(gate.respond(record.request.id, { decision: 'modify', modified: { user_id: 1 } }))).message).toContain(
      'modified/user_id must be string',
    );
  });

  it('refuses every modify when ajv cannot compile the schema, never accepting it unvalidated', async () => {
    const gate = manager();
    const record = await gate.submit({
      toolName: 'delete_user',
      inputSchema: { type: 'object', properties: { a: { $ref: '#/nowhere' } } },
    });
    const error = await failure(gate.respond(record.request.id, { decision: 'modify', modified: { a: 1 } }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('cannot be checked');
    expect(error.details?.field).toBe('modified');
    expect((await gate.get(record.request.id))?.status).toBe('pending');
    expect((await gate.respond(record.request.id, { decision: 'approve' })).status).toBe('approved');
  });

  it.each([
    [[], 'request.inputSchema an array must be a JSON Schema object'],
    [{ type: 'text' }, "request.inputSchema.type 'text' is not a JSON Schema type"],
    [{ required: 'a' }, 'request.inputSchema.required'],
    [{ $schema: 'http://json-schema.org/draft-03/schema#' }, 'is not a JSON Schema dialect'],
    [{ description: 'x'.repeat(70_000) }, 'at most 65536 are allowed'],
  ])('submit refuses the schema %#', async (inputSchema, message) => {
    const error = await failure(manager().submit({ toolName: 'delete_user', inputSchema: inputSchema as never }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain(message);
    expect(error.details?.field).toMatch(/^request\.inputSchema/);
  });
});
