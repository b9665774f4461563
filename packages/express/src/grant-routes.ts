// The review router's grant routes (GET/POST /grants, DELETE /grants/:id) and its bulk decision route (POST /requests/respond).
import { HitlError, MAX_RESPOND_MANY } from '@hitl/core';
import type { ApprovalRecord, Grant, GrantInput, Manager } from '@hitl/core';
import type { Request, Response, Router } from 'express';
import { parseGrantBody, parseGrantQuery, parseRespondManyBody } from './grant-parsing.js';
import { RouteFailure } from './http-errors.js';
import type { GrantAction, ReviewAction, Reviewer } from './router-types.js';

export interface GrantRouteContext<TReviewer extends Reviewer> {
  manager: Manager;
  identify(request: Request): Promise<TReviewer>;
  /** `authorize` (true when there is none). */
  allowed(reviewer: TReviewer, record: ApprovalRecord, action: ReviewAction): Promise<boolean>;
  /** True when `authorize` is set and `authorizeGrant` is not: the grant routes answer 403. */
  grantsClosed: boolean;
  /** `authorizeGrant`, failing closed when only `authorize` is set. */
  grantAllowed(reviewer: TReviewer, grant: GrantInput | Grant, action: GrantAction): Promise<boolean>;
  readBody(request: Request, response: Response): Promise<Record<string, unknown>>;
  sendJson(response: Response, status: number, body: unknown): void;
}

/** The records a bulk target names, each of which the reviewer may view (an id they may not is answered as unknown). */
async function targetRecords<TReviewer extends Reviewer>(
  context: GrantRouteContext<TReviewer>,
  reviewer: TReviewer,
  target: ReturnType<typeof parseRespondManyBody>['target'],
): Promise<ApprovalRecord[]> {
  const { manager, allowed } = context;
  let records: (ApprovalRecord | undefined)[];
  let ids: string[];
  if ('ids' in target) {
    ids = target.ids;
    records = await Promise.all(ids.map((id) => manager.get(id)));
  } else {
    const page = await manager.list({ status: 'pending', ...target, limit: MAX_RESPOND_MANY });
    if (page.nextCursor !== undefined) {
      throw new HitlError('invalid_input', `more than ${MAX_RESPOND_MANY} requests are pending there; decide them by ids in batches`);
    }
    records = page.items;
    ids = records.map((record) => record?.request.id as string);
  }
  const visible = await Promise.all(records.map((record) => (record === undefined ? false : allowed(reviewer, record, 'view'))));
  const unknown = ids.filter((_id, index) => !visible[index]);
  if (unknown.length > 0) {
    throw new HitlError('not_found', `nothing was decided: ${unknown.length} request(s) do not exist: ${unknown.slice(0, 20).join(', ')}`, {
      details: { ids: unknown },
    });
  }
  return records as ApprovalRecord[];
}

/** Adds the grant and bulk routes to `router`. */
export function addGrantRoutes<TReviewer extends Reviewer>(router: Router, context: GrantRouteContext<TReviewer>): void {
  const { manager, identify, allowed, grantAllowed, readBody, sendJson } = context;

  router.post('/requests/respond', async (request, response) => {
    const reviewer = await identify(request);
    const { target, decision, feedback } = parseRespondManyBody(await readBody(request, response));
    const records = await targetRecords(context, reviewer, target);
    const verdicts = await Promise.all(records.map((record) => allowed(reviewer, record, decision)));
    const refused = records.filter((_record, index) => !verdicts[index]).map((record) => record.request.id);
    if (refused.length > 0) {
      throw new RouteFailure(
        403,
        'forbidden',
        `nothing was decided: reviewer '${reviewer.id}' may not ${decision} ${refused.length} of these requests: ${refused.slice(0, 20).join(', ')}`,
        refused,
      );
    }
    if (records.length === 0) {
      sendJson(response, 200, { items: [] });
      return;
    }
    const input = feedback === undefined ? { decision, respondedBy: reviewer.id } : { decision, feedback, respondedBy: reviewer.id };
    const items = await manager.respondMany({ ids: records.map((record) => record.request.id) }, input);
    sendJson(response, 200, { items });
  });

  const requireGrantRoutes = (reviewer: TReviewer) => {
    if (context.grantsClosed) {
      throw new RouteFailure(
        403,
        'forbidden',
        `reviewer '${reviewer.id}' may not use the grant routes: the router has authorize but no authorizeGrant`,
      );
    }
  };

  router.get('/grants', async (request, response) => {
    const reviewer = await identify(request);
    requireGrantRoutes(reviewer);
    const query = parseGrantQuery(request.query);
    const { items } = await manager.listGrants(query);
    const verdicts = await Promise.all(items.map((grant) => grantAllowed(reviewer, grant, 'view')));
    sendJson(response, 200, { items: items.filter((_grant, index) => verdicts[index]) });
  });

  router.post('/grants', async (request, response) => {
    const reviewer = await identify(request);
    requireGrantRoutes(reviewer);
    const input: GrantInput = { ...parseGrantBody(await readBody(request, response)), grantedBy: reviewer.id };
    if (!(await grantAllowed(reviewer, input, 'grant'))) {
      throw new RouteFailure(
        403,
        'forbidden',
        `reviewer '${reviewer.id}' may not create grants for '${String(input.toolPattern).slice(0, 80)}'`,
      );
    }
    sendJson(response, 201, await manager.grant(input));
  });

  router.delete('/grants/:id', async (request, response) => {
    const reviewer = await identify(request);
    requireGrantRoutes(reviewer);
    const id = String(request.params.id);
    const grant = await manager.getGrant(id);
    // A grant the reviewer may not see is answered as unknown: other tenants' ids do not leak.
    if (grant === undefined || !(await grantAllowed(reviewer, grant, 'view')))
      throw new HitlError('not_found', `grant '${id}' does not exist`);
    if (!(await grantAllowed(reviewer, grant, 'revoke')))
      throw new RouteFailure(403, 'forbidden', `reviewer '${reviewer.id}' may not revoke grant '${id}'`);
    sendJson(response, 200, await manager.revokeGrant(id, { revokedBy: reviewer.id }));
  });
}
