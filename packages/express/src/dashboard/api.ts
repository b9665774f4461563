/** The router's REST API as the page calls it: relative URLs, so the page works under any mount path. */
import type { ApprovalRecord } from '@hitl/core';

/** A grant as `GET /grants` and the `grant-*` events carry it; `remember` of a respond, as sent. */
export type { Grant, RememberInput as Remember } from '@hitl/core';

const base = location.pathname.endsWith('/') ? location.pathname : `${location.pathname}/`;

export function url(path: string): string {
  return new URL(base + path, location.origin).toString();
}

/** `reference` (a path or an http(s) URL) resolved as the page's API calls are: against the router's mount path. */
export function resolveLink(reference: string): URL | undefined {
  let resolved: URL;
  try {
    resolved = new URL(reference, url(''));
  } catch {
    return undefined;
  }
  return resolved.protocol === 'https:' || resolved.protocol === 'http:' ? resolved : undefined;
}

/** A refusal by the router, with the fields of its JSON error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly serverMessage: string | undefined,
    /** The requests the error is about (a bulk decision's 409 or 403 names them). */
    readonly ids: string[] = [],
  ) {
    super(serverMessage === undefined ? `The server answered ${status}.` : `${serverMessage} (${status}${code ? ` ${code}` : ''})`);
  }
}

/** No answer came back: the page is offline (then nothing was sent), or the server could not be reached. */
export class NetworkError extends Error {
  constructor(
    /** The browser said it was offline when the request failed: the request was not sent. */
    readonly offline: boolean,
    options?: { cause?: unknown },
  ) {
    super(offline ? 'The page is offline: the server could not be reached.' : 'The server could not be reached.', options);
  }
}

/** `fetch`, whose network failure is a {@link NetworkError} (not the browser's "Failed to fetch"). */
async function request(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url(path), { credentials: 'same-origin', ...init });
  } catch (failure) {
    throw new NetworkError(!navigator.onLine, { cause: failure });
  }
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; ids?: unknown };
}

async function readJson<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (body as ErrorBody | null)?.error;
    throw new ApiError(
      response.status,
      typeof error?.code === 'string' ? error.code : undefined,
      typeof error?.message === 'string' ? error.message : undefined,
      Array.isArray(error?.ids) ? error.ids.filter((id): id is string => typeof id === 'string') : [],
    );
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return readJson<T>(await request(path, { headers: { Accept: 'application/json' } }));
}

export async function postJson<T>(path: string, payload: unknown): Promise<T> {
  const response = await request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(payload),
  });
  return readJson<T>(response);
}

export async function deleteJson<T>(path: string): Promise<T> {
  return readJson<T>(await request(path, { method: 'DELETE', headers: { Accept: 'application/json' } }));
}

/**
 * What a decision that got no answer means, said plainly. Offline, nothing was sent. Otherwise the
 * decision may have arrived: the page learns which when it is live again (a recorded decision
 * removes the card), and a card still there was not decided.
 */
export function noAnswerText(failure: NetworkError, subject: 'request' | 'turn'): string {
  const nothing = subject === 'request' ? 'nothing was decided' : 'nothing in this turn was decided';
  const cards = subject === 'request' ? 'this card is' : 'these cards are';
  return failure.offline
    ? `The page is offline, so nothing was sent: ${nothing}. Try again when the status says Live.`
    : `The server could not be reached and no answer came back. If ${cards} still here when the status says Live, ${nothing}: try again.`;
}

/** `requests?…`: the list path with these query parameters (empty ones left out). */
export function listPath(parameters: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value) query.set(name, value);
  return `requests?${query.toString()}`;
}

/** The server-side filters the dashboard offers (`GET /requests` applies them). */
export interface ContextFilter {
  threadId?: string;
  runId?: string;
  /** ISO 8601. */
  createdAfter?: string;
  /** ISO 8601. */
  createdBefore?: string;
}

/** Whether `record` passes `filter`, as the server decides it: for records that arrive live. */
export function matchesFilter(record: ApprovalRecord, filter: ContextFilter): boolean {
  const context = contextOf(record);
  if (filter.threadId && context.threadId !== filter.threadId) return false;
  if (filter.runId && context.runId !== filter.runId) return false;
  const created = Date.parse(record.createdAt);
  if (filter.createdAfter && !(created >= Date.parse(filter.createdAfter))) return false;
  if (filter.createdBefore && !(created < Date.parse(filter.createdBefore))) return false;
  return true;
}

export interface ListPage {
  items: ApprovalRecord[];
  nextCursor?: string;
}

/** The request context fields that newer cores add; read defensively. */
export interface RequestContext {
  threadId?: string;
  runId?: string;
}

export function contextOf(record: ApprovalRecord): RequestContext {
  const request = record.request as ApprovalRecord['request'] & Record<string, unknown>;
  const context: RequestContext = {};
  if (typeof request.threadId === 'string' && request.threadId !== '') context.threadId = request.threadId;
  if (typeof request.runId === 'string' && request.runId !== '') context.runId = request.runId;
  return context;
}
