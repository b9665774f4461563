/** The live event stream (`GET /events`, SSE): request and grant events, the connection state, reconnecting after a refusal. */
import type { ApprovalRecord } from '@hitl/core';
import { url, type Grant } from './api.js';
import { byId } from './dom.js';

export interface StreamHost {
  record(record: ApprovalRecord | undefined): void;
  grant(type: 'grant-created' | 'grant-revoked', grant: Grant): void;
  /** The stream is (again) live; `resumed` when it replayed what was missed (no reload needed). */
  ready(resumed: boolean): void;
  /** The stream was refused or closed: the list is loaded to show why (401, 403...). */
  closed(): void;
}

function parse<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T;
  } catch {
    return undefined;
  }
}

/** Connects now and again after every refusal or when the browser comes back online. */
export function startStream(host: StreamHost): void {
  const statusEl = byId('connection-status');
  const setStatus = (state: string, text: string) => {
    statusEl.setAttribute('data-state', state);
    statusEl.textContent = text;
  };
  let source: EventSource | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  const connect = () => {
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    setStatus('connecting', 'Connecting…');
    const stream = new EventSource(url('events'), { withCredentials: true });
    source = stream;
    const onRecord = (event: MessageEvent<string>) => host.record(parse<{ record?: ApprovalRecord }>(event.data)?.record);
    for (const type of ['request-created', 'request-decided', 'request-expired', 'request-cancelled', 'request-approval-added'])
      stream.addEventListener(type, onRecord);
    for (const type of ['grant-created', 'grant-revoked'] as const) {
      stream.addEventListener(type, (event: MessageEvent<string>) => {
        const grant = parse<{ grant?: Grant }>(event.data)?.grant;
        if (grant) host.grant(type, grant);
      });
    }
    stream.addEventListener('ready', (event: MessageEvent<string>) => {
      setStatus('live', 'Live');
      host.ready(parse<{ resumed?: boolean }>(event.data)?.resumed === true);
    });
    stream.addEventListener('error', () => {
      if (stream.readyState === EventSource.CLOSED) {
        setStatus('offline', navigator.onLine ? 'Disconnected, retrying…' : 'Offline, retrying…');
        stream.close();
        host.closed();
        reconnectTimer = setTimeout(connect, 5000);
      } else {
        setStatus('connecting', navigator.onLine ? 'Reconnecting…' : 'Offline: decisions cannot be sent; reconnecting…');
      }
    });
  };

  window.addEventListener('online', () => {
    if (!source || source.readyState === EventSource.CLOSED) connect();
    // The connection outlived the outage (nothing was lost on it): live again.
    else if (source.readyState === EventSource.OPEN) setStatus('live', 'Live');
    else setStatus('connecting', 'Reconnecting…');
  });
  window.addEventListener('offline', () => setStatus('offline', 'Offline: decisions cannot be sent'));
  connect();
}
