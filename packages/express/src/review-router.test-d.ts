// Type tests of createReviewRouter: an Express router, the reviewer type flowing to authorize, option types and error codes.
import type { ApprovalRecord, Manager } from '@hitl/core';
import type { Request, Router } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import { createReviewRouter, type ReviewAction, type Reviewer, type ReviewErrorCode, type ReviewRouterOptions } from './index.js';

declare const manager: Manager;

describe('createReviewRouter types', () => {
  it('returns an Express router', () => {
    expectTypeOf(createReviewRouter({ manager, allowAnonymous: true })).toEqualTypeOf<Router>();
  });

  it('passes the reviewer type returned by authenticate to authorize', () => {
    interface Staff extends Reviewer {
      team: 'payments' | 'support';
    }
    createReviewRouter({
      manager,
      authenticate: async (request): Promise<Staff | null> => {
        expectTypeOf(request).toEqualTypeOf<Request>();
        return request.get('x-team') === 'payments' ? { id: 'alice', team: 'payments' } : null;
      },
      authorize: (reviewer, record, action) => {
        expectTypeOf(reviewer).toEqualTypeOf<Staff>();
        expectTypeOf(record).toEqualTypeOf<ApprovalRecord>();
        expectTypeOf(action).toEqualTypeOf<ReviewAction>();
        return reviewer.team === 'payments' || action === 'view';
      },
    });
  });

  it('accepts sync or async authenticate and authorize', () => {
    const options: ReviewRouterOptions = {
      manager,
      authenticate: (request) => (request.get('x-reviewer') ? { id: 'bob' } : null),
      authorize: async () => true,
    };
    expectTypeOf(options.authenticate).toEqualTypeOf<
      ((request: Request) => Reviewer | null | undefined | false | Promise<Reviewer | null | undefined | false>) | undefined
    >();
  });

  it('requires a manager and checks option types', () => {
    // @ts-expect-error manager is required
    createReviewRouter({ allowAnonymous: true });
    // @ts-expect-error authenticate must return a reviewer with an id
    createReviewRouter({ manager, authenticate: () => ({ name: 'alice' }) });
    // @ts-expect-error dashboard is a boolean
    createReviewRouter({ manager, allowAnonymous: true, dashboard: 'yes' });
  });

  it('names every error code', () => {
    expectTypeOf<'unauthorized' | 'payload_too_large' | 'unsupported_media_type' | 'conflict'>().toExtend<ReviewErrorCode>();
    expectTypeOf<ReviewAction>().toEqualTypeOf<'view' | 'approve' | 'reject' | 'modify' | 'grant'>();
  });
});
