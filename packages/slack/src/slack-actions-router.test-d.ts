// Type test of createSlackActionsRouter: resolveReviewer returns @hitl/express's Reviewer, and authorize receives it.
import type { Manager } from '@hitl/core';
import type { Reviewer } from '@hitl/express';
import type { Router } from 'express';
import { expectTypeOf, test } from 'vitest';
import { createSlackActionsRouter } from './index.js';

declare const manager: Manager;

test('resolveReviewer returns the Reviewer type @hitl/express uses, and authorize receives it', () => {
  interface TeamReviewer extends Reviewer {
    team: string;
  }
  const router = createSlackActionsRouter<TeamReviewer>({
    manager,
    token: 'xoxb-1',
    signingSecret: 'secret',
    resolveReviewer: async (userId, teamId) => (teamId ? { id: userId, team: teamId } : null),
    authorize: (reviewer, record, action) => {
      expectTypeOf(reviewer.team).toEqualTypeOf<string>();
      expectTypeOf(action).toEqualTypeOf<'view' | 'approve' | 'reject' | 'modify' | 'grant'>();
      return record.status === 'pending';
    },
  });
  expectTypeOf(router).toEqualTypeOf<Router>();
});
