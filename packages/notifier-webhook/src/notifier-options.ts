/** Options parsing of the webhook notifiers: every option checked once, with its default, before anything is sent. */
import type { KeyObject } from 'node:crypto';
import { HitlError, type ApprovalRecord, type Logger, type Scheduler } from '@hitl/core';
import { defaultScheduler, invalidInput, isPlainObject } from '@hitl/core/internal';
import { parseSecrets } from './secret.js';
import { durationOption, functionOption, integerOption } from './validation.js';
import type { NotifierSettings, WebhookNotifierOptions } from './notifier-types.js';

const RESERVED_HEADERS = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);

const defaultLogger: Logger = {
  warn: (message, ...details) => console.warn(message, ...details),
  error: (message, ...details) => console.error(message, ...details),
};

function parseUrl(field: string, value: unknown): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) throw invalidInput(field, value, 'must be a string or a URL');
  let url: URL;
  try {
    url = new URL(value instanceof URL ? value.href : value);
  } catch {
    throw invalidInput(field, value, 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new HitlError('invalid_input', `${field} must use http: or https:, not '${url.protocol}'`, {
      details: { field, value: `'${url.protocol}'` },
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new HitlError('invalid_input', `${field} must not hold credentials; send them in headers (an authorization header)`, {
      details: { field },
    });
  }
  return url;
}

function parseHeaders(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalidInput('headers', value, 'must be an object of header names to string values');
  const result: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower))
      throw new HitlError('invalid_input', `headers.${name} is reserved for Standard Webhooks signing`, {
        details: { field: `headers.${name}` },
      });
    if (typeof headerValue !== 'string') throw invalidInput(`headers.${name}`, headerValue, 'must be a string');
    try {
      new Headers([[name, headerValue]]);
    } catch {
      throw new HitlError('invalid_input', `headers.${name} is not a valid HTTP header name and value`, {
        details: { field: `headers.${name}` },
      });
    }
    result[lower] = headerValue;
  }
  return result;
}

function parseLogger(value: unknown): Logger {
  if (value === undefined) return defaultLogger;
  const logger = value as Partial<Logger> | null;
  if (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw invalidInput('logger', value, 'must have warn and error functions');
  }
  return value as Logger;
}

function parseScheduler(value: unknown): Scheduler {
  if (value === undefined) return defaultScheduler;
  const scheduler = value as Partial<Scheduler> | null;
  if (
    typeof scheduler !== 'object' ||
    scheduler === null ||
    typeof scheduler.setTimeout !== 'function' ||
    typeof scheduler.clearTimeout !== 'function'
  ) {
    throw invalidInput('scheduler', value, 'must have setTimeout and clearTimeout functions');
  }
  return value as Scheduler;
}

/** A notifier's options, checked, with every default filled in. */
export interface ParsedNotifierOptions {
  url: URL;
  /** How the URL appears in messages. */
  label: string;
  name: string;
  keys: KeyObject[];
  timeoutMs: number;
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  buildBody: (record: ApprovalRecord) => unknown;
  maxQueue: number;
  concurrency: number;
  fetchImpl: typeof fetch;
  logger: Logger;
  random: () => number;
  now: () => number;
  scheduler: Scheduler;
  /** Content type, user agent and the user's `headers`, lower-cased. */
  baseHeaders: Record<string, string>;
}

/** Checks every option (throws `HitlError('invalid_input')` naming the field) and fills in the defaults. */
export function parseNotifierOptions(options: WebhookNotifierOptions, settings: NotifierSettings): ParsedNotifierOptions {
  if (!isPlainObject(options)) throw invalidInput('options', options, 'must be an object');
  const url = parseUrl(settings.urlField ?? 'url', options.url);
  const label = settings.label ? settings.label(url) : `${url.origin}${url.pathname}`;
  const name = options.name ?? settings.defaultName;
  if (typeof name !== 'string' || name.trim() === '') throw invalidInput('name', name, 'must be a non-empty string');
  const keys: KeyObject[] = options.secret === undefined ? [] : parseSecrets('secret', options.secret);
  const timeoutMs = durationOption('timeoutMs', options.timeoutMs, 10_000, 1);
  const retry = options.retry ?? {};
  if (!isPlainObject(retry)) throw invalidInput('retry', retry, 'must be an object { attempts?, baseDelayMs?, maxDelayMs? }');
  const attempts = integerOption('retry.attempts', retry.attempts, 5, 1, 100);
  const baseDelayMs = durationOption('retry.baseDelayMs', retry.baseDelayMs, 500, 0);
  const maxDelayMs = durationOption('retry.maxDelayMs', retry.maxDelayMs, 30_000, 0);
  const extraHeaders = parseHeaders(options.headers);
  const buildBody = functionOption<(record: ApprovalRecord) => unknown>('body', options.body, settings.defaultBody);
  const maxQueue = integerOption('maxQueue', options.maxQueue, 1_000, 1, 1_000_000);
  const concurrency = integerOption('concurrency', options.concurrency, 8, 1, 1_000);
  const fetchImpl = functionOption<typeof fetch>('fetch', options.fetch, (input, init) => fetch(input, init));
  const logger = parseLogger(options.logger);
  const random = functionOption<() => number>('random', options.random, Math.random);
  const now = functionOption<() => number>('now', options.now, () => Date.now());
  const scheduler = parseScheduler(options.scheduler);
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': '@hitl/notifier-webhook',
    ...extraHeaders,
  };
  return {
    url,
    label,
    name,
    keys,
    timeoutMs,
    attempts,
    baseDelayMs,
    maxDelayMs,
    buildBody,
    maxQueue,
    concurrency,
    fetchImpl,
    logger,
    random,
    now,
    scheduler,
    baseHeaders,
  };
}
