// Type tests of @hitl/langchain: withApproval keeps the tool's type, wrapTools the tuple; middleware and interrupt types fit LangChain.
import { createManager } from '@hitl/core';
import type { ToolRejection as CoreToolRejection } from '@hitl/core';
import type { ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import type { DynamicTool } from '@langchain/core/tools';
import { createAgent, FakeToolCallingModel, humanInTheLoopMiddleware } from 'langchain';
import type { AgentMiddleware, HITLResponse, InterruptOnConfig } from 'langchain';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { ToolRejectedError, withApproval, wrapTools } from './index.js';
import type { ToolInput, ToolRejection, WithApprovalOptions } from './index.js';
import { approvalMiddleware, toInterruptOn, waitForInterruptDecisions } from './middleware.js';

const manager = createManager();
const deleteUser = tool(async ({ user_id, hard }: { user_id: string; hard: boolean }) => ({ deleted: user_id, hard }), {
  name: 'delete_user',
  description: 'Delete a user',
  schema: z.object({ user_id: z.string(), hard: z.boolean().default(false) }),
});
const search = tool(async (query: string) => query.length, { name: 'search', description: 'Search' });

describe('withApproval types', () => {
  it('returns exactly the type of the tool it wraps', () => {
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });
    expectTypeOf(gated).toEqualTypeOf<typeof deleteUser>();
    expectTypeOf(gated.name).toEqualTypeOf<'delete_user'>();
    expectTypeOf(withApproval(search, { manager, riskLevel: 'read_only' })).toEqualTypeOf<typeof search>();
    expectTypeOf(withApproval(search, { manager, riskLevel: 'read_only' })).toExtend<DynamicTool<number>>();
  });

  it('keeps the input and output types of invoke', () => {
    const gated = withApproval(deleteUser, { manager, riskLevel: 'irreversible' });
    expectTypeOf(gated.invoke).parameter(0).toEqualTypeOf<Parameters<typeof deleteUser.invoke>[0]>();
    expectTypeOf(gated.invoke({ user_id: '1' })).resolves.toEqualTypeOf<{ deleted: string; hard: boolean }>();
    expectTypeOf(
      gated.invoke({ name: 'delete_user', args: { user_id: '1' }, id: 'call-1', type: 'tool_call' }),
    ).resolves.toEqualTypeOf<ToolMessage>();
    // @ts-expect-error user_id must be a string, as for the original tool
    void gated.invoke({ user_id: 1 });
  });

  it('types the callbacks with the parsed input', () => {
    expectTypeOf<ToolInput<typeof deleteUser>>().toEqualTypeOf<{ user_id: string; hard: boolean }>();
    expectTypeOf<ToolInput<typeof search>>().toEqualTypeOf<string | undefined>();
    withApproval(deleteUser, {
      manager,
      riskLevel: (input) => {
        expectTypeOf(input).toEqualTypeOf<{ user_id: string; hard: boolean }>();
        return input.hard ? 'irreversible' : 'data_modification';
      },
      confidence: async (input, toolCall) => {
        expectTypeOf(toolCall?.id).toEqualTypeOf<string | undefined>();
        return input.user_id === 'admin' ? 0 : 0.9;
      },
      describe: (input) => `Delete ${input.user_id}`,
    });
    // @ts-expect-error 'low' is not a risk level
    withApproval(deleteUser, { manager, riskLevel: 'low' });
    // @ts-expect-error riskLevel is required
    withApproval(deleteUser, { manager });
    expectTypeOf<WithApprovalOptions['onReject']>().toEqualTypeOf<'message' | 'throw' | undefined>();
  });

  it('wrapTools keeps each position of the tuple', () => {
    const [first, second] = wrapTools([deleteUser, search], { manager, riskLevel: 'irreversible' });
    expectTypeOf(first).toEqualTypeOf<typeof deleteUser>();
    expectTypeOf(second).toEqualTypeOf<typeof search>();
  });

  it('ToolRejectedError is a HitlError carrying the rejection', () => {
    expectTypeOf<ToolRejectedError['reason']>().toEqualTypeOf<
      'policy' | 'reviewer' | 'timeout' | 'invalid_modification' | 'invalid_tool' | 'callback_failed' | 'unavailable'
    >();
    expectTypeOf<ToolRejection>().toEqualTypeOf<CoreToolRejection>();
    expectTypeOf<ToolRejectedError['code']>().toExtend<string>();
  });
});

describe('middleware types', () => {
  it('approvalMiddleware is agent middleware createAgent accepts', () => {
    const middleware = approvalMiddleware({ manager, riskLevel: { delete_user: 'irreversible' } });
    expectTypeOf(middleware).toExtend<AgentMiddleware>();
    createAgent({
      model: new FakeToolCallingModel(),
      tools: [withApproval(deleteUser, { manager, riskLevel: 'irreversible' })],
      middleware: [middleware],
    });
    approvalMiddleware({
      manager,
      riskLevel: (toolCall) => (toolCall.name.startsWith('get_') ? 'read_only' : 'irreversible'),
      confidence: (toolCall, request) => (request.state.messages.length > 10 ? 0.5 : Number(toolCall.args.confidence ?? 0.9)),
    });
  });

  it('toInterruptOn feeds humanInTheLoopMiddleware, and the decisions feed Command({ resume })', () => {
    const interruptOn = toInterruptOn(manager, [deleteUser, 'search'], { riskLevel: 'irreversible' });
    expectTypeOf(interruptOn).toEqualTypeOf<Record<string, boolean | InterruptOnConfig>>();
    humanInTheLoopMiddleware({ interruptOn });
    expectTypeOf(waitForInterruptDecisions).returns.resolves.toEqualTypeOf<Record<string, HITLResponse>>();
  });
});
