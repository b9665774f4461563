/** The router's Server-Sent Events wiring: one stream per client, resumable by Last-Event-ID, filtered by `authorize`, with heartbeats and a backlog cap. */
import type { ApprovalRecord, Grant, Logger, Scheduler } from '@hitl/core';
import type { Request, Response } from 'express';
import type { EventHub, StreamEntry } from './event-hub.js';

const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;
const RETRY_MS = 3_000;

export interface EventStreamOptions {
  request: Request;
  response: Response;
  hub: EventHub;
  scheduler: Scheduler;
  heartbeatMs: number;
  logger: Pick<Logger, 'error'>;
  /** Whether the reviewer may see a record; absent when everyone may see everything (events then go out at once, unqueued). */
  canView: ((record: ApprovalRecord) => Promise<boolean>) | undefined;
  /** Whether the reviewer may see a grant (its `grant-*` events); absent when everyone may. */
  canViewGrant: ((grant: Grant) => Promise<boolean>) | undefined;
}

/** Answers `GET /events`: writes the stream's headers, the resume backlog, `ready`, then every event the reviewer may see. */
export function openEventStream({
  request,
  response,
  hub,
  scheduler,
  heartbeatMs,
  logger,
  canView: canViewRecord,
  canViewGrant,
}: EventStreamOptions): void {
  let closed = false;
  let heartbeat: unknown;
  let queue: Promise<void> = Promise.resolve();

  const write = (chunk: string) => {
    if (closed || response.writableEnded || response.destroyed) return;
    response.write(chunk);
    // A client that stopped reading is dropped; it reconnects and resumes (or resets).
    if (response.writableLength > MAX_STREAM_BACKLOG_BYTES) response.end();
  };
  const armHeartbeat = () => {
    heartbeat = scheduler.setTimeout(() => {
      if (closed) return;
      write(': heartbeat\n\n');
      armHeartbeat();
    }, heartbeatMs);
  };
  const canView = canViewRecord || canViewGrant ? true : undefined;
  /** Whether the reviewer may see what an entry carries (a record or a grant). */
  const mayView = async (entry: StreamEntry): Promise<boolean> => {
    if (entry.grant !== undefined) return canViewGrant ? canViewGrant(entry.grant) : true;
    return canViewRecord && entry.record !== undefined ? canViewRecord(entry.record) : true;
  };
  const deliver = (entry: StreamEntry) => {
    if (!canView) {
      write(entry.frame);
      return;
    }
    // Keep the order of events even when authorize is async.
    queue = queue.then(async () => {
      if (closed) return;
      try {
        if (await mayView(entry)) write(entry.frame);
      } catch (error) {
        logger.error('hitl: authorize failed while filtering the event stream; the event was withheld', error);
      }
    });
  };
  const listener = (entry: StreamEntry) => deliver(entry);

  response.status(200);
  response.set({
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-store, no-transform',
    'X-Accel-Buffering': 'no',
    'X-Content-Type-Options': 'nosniff',
  });
  // The client may have left while authenticate ran: then there is nothing to attach.
  if (response.destroyed || request.socket.destroyed) return;
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  response.flushHeaders();
  request.socket.setNoDelay(true);
  const lastEventId = request.get('last-event-id');
  const attachment = hub.attach(listener, lastEventId === undefined || lastEventId === '' ? undefined : lastEventId);
  response.on('close', () => {
    closed = true;
    hub.detach(listener);
    if (heartbeat !== undefined) scheduler.clearTimeout(heartbeat);
  });
  write(`retry: ${RETRY_MS}\n\n`);
  if (attachment.reset !== undefined) {
    write(`id: ${attachment.currentId}\nevent: reset\ndata: ${JSON.stringify({ reason: attachment.reset })}\n\n`);
  }
  for (const entry of attachment.backlog) deliver(entry);
  const ready = `id: ${attachment.currentId}\nevent: ready\ndata: ${JSON.stringify({ resumed: attachment.resumed })}\n\n`;
  if (canView) queue = queue.then(() => write(ready));
  else write(ready);
  armHeartbeat();
}
