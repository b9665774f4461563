/** The event hub: one manager subscription fanned out to the SSE streams, with a replay window. */
import { randomBytes } from 'node:crypto';
import type { ApprovalRecord, Grant, GrantChange, Manager, ManagerEvent, Scheduler } from '@hitl/core';

/** The manager events the stream carries (`notify-failed` stays on the server). */
export type StreamEventType =
  | 'request-created'
  | 'request-decided'
  | 'request-expired'
  | 'request-cancelled'
  | 'request-approval-added'
  | 'grant-created'
  | 'grant-revoked';

const streamedTypes: ReadonlySet<string> = new Set<StreamEventType>([
  'request-created',
  'request-decided',
  'request-expired',
  'request-cancelled',
  'request-approval-added',
]);

/** One event as recorded in the ring buffer, with its SSE frame already serialized. */
export interface StreamEntry {
  seq: number;
  id: string;
  type: StreamEventType;
  /** The record of a `request-*` event. */
  record?: ApprovalRecord;
  /** The grant of a `grant-*` event. */
  grant?: Grant;
  /** `id: ...\nevent: ...\ndata: ...\n\n`. */
  frame: string;
}

export type StreamListener = (entry: StreamEntry) => void;

/** What a new stream gets when it attaches: the events it missed, or a reset. */
export interface Attachment {
  /** The id of the newest event recorded, for the `ready` (and `reset`) frame. */
  currentId: string;
  /** The buffered events after the client's `Last-Event-ID`, oldest first. */
  backlog: StreamEntry[];
  /** Set when the client sent a `Last-Event-ID` that cannot be resumed; says why. */
  reset?: string;
  /** True when the client's `Last-Event-ID` was accepted. */
  resumed: boolean;
}

export interface EventHub {
  attach(listener: StreamListener, lastEventId: string | undefined): Attachment;
  detach(listener: StreamListener): void;
}

interface Run {
  /** Random per run: an id from an earlier run (or another process) never matches. */
  token: string;
  seq: number;
  /** Ring buffer of the newest `bufferSize` entries. */
  ring: Array<StreamEntry | undefined>;
  unsubscribe: () => void;
}

const idPattern = /^([a-z0-9]{1,32})-([0-9]{1,15})$/;

/**
 * One subscription to the manager per router, shared by all connected streams, with a ring buffer
 * of the last `bufferSize` events for `Last-Event-ID` resume. The subscription starts with the
 * first stream and ends `resumeWindowMs` after the last one closed; the buffer (a "run") ends
 * with it, so ids of an ended run get a reset.
 */
export function createEventHub({
  manager,
  bufferSize,
  resumeWindowMs,
  scheduler,
}: {
  manager: Manager;
  bufferSize: number;
  resumeWindowMs: number;
  scheduler: Scheduler;
}): EventHub {
  const listeners = new Set<StreamListener>();
  let run: Run | undefined;
  let lingerTimer: unknown;

  const stopLinger = () => {
    if (lingerTimer === undefined) return;
    scheduler.clearTimeout(lingerTimer);
    lingerTimer = undefined;
  };

  const stop = () => {
    stopLinger();
    if (!run) return;
    const ended = run;
    run = undefined;
    ended.unsubscribe();
  };

  const record = (current: Run, event: ManagerEvent | GrantChange) => {
    if (!streamedTypes.has(event.type) && !('grant' in event)) return;
    const seq = current.seq + 1;
    current.seq = seq;
    const id = `${current.token}-${seq}`;
    const type = event.type as StreamEventType;
    const subject = 'grant' in event ? { grant: event.grant } : { record: event.record };
    const data = JSON.stringify({ type, ...subject });
    const entry: StreamEntry = { seq, id, type, ...subject, frame: `id: ${id}\nevent: ${type}\ndata: ${data}\n\n` };
    current.ring[seq % bufferSize] = entry;
    for (const listener of listeners) {
      try {
        listener(entry);
      } catch {
        // A stream that fails to write closes itself; the others go on.
      }
    }
  };

  const start = (): Run => {
    const current: Run = {
      token: randomBytes(6).toString('hex'),
      seq: 0,
      ring: new Array<StreamEntry | undefined>(bufferSize),
      unsubscribe: () => undefined,
    };
    const unsubscribeRequests = manager.subscribe((event) => record(current, event));
    // A manager from before grants has no subscribeGrants: its stream carries request events only.
    const unsubscribeGrants =
      typeof manager.subscribeGrants === 'function' ? manager.subscribeGrants((change) => record(current, change)) : () => undefined;
    current.unsubscribe = () => {
      unsubscribeRequests();
      unsubscribeGrants();
    };
    run = current;
    return current;
  };

  const resume = (current: Run, lastEventId: string | undefined): Omit<Attachment, 'currentId'> => {
    if (lastEventId === undefined) return { backlog: [], resumed: false };
    const match = idPattern.exec(lastEventId);
    if (!match || match[1] !== current.token) {
      return { backlog: [], resumed: false, reset: `Last-Event-ID '${lastEventId.slice(0, 64)}' is not from the current event stream` };
    }
    const lastSeq = Number(match[2]);
    const oldest = Math.max(1, current.seq - bufferSize + 1);
    if (lastSeq > current.seq || lastSeq < oldest - 1) {
      return {
        backlog: [],
        resumed: false,
        reset: `Last-Event-ID '${lastEventId}' is older than the ${bufferSize} events kept for resuming`,
      };
    }
    const backlog: StreamEntry[] = [];
    for (let seq = lastSeq + 1; seq <= current.seq; seq++) {
      const entry = current.ring[seq % bufferSize];
      if (entry) backlog.push(entry);
    }
    return { backlog, resumed: true };
  };

  return {
    attach(listener, lastEventId) {
      stopLinger();
      const current = run ?? start();
      const attachment = resume(current, lastEventId);
      listeners.add(listener);
      return { ...attachment, currentId: `${current.token}-${current.seq}` };
    },
    detach(listener) {
      if (!listeners.delete(listener) || listeners.size > 0) return;
      if (resumeWindowMs === 0) {
        stop();
        return;
      }
      stopLinger();
      lingerTimer = scheduler.setTimeout(() => {
        lingerTimer = undefined;
        if (listeners.size === 0) stop();
      }, resumeWindowMs);
      (lingerTimer as { unref?: () => void } | undefined)?.unref?.();
    },
  };
}
