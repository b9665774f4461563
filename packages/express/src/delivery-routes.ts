/** The outbox routes of the review router: `GET /deliveries` lists jobs, `POST /deliveries/:id/redeliver` sends a dead one again. */
import { HitlError } from '@hitl/core';
import type { Manager, OutboxJobState, OutboxListQuery } from '@hitl/core';
import type { Request, Router } from 'express';
import { RouteFailure } from './http-errors.js';

const STATES: readonly OutboxJobState[] = ['pending', 'claimed', 'done', 'dead'];
const FIELDS = new Set(['state', 'requestId', 'limit', 'cursor']);

/** The query of `GET /deliveries`: every parameter once, known, bounded. */
export function parseDeliveryQuery(query: Request['query']): OutboxListQuery {
  const result: OutboxListQuery = {};
  for (const [key, value] of Object.entries(query)) {
    if (!FIELDS.has(key))
      throw new HitlError('invalid_input', `query parameter '${key.slice(0, 40)}' is not supported (use ${[...FIELDS].join(', ')})`);
    if (typeof value !== 'string' || value === '' || value.length > 600) {
      throw new HitlError('invalid_input', `query parameter '${key}' must be given once, as a plain value of 1 to 600 characters`);
    }
  }
  const { state, requestId, limit, cursor } = query as Record<string, string | undefined>;
  if (state !== undefined) {
    if (!STATES.includes(state as OutboxJobState))
      throw new HitlError('invalid_input', `state '${state.slice(0, 40)}' is not a delivery state (${STATES.join(', ')})`);
    result.state = state as OutboxJobState;
  }
  if (requestId !== undefined) result.requestId = requestId;
  if (limit !== undefined) {
    const parsed = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : Number.NaN;
    if (!(parsed >= 1 && parsed <= 1000))
      throw new HitlError('invalid_input', `limit '${limit.slice(0, 40)}' must be an integer from 1 to 1000`);
    result.limit = parsed;
  }
  if (cursor !== undefined) result.cursor = cursor;
  return result;
}

export interface DeliveryRouteOptions<TReviewer> {
  manager: Manager;
  identify(request: Request): Promise<TReviewer>;
  /** Whether this reviewer may list and redeliver; false answers 403. */
  mayManage(reviewer: TReviewer): Promise<boolean>;
  send(response: import('express').Response, status: number, body: unknown): void;
}

/** Adds the delivery routes to `router`. */
export function addDeliveryRoutes<TReviewer extends { id: string }>(
  router: Router,
  { manager, identify, mayManage, send }: DeliveryRouteOptions<TReviewer>,
): void {
  const requireManager = async (request: Request) => {
    const reviewer = await identify(request);
    if (typeof manager.listDeliveries !== 'function')
      throw new RouteFailure(404, 'not_found', 'this manager has no deliveries (it predates the outbox)');
    if (!(await mayManage(reviewer))) throw new RouteFailure(403, 'forbidden', `reviewer '${reviewer.id}' may not manage deliveries`);
  };

  router.get('/deliveries', async (request, response) => {
    await requireManager(request);
    const page = await manager.listDeliveries(parseDeliveryQuery(request.query));
    send(response, 200, page);
  });

  router.post('/deliveries/:id/redeliver', async (request, response) => {
    await requireManager(request);
    const id = String(request.params.id);
    if (id.length > 512) throw new HitlError('invalid_input', 'a delivery id has at most 512 characters');
    send(response, 200, await manager.redeliver(id));
  });
}
