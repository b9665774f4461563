// Untrusted model output cannot break the webhook JSON, and verifyWebhook accepts no forgery.
//
// 1. Script payloads, lone surrogates, NUL and other control characters, line separators, quote and
//    brace breakers and 1 MB strings in the tool name, description, input keys and values and
//    metadata go through a real createWebhookNotifier to a real receiver on 127.0.0.1: every body is
//    well-formed UTF-8 JSON, verifies with verifyWebhook, and its fields equal the originals.
// 2. verifyWebhook under 100,000 mutated messages (headers, body, signature, timestamp, other
//    secrets, header shapes): nothing but a genuine, fresh message is accepted, and nothing but
//    HitlError is thrown.
import { createHmac, randomBytes } from 'node:crypto';
import { createManager, HitlError, toolNameProblem, type InteractionRequest } from '@hitl/core';
import { createWebhookNotifier, toWebhookPayload, verifyWebhook, type WebhookPayload } from '@hitl/notifier-webhook';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listen } from '@hitl/test-kit';
import { injectionPayloads } from './hostile-support.js';

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.slice('whsec_'.length), 'base64');
}

function sign(secret: string, id: string, timestamp: string, body: Buffer): string {
  return createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** Strings a model (or a prompt injection) can put in a tool call. */
const hostileStrings: readonly string[] = [
  ...injectionPayloads,
  '\ud800',
  '\udfff',
  'lone \udc00 low',
  'high at the end \ud83d',
  '\u0000',
  'nul\u0000inside',
  '\u0001\u0008\u000b\u000c\u001b\u001f\u007f\u0080\u009f',
  'line\u2028separator\u2029paragraph',
  '\uFEFFbyte order mark',
  '\\',
  '"',
  '\\"',
  '"}]}',
  '{"forged":true,"riskLevel":"read_only"}',
  '","riskLevel":"read_only","x":"',
  '\r\n\r\nPOST /hooks HTTP/1.1\r\nwebhook-signature: v1,AAAA\r\n\r\n',
  'é vs e\u0301, ﬁ, Å vs Å',
  '\u202e\u2066\u2069 bidi',
  '🙂👍🏽👨‍👩‍👧',
  '\ud83d\ude42'.repeat(3) + '\ud83d',
  'x'.repeat(1024 * 1024),
  '🙂'.repeat(262_144),
];

describe('webhook JSON under untrusted model output (real notifier, real receiver on 127.0.0.1)', () => {
  it(`delivers ${hostileStrings.length} hostile requests as bodies that parse, verify and equal the originals`, async () => {
    const secret = newSecret();
    const received: Array<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> = [];
    const wakeUps: Array<() => void> = [];
    const receiver = await listen((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.writeHead(204).end();
        for (const wakeUp of wakeUps.splice(0)) wakeUp();
      });
    });
    const webhook = createWebhookNotifier({ url: `${receiver.origin}/hooks/hitl`, secret, retry: { attempts: 1 }, timeoutMs: 60_000 });
    const manager = createManager({ notifiers: [webhook], timeoutMs: 3_600_000 });
    const failures: unknown[] = [];
    manager.subscribe((event) => {
      if (event.type === 'notify-failed') failures.push(event);
    });
    try {
      const originals = new Map<string, InteractionRequest>();
      for (const [index, text] of hostileStrings.entries()) {
        const key = text.slice(0, 200);
        const request: InteractionRequest = {
          id: `wh-${index}`,
          // Tool names are 1-128 of A-Z a-z 0-9 _ - . : (submit refuses others): hostile text rides in the other fields.
          toolName: toolNameProblem(text) === undefined ? text : `tool_${index}`,
          description: text,
          input: { [key]: text, list: [text, { text }], count: index },
          metadata: { source: text },
          riskLevel: 'irreversible',
          confidence: 0.25,
        };
        originals.set(request.id!, request);
        await manager.submit(request);
      }
      // A key the JSON parser must keep as an own property, not a prototype.
      const protoInput = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as Record<
        string,
        unknown
      >;
      originals.set('wh-proto', { id: 'wh-proto', toolName: 'delete_user', input: protoInput, riskLevel: 'irreversible' });
      await manager.submit(originals.get('wh-proto')!);

      const deadline = Date.now() + 60_000;
      while (received.length < originals.size) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} of ${originals.size} webhooks arrived within 60 s`);
        await new Promise<void>((resolve) => {
          wakeUps.push(resolve);
          setTimeout(resolve, 1_000);
        });
      }
      expect(received).toHaveLength(originals.size);
      expect(failures).toEqual([]);

      const seenIds = new Set<string>();
      for (const delivery of received) {
        expect(delivery.headers['content-type']).toMatch(/^application\/json/);
        // Well-formed UTF-8 (lone surrogates travel escaped, not as replacement characters).
        const text = new TextDecoder('utf-8', { fatal: true }).decode(delivery.body);
        const payload = verifyWebhook<WebhookPayload>({ secret, headers: delivery.headers, rawBody: delivery.body });
        expect(JSON.parse(text)).toEqual(payload);
        const original = originals.get(payload.id);
        expect(original, payload.id).toBeDefined();
        expect(payload.toolName).toBe(original!.toolName);
        expect(payload.description).toBe(original!.description);
        expect(payload.input).toEqual(original!.input);
        expect(payload.metadata).toEqual(original!.metadata);
        expect(payload.riskLevel).toBe('irreversible');
        expect(payload).toEqual(JSON.parse(JSON.stringify(toWebhookPayload((await manager.get(payload.id))!))));
        seenIds.add(String(delivery.headers['webhook-id']));
      }
      expect(seenIds.size).toBe(originals.size);
      const proto = received
        .map((delivery) => JSON.parse(delivery.body.toString('utf8')) as WebhookPayload)
        .find((payload) => payload.id === 'wh-proto')!;
      expect(Object.keys(proto.input)).toEqual(['__proto__', 'constructor']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      const biggest = Math.max(...received.map((delivery) => delivery.body.length));
      expect(biggest).toBeGreaterThan(4 * 1024 * 1024);
      expect(webhook.stats()).toMatchObject({ failed: 0 });
    } finally {
      await webhook.close({ deadlineMs: 5_000 });
      await manager.close();
      await receiver.close();
    }
  }, 120_000);
});

// ------------------------------------------------------------------------------------------------
// verifyWebhook: 100,000 runs.

const NOW_SEC = 1_900_000_000;
const NOW_MS = NOW_SEC * 1000 + 123;
const TOLERANCE = 300;

interface Genuine {
  id: string;
  timestamp: string;
  body: Buffer;
  signature: string;
}

const receiverSecret = newSecret();
const rotatedSecret = newSecret();
const attackerSecret = newSecret();

/** Genuine messages, signed with the receiver's secret, fresh, with bodies like the notifier's. */
const genuine: Genuine[] = Array.from({ length: 48 }, (_unused, index) => {
  const text = hostileStrings[index % 40] ?? 'x';
  const body = Buffer.from(
    JSON.stringify({
      id: `hitl-${index}`,
      type: 'approval',
      toolName: 'delete_user',
      description: text.slice(0, 200),
      input: { user_id: String(index), note: text.slice(0, 50) },
    }),
    'utf8',
  );
  const id = `msg_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
  const timestamp = String(NOW_SEC - (index % 7) * 41);
  return { id, timestamp, body, signature: sign(receiverSecret, id, timestamp, body) };
});

type Mutation =
  | 'none'
  | 'header-case'
  | 'headers-instance'
  | 'extra-signatures'
  | 'duplicate-signature-header'
  | 'other-versions'
  | 'rotated-list'
  | 'body-as-string'
  | 'body-as-arraybuffer'
  | 'flip-body-byte'
  | 'insert-body-byte'
  | 'drop-body-byte'
  | 'truncate-body'
  | 'pad-body'
  | 'respace-body'
  | 'splice-body'
  | 'flip-id'
  | 'splice-id'
  | 'dotted-id'
  | 'long-id'
  | 'shift-id-into-timestamp'
  | 'timestamp-offset'
  | 'timestamp-format'
  | 'stale-resigned'
  | 'flip-signature'
  | 'truncate-signature'
  | 'base64url-signature'
  | 'signature-version'
  | 'splice-signature'
  | 'attacker-secret'
  | 'attacker-list'
  | 'missing-header'
  | 'duplicate-header'
  | 'non-string-header'
  | 'empty-signature'
  | 'hex-signature'
  | 'odd-types';

/** Mutations that keep the message genuine: the verifier must accept them. */
const harmless: ReadonlySet<Mutation> = new Set<Mutation>([
  'none',
  'header-case',
  'headers-instance',
  'extra-signatures',
  // webhook-signature sent twice (an array, two keys, or Headers joining with ", "): any one valid
  // signature is enough, as in a space-delimited list.
  'duplicate-signature-header',
  'other-versions',
  'rotated-list',
  'body-as-string',
  'body-as-arraybuffer',
]);

const mutations: readonly Mutation[] = [
  'none',
  'header-case',
  'headers-instance',
  'extra-signatures',
  'duplicate-signature-header',
  'other-versions',
  'rotated-list',
  'body-as-string',
  'body-as-arraybuffer',
  'flip-body-byte',
  'insert-body-byte',
  'drop-body-byte',
  'truncate-body',
  'pad-body',
  'respace-body',
  'splice-body',
  'flip-id',
  'splice-id',
  'dotted-id',
  'long-id',
  'shift-id-into-timestamp',
  'timestamp-offset',
  'timestamp-format',
  'stale-resigned',
  'flip-signature',
  'truncate-signature',
  'base64url-signature',
  'signature-version',
  'splice-signature',
  'attacker-secret',
  'attacker-list',
  'missing-header',
  'duplicate-header',
  'non-string-header',
  'empty-signature',
  'hex-signature',
  'odd-types',
];

interface Attempt {
  id: string;
  timestamp: string;
  body: Buffer;
  signatureHeader: string;
  headers: unknown;
  rawBody: unknown;
  secret: string | string[];
}

function flipByte(buffer: Buffer, at: number, bit: number): Buffer {
  const copy = Buffer.from(buffer);
  if (copy.length === 0) return Buffer.from('x');
  const index = at % copy.length;
  copy[index] = copy[index]! ^ (1 << bit);
  return copy;
}

function flipChar(text: string, at: number): string {
  if (text.length === 0) return 'x';
  const index = at % text.length;
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

/** Builds one attempt from a genuine message; a, b and c are random numbers driving the change. */
function mutate(kind: Mutation, message: Genuine, other: Genuine, a: number, b: number, c: number): Attempt {
  let { id, timestamp, body } = message;
  let signatureHeader = `v1,${message.signature}`;
  let secret: string | string[] = receiverSecret;
  const headerNames = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' };
  let headerShape: 'object' | 'headers' | 'missing' | 'duplicate' | 'duplicate-signature' | 'non-string' | 'odd' = 'object';
  let rawBody: unknown;
  let rawBodySet = false;
  switch (kind) {
    case 'none':
      break;
    case 'header-case':
      headerNames.id = a % 2 === 0 ? 'Webhook-Id' : 'WEBHOOK-ID';
      headerNames.signature = b % 2 === 0 ? 'Webhook-Signature' : 'webhook-SIGNATURE';
      headerNames.timestamp = 'Webhook-Timestamp';
      break;
    case 'headers-instance':
      headerShape = 'headers';
      break;
    case 'extra-signatures': {
      const junk = [`v1,${sign(attackerSecret, id, timestamp, body)}`, `v1,${flipChar(message.signature, a)}`, 'v1,', 'v1,AAAA'];
      const list = junk.slice(0, 1 + (b % junk.length));
      list.splice(c % (list.length + 1), 0, `v1,${message.signature}`);
      signatureHeader = list.join(b % 3 === 0 ? '  ' : ' ');
      break;
    }
    case 'other-versions':
      signatureHeader = `v1a,${Buffer.from('ed25519-signature').toString('base64')} v2,xyz ${signatureHeader}`;
      break;
    case 'rotated-list':
      secret = a % 2 === 0 ? [rotatedSecret, receiverSecret] : [receiverSecret, rotatedSecret];
      break;
    case 'body-as-string':
      rawBody = body.toString('utf8');
      rawBodySet = true;
      break;
    case 'body-as-arraybuffer':
      rawBody = body.buffer.slice(body.byteOffset, body.byteOffset + body.length);
      rawBodySet = true;
      break;
    case 'flip-body-byte':
      body = flipByte(body, a, b % 8);
      break;
    case 'insert-body-byte': {
      const at = a % (body.length + 1);
      body = Buffer.concat([body.subarray(0, at), Buffer.from([b % 256]), body.subarray(at)]);
      break;
    }
    case 'drop-body-byte': {
      const at = a % Math.max(1, body.length);
      body = Buffer.concat([body.subarray(0, at), body.subarray(at + 1)]);
      break;
    }
    case 'truncate-body':
      body = body.subarray(0, a % Math.max(1, body.length));
      break;
    case 'pad-body':
      body = Buffer.concat([body, Buffer.from([' ', '\n', '\u0000', '\t'][a % 4]!)]);
      break;
    case 'respace-body':
      body = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')) as unknown, null, 1 + (a % 3)), 'utf8');
      break;
    case 'splice-body':
      body = other.body;
      break;
    case 'flip-id':
      id = flipChar(id, a);
      break;
    case 'splice-id':
      id = other.id;
      break;
    case 'dotted-id':
      // Moves the boundary: the signed text `${id}.${timestamp}.${body}` cannot be re-cut with a dot in the id.
      id = `${message.id}.${message.timestamp}`;
      timestamp = String(NOW_SEC);
      break;
    case 'long-id':
      id = message.id + 'x'.repeat(250 + (a % 20));
      break;
    case 'shift-id-into-timestamp':
      id = message.id + message.timestamp.slice(0, 1 + (a % 3));
      timestamp = message.timestamp.slice(1 + (a % 3));
      break;
    case 'timestamp-offset': {
      const offsets = [1, -1, TOLERANCE, -TOLERANCE, TOLERANCE + 1, -(TOLERANCE + 1), 86_400, -86_400, 10 ** 9];
      timestamp = String(Number(message.timestamp) + offsets[a % offsets.length]!);
      break;
    }
    case 'timestamp-format': {
      const formats = [
        `0${timestamp}`,
        `+${timestamp}`,
        `${timestamp}.0`,
        `${timestamp} `,
        ` ${timestamp}`,
        `${Number(timestamp)}e0`,
        `${timestamp}000`,
        '',
        '-1',
        'NaN',
        `0x${Number(timestamp).toString(16)}`,
      ];
      timestamp = formats[a % formats.length]!;
      break;
    }
    case 'stale-resigned': {
      // A genuine signature of the same message made long ago (a replay outside the tolerance).
      timestamp = String(NOW_SEC - TOLERANCE - 1 - (a % 100_000));
      signatureHeader = `v1,${sign(receiverSecret, id, timestamp, body)}`;
      break;
    }
    case 'flip-signature':
      signatureHeader = `v1,${flipChar(message.signature, a)}`;
      break;
    case 'truncate-signature':
      signatureHeader = `v1,${message.signature.slice(0, a % message.signature.length)}`;
      break;
    case 'base64url-signature': {
      const variants = [
        message.signature.replace(/\+/g, '-').replace(/\//g, '_'),
        message.signature.replace(/=+$/, ''),
        `${message.signature}=`,
        message.signature.toLowerCase(),
        ` ${message.signature}`,
      ];
      const variant = variants[a % variants.length]!;
      signatureHeader = variant === message.signature ? `v1,${flipChar(message.signature, b)}` : `v1,${variant}`;
      break;
    }
    case 'signature-version':
      signatureHeader = `${['v1a', 'V1', 'v2', 'v0', 'v1 ', 'v1;', '', 'v11'][a % 8]},${message.signature}`;
      break;
    case 'splice-signature':
      signatureHeader = `v1,${other.signature}`;
      break;
    case 'attacker-secret':
      signatureHeader = `v1,${sign(attackerSecret, id, timestamp, body)}`;
      break;
    case 'attacker-list':
      secret = [attackerSecret, rotatedSecret];
      break;
    case 'missing-header':
      headerShape = 'missing';
      break;
    case 'duplicate-header':
      headerShape = 'duplicate';
      break;
    case 'duplicate-signature-header':
      headerShape = 'duplicate-signature';
      break;
    case 'non-string-header':
      headerShape = 'non-string';
      break;
    case 'empty-signature':
      signatureHeader = ['', ' ', 'v1', 'v1,', ',', '  v1,  '][a % 6]!;
      break;
    case 'hex-signature':
      signatureHeader = `v1,${Buffer.from(message.signature, 'base64').toString('hex')}`;
      break;
    case 'odd-types':
      // Headers or a body of a type no receiver framework gives: refused, never a TypeError.
      if (a % 2 === 0) headerShape = 'odd';
      else {
        rawBody = [
          null,
          undefined,
          42,
          {},
          new Uint16Array(body.length),
          new DataView(new ArrayBuffer(4)),
          [body],
          body.toString('utf8').split(''),
        ][b % 8];
        rawBodySet = true;
      }
      break;
  }
  const values: Record<string, unknown> = {
    [headerNames.id]: id,
    [headerNames.timestamp]: timestamp,
    [headerNames.signature]: signatureHeader,
  };
  let headers: unknown = values;
  if (headerShape === 'headers') headers = new Headers(values as Record<string, string>);
  if (headerShape === 'odd') {
    const throwing = {
      get: () => {
        throw new TypeError('header store unavailable');
      },
    };
    headers = [
      null,
      'webhook-id: x',
      [values],
      throwing,
      { get: () => 42 },
      { get: () => ({ toString: () => id }) },
      Object.entries(values),
    ][b % 7];
  }
  if (headerShape === 'missing') delete values[[headerNames.id, headerNames.timestamp, headerNames.signature][a % 3]!];
  if (headerShape === 'duplicate') {
    // A repeated id or timestamp is ambiguous (which one was signed?): refused.
    const name = [headerNames.id, headerNames.timestamp][a % 2]!;
    values[name] = b % 2 === 0 ? [values[name], values[name]] : values[name];
    if (b % 2 === 1) values[name.toUpperCase()] = values[name];
  }
  if (headerShape === 'duplicate-signature') {
    const name = headerNames.signature;
    const junk = `v1,${sign(attackerSecret, id, timestamp, body)}`;
    const pair = b % 2 === 0 ? [values[name] as string, junk] : [junk, values[name] as string];
    if (c % 3 === 0) values[name] = pair;
    else if (c % 3 === 1) {
      values[name] = pair[0]!;
      values[name.toUpperCase()] = pair[1]!;
    } else {
      const fetchHeaders = new Headers();
      for (const [key, value] of Object.entries(values)) if (key !== name) fetchHeaders.set(key, value as string);
      fetchHeaders.append(name, pair[0]!);
      fetchHeaders.append(name, pair[1]!);
      headers = fetchHeaders;
    }
  }
  if (headerShape === 'non-string') {
    const name = [headerNames.id, headerNames.timestamp, headerNames.signature][a % 3]!;
    values[name] = [Number(timestamp), null, { toString: () => String(values[name]) }, [], true][b % 5];
  }
  return { id, timestamp, body, signatureHeader, headers, rawBody: rawBodySet ? rawBody : body, secret };
}

/** True when the attempt is, byte for byte, a genuine message still inside the tolerance. */
function isGenuine(attempt: Attempt): boolean {
  const match = genuine.find(
    (message) => message.id === attempt.id && message.timestamp === attempt.timestamp && message.body.equals(attempt.body),
  );
  return match !== undefined && Math.abs(Math.floor(NOW_MS / 1000) - Number(attempt.timestamp)) <= TOLERANCE;
}

describe('verifyWebhook under 100,000 mutated messages', () => {
  it('accepts only genuine, fresh messages (and all their harmless variants); throws nothing but HitlError', () => {
    const runs = 100_000;
    const outcomes = new Map<Mutation, { runs: number; accepted: number }>();
    let forgeries = 0;
    const started = performance.now();
    fc.assert(
      fc.property(
        fc.nat({ max: genuine.length - 1 }),
        fc.nat({ max: genuine.length - 1 }),
        fc.constantFrom(...mutations),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        (index, otherIndex, kind, a, b, c) => {
          const message = genuine[index]!;
          const other = genuine[otherIndex === index ? (index + 1) % genuine.length : otherIndex]!;
          const attempt = mutate(kind, message, other, a, b, c);
          const tally = outcomes.get(kind) ?? { runs: 0, accepted: 0 };
          tally.runs += 1;
          outcomes.set(kind, tally);
          let payload: unknown;
          try {
            payload = verifyWebhook({
              secret: attempt.secret,
              headers: attempt.headers as Record<string, string>,
              rawBody: attempt.rawBody as Buffer,
              now: () => NOW_MS,
            });
          } catch (error) {
            if (!HitlError.is(error)) throw new Error(`${kind}: threw a non-HitlError: ${String(error)}`);
            if (error.code !== 'forbidden' && error.code !== 'invalid_input') throw new Error(`${kind}: unexpected code ${error.code}`);
            if (harmless.has(kind)) throw new Error(`${kind}: a genuine message was refused: ${error.message}`);
            return;
          }
          tally.accepted += 1;
          if (!isGenuine(attempt)) {
            forgeries += 1;
            throw new Error(
              `${kind}: accepted a forgery ${JSON.stringify({ id: attempt.id, timestamp: attempt.timestamp, signature: attempt.signatureHeader })}`,
            );
          }
          expect(payload).toEqual(JSON.parse(attempt.body.toString('utf8')));
        },
      ),
      { numRuns: runs },
    );
    const elapsedMs = performance.now() - started;
    const total = [...outcomes.values()].reduce((sum, tally) => sum + tally.runs, 0);
    expect(total).toBe(runs);
    expect(forgeries).toBe(0);
    // Every kind of change was tried many times; harmless ones all accepted, the rest refused.
    for (const kind of mutations) {
      const tally = outcomes.get(kind);
      expect(tally?.runs ?? 0, kind).toBeGreaterThan(1_000);
      // Every other change makes the message something the receiver's secret never signed, or stale.
      expect(tally?.accepted, kind).toBe(harmless.has(kind) ? tally?.runs : 0);
    }
    const refused = total - [...outcomes.values()].reduce((sum, tally) => sum + tally.accepted, 0);
    expect(refused).toBeGreaterThan(60_000);
    console.info(
      `verifyWebhook: ${total} runs, ${refused} refused, ${total - refused} genuine accepted, 0 forgeries, ${Math.round(elapsedMs)} ms`,
      Object.fromEntries(outcomes),
    );
  }, 170_000);
});
