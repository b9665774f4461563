// A Server-Sent Events client for tests: opens a stream over node:http and hands out its frames one match at a time.
import http from 'node:http';

/** One parsed Server-Sent Events frame; comment lines are reported as `{ comment }`. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comment?: string;
}

export interface EventStreamClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every frame received so far, in order. */
  frames: SseFrame[];
  /** Resolves with the first frame (not yet taken by `next`) that matches, or rejects after `timeoutMs`. */
  next(match?: (frame: SseFrame) => boolean, timeoutMs?: number): Promise<SseFrame>;
  /** Resolves with the raw body once the server ends the response (for non-stream answers). */
  body(): Promise<string>;
  /** Resolves when the server closes the connection. */
  ended: Promise<void>;
  close(): void;
}

/** Opens `GET url` and parses the response as an event stream, frame by frame. */
export function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const frames: SseFrame[] = [];
      let taken = 0;
      let raw = '';
      let buffer = '';
      const waiters: Array<() => void> = [];
      let resolveEnded: () => void = () => undefined;
      const ended = new Promise<void>((done) => (resolveEnded = done));
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let boundary = buffer.indexOf('\n\n');
        while (boundary !== -1) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const frame: SseFrame = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              frame.comment = line.slice(1).trim();
              continue;
            }
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id' || field === 'event' || field === 'retry') frame[field] = value;
            if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
          }
          frames.push(frame);
          boundary = buffer.indexOf('\n\n');
        }
        for (const waiter of waiters.splice(0)) waiter();
      });
      let isEnded = false;
      const finish = () => {
        isEnded = true;
        resolveEnded();
        for (const waiter of waiters.splice(0)) waiter();
      };
      response.on('end', finish);
      response.on('close', finish);
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        frames,
        ended,
        next(match = () => true, timeoutMs = 10_000) {
          return new Promise<SseFrame>((resolveFrame, rejectFrame) => {
            const timer = setTimeout(() => {
              const index = waiters.indexOf(check);
              if (index !== -1) waiters.splice(index, 1);
              rejectFrame(new Error(`no matching event-stream frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(taken))}`));
            }, timeoutMs);
            function check(): void {
              for (let index = taken; index < frames.length; index++) {
                const frame = frames[index] as SseFrame;
                if (match(frame)) {
                  taken = index + 1;
                  clearTimeout(timer);
                  resolveFrame(frame);
                  return;
                }
              }
              if (isEnded) {
                clearTimeout(timer);
                rejectFrame(new Error(`the event stream ended before a matching frame; got ${JSON.stringify(frames.slice(taken))}`));
                return;
              }
              waiters.push(check);
            }
            check();
          });
        },
        body: () => ended.then(() => raw),
        close() {
          request.destroy();
        },
      });
    });
    request.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      reject(error);
    });
  });
}
