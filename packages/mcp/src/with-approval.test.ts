// withApproval(client) for MCP: read-only calls at once, destructive ones held for a reviewer, rejections as isError results, options.
import { createManager, type ApprovalPolicy, type Manager } from '@hitl/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withApproval } from './index.js';
import { connectedClient, nextPending, startReviewApi, textOf, within } from './test/support.js';

const policies: ApprovalPolicy[] = [
  { name: 'blocked', toolPattern: 'drop_*', deny: true },
  { name: 'reads', toolPattern: '*', maxRiskLevel: 'read_only' },
];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { policies?: ApprovalPolicy[] } = {}) {
  const manager: Manager = createManager({ policies: options.policies ?? policies });
  const client = await connectedClient();
  const warn = vi.fn();
  const gated = withApproval(client, { manager, logger: { warn } });
  const api = await startReviewApi(manager);
  cleanups.push(
    () => manager.close(),
    () => client.close(),
    () => api.close(),
  );
  return { manager, client, gated, api, warn };
}

describe('withApproval(client)', () => {
  it('runs read-only tools at once, with nothing stored', async () => {
    const { gated, manager } = await setup();
    const result = await gated.callTool({ name: 'get_weather', arguments: { city: 'Paris' } });
    expect(textOf(result)).toBe('Sunny in Paris');
    expect(result.isError).toBeUndefined();
    expect((await manager.list()).items).toEqual([]);
  });

  it('holds a destructive call until a reviewer approves it through the Express API', async () => {
    const { gated, manager, api } = await setup();
    const pending = nextPending(manager);
    const call = gated.callTool({ name: 'delete_user', arguments: { id: '42' } });
    const record = await pending;
    expect(record.request).toMatchObject({
      toolName: 'delete_user',
      input: { id: '42' },
      riskLevel: 'irreversible',
      inputSchema: { type: 'object', required: ['id'] },
      metadata: {
        mcp: {
          risk: {
            level: 'irreversible',
            source: 'annotations',
            reason: 'the MCP server marks the tool destructive (destructiveHint: true)',
          },
        },
      },
    });
    expect(record.request.description).toContain('Risk: irreversible (the MCP server marks the tool destructive');
    expect((await api.respond(record.request.id, { decision: 'approve' })).status).toBe(200);
    expect(textOf(await within(call, 'the approved call'))).toBe('deleted user 42');
  });

  it('takes data_modification from destructiveHint: false', async () => {
    const { gated, manager, api } = await setup();
    const pending = nextPending(manager);
    const call = gated.callTool({ name: 'update_note', arguments: { text: 'hi' } });
    const record = await pending;
    expect(record.request.riskLevel).toBe('data_modification');
    await api.respond(record.request.id, { decision: 'approve' });
    expect(textOf(await call)).toBe('note: hi');
  });

  it('returns a rejection as an isError result with the reason, never a thrown error', async () => {
    const { gated, manager, api } = await setup();
    const pending = nextPending(manager);
    const call = gated.callTool({ name: 'delete_user', arguments: { id: '42' } });
    await api.respond((await pending).request.id, { decision: 'reject', feedback: 'wrong user' });
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('Rejected by reviewer: wrong user');
  });

  it('returns a policy denial as an isError result', async () => {
    const { client, manager } = await setup();
    const logger = { warn: () => undefined };
    const gated = withApproval(client, { manager, riskLevel: { delete_user: 'read_only' }, confidence: 1, logger });
    const denyAll = withApproval(client, {
      manager: createManager({ policies: [{ name: 'no-deletes', toolPattern: 'delete_*', deny: true }] }),
      logger,
    });
    const result = await denyAll.callTool({ name: 'delete_user', arguments: { id: '1' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Denied by policy: /);
    // riskLevel from the options wins over the annotations.
    expect(textOf(await gated.callTool({ name: 'delete_user', arguments: { id: '7' } }))).toBe('deleted user 7');
  });

  it('runs a modified call with the edited arguments; an edit the schema refuses is answered 400', async () => {
    const { gated, manager, api } = await setup();
    const pending = nextPending(manager);
    const call = gated.callTool({ name: 'delete_user', arguments: { id: '42' } });
    const id = (await pending).request.id;
    const invalid = await api.respond(id, { decision: 'modify', modified: { id: 'not-a-number' } });
    expect(invalid.status).toBe(400);
    expect(await api.respond(id, { decision: 'modify', modified: { id: '43' } })).toMatchObject({ status: 200 });
    expect(textOf(await call)).toBe('deleted user 43');
  });

  it("cancels the request when the client's signal aborts", async () => {
    const { gated, manager } = await setup();
    const controller = new AbortController();
    const pending = nextPending(manager);
    const call = gated.callTool({ name: 'delete_user', arguments: { id: '42' } }, undefined, { signal: controller.signal });
    const record = await pending;
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'cancelled' });
    expect((await manager.get(record.request.id))?.status).toBe('cancelled');
  });

  it('hides tools with invalid names, with a warning, and refuses calls to them', async () => {
    const { gated, warn } = await setup();
    const { tools } = await gated.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['get_weather', 'get_pid', 'update_note', 'delete_user']);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('hiding MCP tool "bad tool/name"'));
    const result = await gated.callTool({ name: 'bad tool/name', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Refused: tool name 'bad tool\/name' is not a valid tool name/);
  });

  it('carries the thread and the caller-given risk and confidence into the request', async () => {
    const { client, manager, api } = await setup();
    const gated = withApproval(client, {
      manager,
      threadId: (name) => `thread-of-${name}`,
      confidence: 0.25,
      riskLevel: () => 'data_modification',
    });
    const pending = nextPending(manager);
    const call = gated.callTool({ name: 'get_weather', arguments: { city: 'Bern' } });
    const record = await pending;
    expect(record.request).toMatchObject({
      confidence: 0.25,
      riskLevel: 'data_modification',
      threadId: 'thread-of-get_weather',
      metadata: { mcp: { risk: { source: 'options' } } },
    });
    expect(record.request.metadata).not.toHaveProperty('threadId');
    expect((await manager.list({ threadId: 'thread-of-get_weather' })).items).toHaveLength(1);
    await api.respond(record.request.id, { decision: 'approve' });
    expect(textOf(await call)).toBe('Sunny in Bern');
  });

  it('refuses a call whose riskLevel or confidence callback fails (callback_failed), logs it, and never runs it', async () => {
    const { client, manager } = await setup();
    const warn = vi.fn();
    const throwingRisk = withApproval(client, {
      manager,
      logger: { warn },
      riskLevel: () => {
        throw new Error('risk service down');
      },
    });
    const badConfidence = withApproval(client, { manager, logger: { warn }, confidence: () => 1.5 });

    const refused = await throwingRisk.callTool({ name: 'update_note', arguments: { text: 'hi' } });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe("Refused: riskLevel for 'update_note' threw: risk service down");
    expect(refused._meta).toEqual({ 'dev.hitl/rejection': { reason: 'callback_failed' } });
    const alsoRefused = await badConfidence.callTool({ name: 'update_note', arguments: { text: 'hi' } });
    expect(textOf(alsoRefused)).toBe("Refused: confidence for 'update_note' is 1.5; it must be a number between 0 and 1");
    expect(warn).toHaveBeenCalledWith("hitl: refused a call to 'update_note': riskLevel for 'update_note' threw: risk service down");
    expect(warn.mock.calls.filter(([message]) => String(message).startsWith('hitl: refused'))).toHaveLength(2);
    // The tool did not run (it would answer 'note: hi'), and nobody was asked.
    expect((await manager.list()).items).toEqual([]);
  });

  it('leaves the rest of the client as it was', async () => {
    const { gated, client } = await setup();
    expect(gated.getServerVersion()).toEqual(client.getServerVersion());
    expect((await gated.listResources()).resources[0]?.uri).toBe('note://current');
  });

  it('refuses bad options when wrapping', async () => {
    const client = await connectedClient();
    cleanups.push(() => client.close());
    expect(() => withApproval(client, { manager: {} as Manager })).toThrow(/options\.manager must be a Manager/);
    expect(() => withApproval(client, { manager: createManager(), riskLevel: 'high' as never })).toThrow(/options\.riskLevel 'high'/);
    expect(() => withApproval(client, { manager: {} as Manager })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.manager' }) }),
    );
    expect(() => withApproval(client, { manager: createManager(), riskLevel: 'high' as never })).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: expect.objectContaining({ field: 'options.riskLevel' }) }),
    );
  });
});
