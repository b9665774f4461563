// verifyWebhook: the Standard Webhooks vector, timestamp tolerance, rotated secrets, header and body forms, and properties.
import { HitlError } from '@hitl/core';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, verifyWebhook, type VerifyWebhookOptions } from './index.js';
import { parseSecret } from './secret.js';
import { computeSignature, signatureHeader } from './signature.js';

// The known-answer vector of the Standard Webhooks libraries' test suites.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const VECTOR_NOW = VECTOR.timestamp * 1000;

function signed(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader([parseSecret('secret', secret)], id, String(timestamp), body),
  };
}

function failure(options: VerifyWebhookOptions): HitlError {
  try {
    verifyWebhook(options);
  } catch (error) {
    if (HitlError.is(error)) return error;
    throw error;
  }
  throw new Error('verifyWebhook accepted the webhook');
}

function flipByte(text: string, index: number): string {
  const bytes = Buffer.from(text, 'utf8');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('latin1');
}

describe('verifyWebhook', () => {
  it('verifies the Standard Webhooks known-answer vector', () => {
    const headers = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp), 'webhook-signature': VECTOR.signature };

    expect(`v1,${computeSignature(parseSecret('secret', VECTOR.secret), VECTOR.id, String(VECTOR.timestamp), VECTOR.payload)}`).toBe(
      VECTOR.signature,
    );
    expect(verifyWebhook({ secret: VECTOR.secret, headers, rawBody: VECTOR.payload, now: () => VECTOR_NOW })).toEqual({ test: 2432232314 });
    expect(new Webhook(VECTOR.secret).sign(VECTOR.id, new Date(VECTOR_NOW), VECTOR.payload)).toBe(VECTOR.signature);
  });

  it('accepts timestamps 299 s off in either direction and refuses 301 s off in either direction', () => {
    const nowSec = 1_800_000_000;
    const check = (offset: number) => {
      const headers = signed(VECTOR.secret, 'msg_1', nowSec + offset, '{"ok":true}');
      return () => verifyWebhook({ secret: VECTOR.secret, headers, rawBody: '{"ok":true}', now: () => nowSec * 1000 + 999 });
    };

    expect(check(-299)()).toEqual({ ok: true });
    expect(check(299)()).toEqual({ ok: true });
    expect(check(-301)).toThrow(/webhook-timestamp \d+ is too old \(301 s ago; tolerance 300 s\)/);
    expect(check(301)).toThrow(/webhook-timestamp \d+ is too new \(301 s ahead; tolerance 300 s\)/);
    for (const offset of [-301, 301]) {
      let caught: unknown;
      try {
        check(offset)();
      } catch (error) {
        caught = error;
      }
      expect(HitlError.is(caught, 'forbidden')).toBe(true);
    }
  });

  it('honours toleranceSec', () => {
    const headers = signed(VECTOR.secret, 'msg_1', 1_000, '{}');
    expect(verifyWebhook({ secret: VECTOR.secret, headers, rawBody: '{}', toleranceSec: 60, now: () => 1_060_000 })).toEqual({});
    expect(failure({ secret: VECTOR.secret, headers, rawBody: '{}', toleranceSec: 60, now: () => 1_061_000 }).message).toMatch(/too old/);
  });

  it.each([
    ['id', 'webhook-id', 5],
    ['timestamp', 'webhook-timestamp', 9],
    ['signature', 'webhook-signature', 10],
  ] as const)('refuses a webhook whose %s has one flipped byte', (_part, header, index) => {
    const headers = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const tampered = { ...headers, [header]: flipByte(headers[header]!, index) };

    const error = failure({ secret: VECTOR.secret, headers: tampered, rawBody: VECTOR.payload, now: () => VECTOR_NOW });
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(/no v1 signature matches/);
  });

  it('refuses a webhook whose body has one flipped byte, as text or as bytes', () => {
    const headers = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const bytes = Buffer.from(VECTOR.payload, 'utf8');
    for (let index = 0; index < bytes.length; index += 1) {
      const tampered = Buffer.from(bytes);
      tampered[index] = tampered[index]! ^ 0x01;
      for (const rawBody of [tampered, tampered.toString('latin1')]) {
        expect(failure({ secret: VECTOR.secret, headers, rawBody, now: () => VECTOR_NOW }).code).toBe('forbidden');
      }
    }
  });

  it.each([
    ['webhook-id', /the webhook-id header is missing/],
    ['webhook-timestamp', /the webhook-timestamp header is missing/],
    ['webhook-signature', /the webhook-signature header is missing/],
  ])('refuses a webhook without %s', (header, message) => {
    const headers: Record<string, string> = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    delete headers[header];
    const error = failure({ secret: VECTOR.secret, headers, rawBody: VECTOR.payload, now: () => VECTOR_NOW });
    expect(error.code).toBe('forbidden');
    expect(error.message).toMatch(message);
  });

  it('says which check failed', () => {
    const headers = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const base = { secret: VECTOR.secret, rawBody: VECTOR.payload, now: () => VECTOR_NOW };
    const signatureOnly = headers['webhook-signature']!.slice(3);

    expect(failure({ ...base, headers: { ...headers, 'webhook-timestamp': '1614265330.5' } }).message).toMatch(
      /webhook-timestamp header '1614265330.5' is not an integer number of seconds/,
    );
    expect(failure({ ...base, headers: { ...headers, 'webhook-signature': `v1a,${signatureOnly} v2,${signatureOnly}` } }).message).toMatch(
      /has no v1 signature \(only 'v1a', 'v2'\)/,
    );
    expect(failure({ ...base, headers: { ...headers, 'webhook-signature': signatureOnly } }).message).toMatch(/has no v1 signature/);
    expect(failure({ ...base, headers: { ...headers, 'webhook-id': 'msg.1' } }).message).toMatch(/webhook-id header 'msg.1' contains '.'/);
    expect(failure({ ...base, headers: { ...headers, 'Webhook-Id': VECTOR.id } }).message).toMatch(
      /the webhook-id header is given 2 times/,
    );
    expect(failure({ ...base, headers: { ...headers, 'webhook-id': [VECTOR.id, 'msg_2'] } }).message).toMatch(/given 2 times/);
    expect(failure({ ...base, headers: { ...headers, 'webhook-signature': 'v1,short' } }).message).toMatch(
      /no v1 signature matches \(1 tried against 1 secret\)/,
    );
  });

  it('accepts any matching signature of a rotated set, whichever side rotates', () => {
    const oldSecret = VECTOR.secret;
    const newSecret = generateWebhookSecret();
    const headers = signed(oldSecret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const base = { rawBody: VECTOR.payload, now: () => VECTOR_NOW };
    const junk = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';

    expect(verifyWebhook({ ...base, secrets: [newSecret, oldSecret], headers })).toEqual({ test: 2432232314 });
    expect(verifyWebhook({ ...base, secret: [newSecret, oldSecret], headers })).toEqual({ test: 2432232314 });
    const mixed = { ...headers, 'webhook-signature': `${junk} v1a,abc ${headers['webhook-signature']} ${junk}` };
    expect(verifyWebhook({ ...base, secret: oldSecret, headers: mixed })).toEqual({ test: 2432232314 });
    expect(failure({ ...base, secret: newSecret, headers: mixed }).message).toMatch(/no v1 signature matches \(3 tried/);
  });

  it('reads Headers instances and objects with keys in any case, and bodies as text, Buffer, Uint8Array or ArrayBuffer', () => {
    const plain = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const shouting = Object.fromEntries(Object.entries(plain).map(([name, value]) => [name.toUpperCase(), value]));
    const bytes = new TextEncoder().encode(VECTOR.payload);
    const options = { secret: VECTOR.secret, now: () => VECTOR_NOW };

    expect(verifyWebhook({ ...options, headers: new Headers(plain), rawBody: VECTOR.payload })).toEqual({ test: 2432232314 });
    expect(verifyWebhook({ ...options, headers: shouting, rawBody: Buffer.from(bytes) })).toEqual({ test: 2432232314 });
    expect(verifyWebhook({ ...options, headers: plain, rawBody: bytes })).toEqual({ test: 2432232314 });
    expect(verifyWebhook({ ...options, headers: plain, rawBody: bytes.slice().buffer })).toEqual({ test: 2432232314 });
    expect(failure({ ...options, headers: new Headers(), rawBody: VECTOR.payload }).message).toMatch(/webhook-id header is missing/);
  });

  it('accepts a valid signature among several webhook-signature headers, however the receiver got them', () => {
    const base = { 'webhook-id': VECTOR.id, 'webhook-timestamp': String(VECTOR.timestamp) };
    const other = 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
    const verify = (headers: VerifyWebhookOptions['headers']) =>
      verifyWebhook({ secret: VECTOR.secret, headers, rawBody: VECTOR.payload, now: () => VECTOR_NOW });

    // Fetch Headers joins a repeated header with ", ": the valid one first, then last.
    const first = new Headers(base);
    first.append('webhook-signature', VECTOR.signature);
    first.append('webhook-signature', other);
    expect(first.get('webhook-signature')).toBe(`${VECTOR.signature}, ${other}`);
    expect(verify(first)).toEqual({ test: 2432232314 });
    const last = new Headers(base);
    last.append('webhook-signature', other);
    last.append('webhook-signature', VECTOR.signature);
    expect(verify(last)).toEqual({ test: 2432232314 });
    // Node's IncomingHttpHeaders-like arrays, and the space-delimited list of the spec.
    expect(verify({ ...base, 'webhook-signature': [other, VECTOR.signature] })).toEqual({ test: 2432232314 });
    expect(verify({ ...base, 'webhook-signature': `${other} ${VECTOR.signature}` })).toEqual({ test: 2432232314 });
    // Several signatures, none of them valid, still fail.
    const forged = new Headers(base);
    forged.append('webhook-signature', other);
    forged.append('webhook-signature', other.replace('AAAA', 'BBBB'));
    expect(() => verify(forged)).toThrow(/no v1 signature matches \(2 tried/);
    // A repeated webhook-id stays refused: which one was signed is ambiguous.
    expect(() => verify({ ...base, 'webhook-id': [VECTOR.id, 'msg_other'], 'webhook-signature': VECTOR.signature })).toThrow(
      /webhook-id header is given 2 times/,
    );
  });

  it('checks with the standardwebhooks package both ways', () => {
    const secret = generateWebhookSecret();
    const theirs = new Webhook(secret);
    fc.assert(
      fc.property(fc.json(), fc.stringMatching(/^msg_[A-Za-z0-9]{1,24}$/), (body, id) => {
        const now = new Date();
        const timestamp = Math.floor(now.getTime() / 1000);
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': theirs.sign(id, now, body) };
        expect(verifyWebhook({ secret, headers, rawBody: body })).toEqual(JSON.parse(body));
        const ours = signed(secret, id, timestamp, body);
        expect(theirs.verify(body, ours)).toEqual(JSON.parse(body));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses malformed options with invalid_input, never showing the secret', () => {
    const headers = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload);
    const base = { headers, rawBody: VECTOR.payload, now: () => VECTOR_NOW };
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base }, /secret \(or secrets\) is required/],
      [{ ...base, secret: VECTOR.secret, secrets: [VECTOR.secret] }, /give either secret or secrets, not both/],
      [{ ...base, secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, /secret must start with 'whsec_'/],
      [{ ...base, secret: 'whsec_!!!!' }, /secret is not valid base64/],
      [{ ...base, secret: 'whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAR==' }, /secret is not canonical base64/],
      [{ ...base, secrets: 'whsec_x' }, /secrets a string must be a list|secrets 'whsec_x' must be a list/],
      [{ ...base, secret: VECTOR.secret, toleranceSec: 0 }, /toleranceSec 0 must be a positive, finite number/],
      [{ ...base, secret: VECTOR.secret, toleranceSec: Infinity }, /toleranceSec Infinity must be a positive/],
      [{ ...base, secret: VECTOR.secret, rawBody: { test: 1 } }, /rawBody a object must be the raw body/],
      [{ ...base, secret: VECTOR.secret, headers: undefined }, /headers undefined must be a Headers instance/],
      [{ ...base, secret: VECTOR.secret, now: 5 }, /now 5 must be a function/],
      [undefined, /options undefined must be an object/],
    ];
    for (const [options, message] of cases) {
      let caught: unknown;
      try {
        verifyWebhook(options as VerifyWebhookOptions);
      } catch (error) {
        caught = error;
      }
      expect(HitlError.is(caught, 'invalid_input'), String(message)).toBe(true);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa');
      // The field is data too, and it is the one the message names.
      expect((caught as HitlError).details?.field, 'details.field').toEqual(expect.any(String));
      expect((caught as Error).message).toContain((caught as HitlError).details?.field);
    }
  });

  it('refuses a correctly signed body that is not JSON with invalid_input', () => {
    const headers = signed(VECTOR.secret, VECTOR.id, VECTOR.timestamp, 'approve me');
    const error = failure({ secret: VECTOR.secret, headers, rawBody: 'approve me', now: () => VECTOR_NOW });
    expect(error.code).toBe('invalid_input');
    expect(error.message).toBe('rawBody is correctly signed but is not JSON');
    expect(error.details).toEqual({ field: 'rawBody' });
  });
});

describe('verifyWebhook properties', () => {
  const NOW_MS = 1_800_000_000_500;
  const NOW_SEC = Math.floor(NOW_MS / 1000);
  const secretArbitrary = fc.uint8Array({ minLength: 24, maxLength: 64 }).map((bytes) => `whsec_${Buffer.from(bytes).toString('base64')}`);
  const idArbitrary = fc.stringMatching(/^msg_[A-Za-z0-9_-]{1,40}$/);
  const bodyArbitrary = fc.json({ maxDepth: 3 });
  const base64Signature = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64'));

  type Message = { id: string; timestamp: string; body: string; signature: string };
  type Attack = (genuine: Message, secret: string) => { headers: Record<string, unknown> | Headers; rawBody: unknown };

  const asHeaders = (message: Message) => ({
    'webhook-id': message.id,
    'webhook-timestamp': message.timestamp,
    'webhook-signature': message.signature,
  });
  const flip = (text: string, index: number, bit: number) => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length === 0) return `${text}x`;
    const at = index % bytes.length;
    bytes[at] = bytes[at]! ^ (1 << bit);
    return bytes.toString('latin1');
  };

  const attack: fc.Arbitrary<Attack> = fc.oneof(
    fc.constant<Attack>((genuine) => ({ headers: asHeaders(genuine), rawBody: genuine.body })),
    fc
      .tuple(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom('id', 'timestamp', 'body', 'signature'))
      .map(([index, bit, part]): Attack => (genuine) => {
        const changed = { ...genuine, [part]: flip(genuine[part as keyof Message], index, bit) };
        return { headers: asHeaders(changed), rawBody: changed.body };
      }),
    fc.tuple(idArbitrary, fc.integer({ min: -300, max: 300 }), bodyArbitrary).map(([id, offset, body]): Attack => (genuine) => ({
      headers: asHeaders({ ...genuine, id, timestamp: String(NOW_SEC + offset) }),
      rawBody: body,
    })),
    base64Signature.map((signature): Attack => (genuine) => ({
      headers: asHeaders({ ...genuine, signature: `v1,${signature}` }),
      rawBody: genuine.body,
    })),
    fc.constantFrom('v1a', 'v2', 'V1', 'v1 ', '').map((version): Attack => (genuine) => ({
      headers: asHeaders({ ...genuine, signature: `${version},${genuine.signature.slice(3)}` }),
      rawBody: genuine.body,
    })),
    fc
      .tuple(secretArbitrary, idArbitrary, bodyArbitrary)
      .map(([otherSecret, id, body]): Attack => () => ({ headers: signed(otherSecret, id, NOW_SEC, body), rawBody: body })),
    fc.tuple(bodyArbitrary, fc.integer({ min: -300, max: 300 })).map(([body, offset]): Attack => (genuine, secret) => {
      // Replay the genuine signature on other content with a fresh timestamp.
      const replayed = signed(secret, genuine.id, Number(genuine.timestamp), genuine.body);
      return { headers: { ...replayed, 'webhook-timestamp': String(NOW_SEC + offset) }, rawBody: body };
    }),
    fc.array(base64Signature, { maxLength: 4 }).map((junk): Attack => (genuine) => ({
      headers: asHeaders({ ...genuine, signature: [...junk.map((signature) => `v1,${signature}`), genuine.signature].join(' ') }),
      rawBody: genuine.body,
    })),
    fc.constant<Attack>((genuine) => ({ headers: new Headers(asHeaders(genuine)), rawBody: Buffer.from(genuine.body) })),
    fc
      .tuple(fc.dictionary(fc.string({ maxLength: 20 }), fc.anything({ maxDepth: 1 }), { maxKeys: 5 }), fc.anything({ maxDepth: 1 }))
      .map(([headers, rawBody]): Attack => (genuine) => ({ headers: { ...asHeaders(genuine), ...headers }, rawBody })),
  );

  it('accepts nothing but the genuine message, and throws nothing but HitlError (10,000 runs)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        secretArbitrary,
        idArbitrary,
        fc.integer({ min: -299, max: 299 }),
        bodyArbitrary,
        attack,
        (secret, id, offset, body, attacker) => {
          const timestamp = String(NOW_SEC + offset);
          const genuine: Message = { id, timestamp, body, signature: signed(secret, id, Number(timestamp), body)['webhook-signature']! };
          const { headers, rawBody } = attacker(genuine, secret);
          let payload: unknown;
          try {
            payload = verifyWebhook({ secret, headers: headers as Record<string, string>, rawBody: rawBody as string, now: () => NOW_MS });
          } catch (error) {
            expect(HitlError.is(error), String(error)).toBe(true);
            expect(['forbidden', 'invalid_input']).toContain((error as HitlError).code);
            return;
          }
          accepted += 1;
          const read = (name: string) => (headers instanceof Headers ? headers.get(name) : (headers as Record<string, unknown>)[name]);
          expect(read('webhook-id')).toBe(genuine.id);
          expect(read('webhook-timestamp')).toBe(genuine.timestamp);
          expect(Buffer.from(rawBody as string | Uint8Array).equals(Buffer.from(genuine.body))).toBe(true);
          expect(payload).toEqual(JSON.parse(genuine.body));
        },
      ),
      { numRuns: 10_000 },
    );
    // The genuine message and its harmless variants were generated too, and accepted.
    expect(accepted).toBeGreaterThan(500);
  }, 120_000);

  it('throws only HitlError for any input at all (10,000 runs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(secretArbitrary, fc.anything({ maxDepth: 1 }), fc.array(fc.oneof(secretArbitrary, fc.string()), { maxLength: 3 })),
        fc.oneof(
          fc.anything({ maxDepth: 2 }),
          fc.dictionary(
            fc.constantFrom('webhook-id', 'Webhook-Timestamp', 'webhook-signature', 'x'),
            fc.oneof(fc.string(), fc.array(fc.string()), fc.anything()),
          ),
        ),
        fc.oneof(fc.string(), fc.uint8Array(), fc.anything({ maxDepth: 1 })),
        fc.oneof(fc.constant(undefined), fc.anything({ maxDepth: 0 })),
        (secret, headers, rawBody, toleranceSec) => {
          try {
            verifyWebhook({ secret, headers, rawBody, toleranceSec, now: () => NOW_MS } as VerifyWebhookOptions);
          } catch (error) {
            expect(HitlError.is(error), String(error)).toBe(true);
          }
        },
      ),
      { numRuns: 10_000 },
    );
  }, 120_000);
});
