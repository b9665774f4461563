// Tampered-argument regressions, each a defect this suite found and that is fixed: an id re-submitted
// for another tool inheriting its decision (core); `{ value: x }` and a bare `x` sharing a hash
// (vercel-ai).
import { createManager, HitlError, type Manager } from '@hitl/core';
import { approvalRequestId, needsApproval, submitApprovalRequests, toApprovalResponses } from '@hitl/vercel-ai';
import type { ModelMessage } from 'ai';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { argsPairArbitrary, sameArgs } from './hostile-support-args.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function newManager(): Manager {
  const manager = createManager({
    timeoutMs: 3_600_000,
    policies: [
      { name: 'reads', toolPattern: 'get_*', maxRiskLevel: 'read_only' },
      { name: 'destructive', toolPattern: 'delete_*', requireExplicit: true },
    ],
  });
  cleanups.push(() => manager.close());
  return manager;
}

describe('open defects: an approval for one call used for another', () => {
  // Defect 3 (core, fixed): submit compares only the input hash of an existing id, not the tool name. A
  // re-submit of an auto-approved read's id for a destructive tool with the same input returns the
  // approved record, so an agent loop that uses the model's tool-call ids as request ids runs the
  // destructive call without a human.
  it("re-submitting an id for another tool (same input) is a conflict, not the other tool's decision", async () => {
    const manager = newManager();
    const read = await manager.submit({
      id: 'call_1',
      toolName: 'get_user',
      input: { user_id: '42' },
      riskLevel: 'read_only',
      confidence: 1,
    });
    expect(read.status).toBe('approved');
    await expect(
      manager.submit({ id: 'call_1', toolName: 'delete_user', input: { user_id: '42' }, riskLevel: 'irreversible' }),
    ).rejects.toSatisfy((error) => HitlError.is(error, 'conflict'));
    await expect(
      manager.requestInteraction({ id: 'call_1', toolName: 'delete_user', input: { user_id: '42' }, riskLevel: 'irreversible' }),
    ).rejects.toSatisfy((error) => HitlError.is(error, 'conflict'));
  });

  // Defect 4 (vercel-ai, fixed): a tool input that is not an object is hashed as { value: input }, so an
  // approval of the object { value: x } also approves the bare input x (and the reverse).
  it('an approval of { value: x } is refused for the input x, on the bridge and in needsApproval (500 runs)', async () => {
    const manager = newManager();
    const check = needsApproval(manager, { toolName: 'delete_user', riskLevel: 'irreversible' });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 2 }), async (inner) => {
        const index = run++;
        const conversation = (input: unknown): ModelMessage[] => [
          { role: 'user', content: 'delete the user' },
          {
            role: 'assistant',
            content: [
              { type: 'tool-call', toolCallId: `c-${index}`, toolName: 'delete_user', input },
              { type: 'tool-approval-request', approvalId: `a-${index}`, toolCallId: `c-${index}` },
            ],
          },
        ];
        const [record] = await submitApprovalRequests(manager, conversation({ value: inner }), { riskLevel: 'irreversible' });
        await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
        const answers = await toApprovalResponses(manager, conversation(inner));
        expect(answers.refused).toEqual([`a-${index}`]);
        expect(answers.responses[0]?.approved).toBe(false);
        const resumed = [
          ...conversation(inner),
          { role: 'tool', content: [{ type: 'tool-approval-response', approvalId: `a-${index}`, approved: true }] } as ModelMessage,
        ];
        // ai 6 denies a resumed call when needsApproval answers false.
        expect(await check(inner, { toolCallId: `c-${index}`, messages: resumed })).toBe(false);
        expect(approvalRequestId(`a-${index}`)).toBe(record!.request.id);
      }),
      { numRuns: 500 },
    );
  });

  // Defect 5 (langchain, fixed: the resume value is keyed by interrupt id) is covered by the real
  // createAgent test in hostile-tampered-args.test.ts, which resumes after the thread moved on.

  // The same property as the bridge's, with the unwrap change included: fails on defect 4.
  it('the bridge property with every change, unwrap included (1,000 runs)', async () => {
    const manager = newManager();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(argsPairArbitrary(), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), async (pair, inner, unwrap) => {
        const index = run++;
        const reviewed: unknown = unwrap ? { value: inner } : pair.reviewed;
        const changed: unknown = unwrap ? inner : pair.run;
        const conversation = (input: unknown): ModelMessage[] => [
          {
            role: 'assistant',
            content: [
              { type: 'tool-call', toolCallId: `p-${index}`, toolName: 'delete_user', input },
              { type: 'tool-approval-request', approvalId: `pa-${index}`, toolCallId: `p-${index}` },
            ],
          },
        ];
        const [record] = await submitApprovalRequests(manager, conversation(reviewed), { riskLevel: 'irreversible' });
        await manager.respond(record!.request.id, { decision: 'approve', respondedBy: 'alice' });
        const answers = await toApprovalResponses(manager, conversation(changed));
        expect(answers.refused).toEqual(sameArgs(reviewed, changed) ? [] : [`pa-${index}`]);
      }),
      { numRuns: 1_000 },
    );
  });
});
