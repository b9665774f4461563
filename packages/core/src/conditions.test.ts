// Policy conditions: CEL over a call, what is refused at compile, function conditions, bounds on hostile input, and properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCondition, type ConditionResult, type PolicyCall } from './conditions.js';
import { HitlError } from './hitl-error.js';

function callWith(input: Record<string, unknown>, extra: Partial<PolicyCall> = {}): PolicyCall {
  return { toolName: 'refund_payment', input, confidence: 0.9, riskLevel: 'data_modification', ...extra };
}

const refund = callWith({
  amount: 50,
  currency: 'EUR',
  label: '50',
  nothing: null,
  to: ['ann@ourco.com', 'bob@ourco.com'],
  customer: { address: { country: 'DE' }, tags: ['vip'] },
});

describe('compileCondition: CEL over a call', () => {
  // holds: true/false, or 'error' for { ok: false }.
  const table: [string, PolicyCall, boolean | 'error'][] = [
    ['input.amount <= 100 && input.currency == "EUR"', refund, true],
    ['input.amount <= 100 && input.currency == "EUR"', callWith({ amount: 150, currency: 'EUR' }), false],
    ['input.amount <= 100 && input.currency == "EUR"', callWith({ amount: 50, currency: 'USD' }), false],
    // JSON numbers are CEL doubles; comparing them with an int literal is allowed.
    ['input.amount <= 100', callWith({ amount: 100 }), true],
    ['input.amount == 50', refund, true],
    ['input.amount <= 100.5', refund, true],
    // Arithmetic does not mix int and double: write 1.0.
    ['input.amount + 1 > 50', refund, 'error'],
    ['input.amount + 1.0 > 50.0', refund, true],
    // Missing fields are errors, not false; has() tests presence.
    ['input.missing > 1', refund, 'error'],
    ['!(input.missing > 1)', refund, 'error'],
    ['has(input.missing)', refund, false],
    ['!has(input.missing) || input.missing > 1', refund, true],
    ['has(input.customer) && input.customer.address.country == "DE"', refund, true],
    ['input.customer.address.zip == "1"', refund, 'error'],
    // Wrong types are errors.
    ['input.label <= 100', refund, 'error'],
    ['input.amount.startsWith("5")', refund, 'error'],
    ['input.amount <= 100', callWith({ amount: '50' }), 'error'],
    ['input.amount <= 100', callWith({ amount: true }), 'error'],
    // null.
    ['input.nothing == null', refund, true],
    ['input.nothing > 1', refund, 'error'],
    ['input.amount <= 100', callWith({ amount: null }), 'error'],
    // Lists and macros.
    ['input.to.all(a, a.endsWith("@ourco.com"))', refund, true],
    ['input.to.all(a, a.endsWith("@ourco.com"))', callWith({ to: ['ann@ourco.com', 'eve@evil.com'] }), false],
    ['input.to.all(a, a.endsWith("@ourco.com"))', callWith({ to: [] }), true],
    ['input.to.all(a, a.endsWith("@ourco.com"))', callWith({ to: ['ann@ourco.com', 42] }), 'error'],
    ['input.to.all(a, a.endsWith("@ourco.com"))', callWith({ to: 'ann@ourco.com' }), 'error'],
    // all() ranges over a map's keys too; type() pins the shape when that matters.
    ['input.to.all(a, a.endsWith("@ourco.com"))', callWith({ to: {} }), true],
    ['type(input.to) == list && input.to.all(a, a.endsWith("@ourco.com"))', callWith({ to: {} }), false],
    ['input.to.exists(a, a == "bob@ourco.com")', refund, true],
    ['input.to.exists_one(a, a.startsWith("a"))', refund, true],
    ['input.to.map(a, a.size()).all(n, n > 3)', refund, true],
    ['input.to.filter(a, a.startsWith("b")).size() == 1', refund, true],
    ['size(input.to) <= 2 && "vip" in input.customer.tags', refund, true],
    ['input.to[0] == "ann@ourco.com" && input["currency"] == "EUR"', refund, true],
    ['input.to[5] == "x"', refund, 'error'],
    // The other PolicyCall fields.
    ['toolName.startsWith("refund_")', refund, true],
    ['confidence >= 0.8 && riskLevel != "irreversible"', refund, true],
    ['requestedBy == "alice"', callWith({}, { requestedBy: 'alice' }), true],
    ['requestedBy == "alice"', callWith({}), false],
    ['threadId == null && runId == null', callWith({}), true],
    ['threadId.startsWith("t-")', callWith({}), 'error'],
    ['threadId.startsWith("t-") && runId == "r1"', callWith({}, { threadId: 't-1', runId: 'r1' }), true],
    ['has(metadata.source) && metadata.source == "ui"', callWith({}, { metadata: { source: 'ui' } }), true],
    ['has(metadata.source)', callWith({}), false],
    // A dyn result that is not a boolean.
    ['input.amount', refund, 'error'],
    ['input.flag', callWith({ flag: true }), true],
    ['input.flag', callWith({ flag: 'yes' }), 'error'],
  ];

  it.each(table)('%s (case %#)', (source, call, expected) => {
    const result = compileCondition('p', source).test(call);
    if (expected === 'error') {
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toContain(JSON.stringify(source));
    } else {
      expect(result).toEqual({ ok: true, holds: expected });
    }
  });

  it('keeps the source for reasons', () => {
    const condition = compileCondition('small-refunds', 'input.amount <= 100');
    expect(condition).toMatchObject({ kind: 'cel', source: 'input.amount <= 100' });
  });

  it('answers ok: false, not a throw, for a call without an input object', () => {
    const condition = compileCondition('p', 'toolName == "x"');
    expect(condition.test({ ...refund, input: undefined as never }).ok).toBe(false);
  });
});

describe('compileCondition: refused at compile', () => {
  const refused: [string, string, RegExp][] = [
    ['syntax', 'input.amount <=', /^policy 'small-refunds': when "input\.amount <=" is not valid CEL at column 16: /],
    ['unknown variable', 'amount <= 100', /not valid CEL at column 1: .*amount/],
    ['type error', 'toolName + 1 == 2', /not valid CEL at column \d+: no such overload/],
    ['non-boolean type', 'toolName', /is of type string, not bool/],
    ['empty', '  ', /is empty/],
    ['too long', `toolName == "${'a'.repeat(5000)}"`, /is 5014 characters long, more than 4096/],
    ['deep nesting', `${'('.repeat(100)}true${')'.repeat(100)}`, /not valid CEL at column \d+: Exceeded maxDepth/],
    ['deep unary chain', `${'!'.repeat(4000)}true`, /not valid CEL/],
    ['many nodes', `${'true || '.repeat(500)}true`, /not valid CEL at column \d+: Exceeded max(AstNodes|Depth)/],
    ['long list literal', `input.a in [${Array.from({ length: 100 }, (_, index) => index).join(',')}]`, /not valid CEL.*maxListElements/],
    ['matches()', 'input.email.matches("^(a+)+$")', /uses matches\(\) at column 1/],
    ['cel.bind()', 'cel.bind(x, input.to, x.size() > 1)', /uses cel\.bind\(\)/],
    [
      'too many comprehensions',
      'input.a.all(x, x > 0) && input.b.all(x, x > 0) && input.c.all(x, x > 0) && input.d.all(x, x > 0)',
      /has 4 comprehensions/,
    ],
  ];

  it.each(refused)('%s', (_name, source, message) => {
    let thrown: unknown;
    try {
      compileCondition('small-refunds', source);
    } catch (error) {
      thrown = error;
    }
    expect(HitlError.is(thrown, 'invalid_input')).toBe(true);
    expect((thrown as HitlError).message).toMatch(message);
    expect((thrown as HitlError).message).toMatch(/^policy 'small-refunds': when "/);
    expect(thrown).toMatchObject({ code: 'invalid_input', details: { field: "policy 'small-refunds': when" } });
  });

  it('refuses a when that is neither a string nor a function', () => {
    expect(() => compileCondition('p', 42 as never)).toThrow(/when must be a CEL string or a function/);
    expect(() => compileCondition('p', 42 as never)).toThrow(
      expect.objectContaining({ code: 'invalid_input', details: { field: "policy 'p': when", value: 'number' } }),
    );
  });
});

describe('compileCondition: functions', () => {
  it('passes the call through and reports holds', () => {
    const condition = compileCondition('p', function underLimit(call) {
      return (call.input.amount as number) <= 100;
    });
    expect(condition).toMatchObject({ kind: 'function', source: 'function underLimit' });
    expect(condition.test(refund)).toEqual({ ok: true, holds: true });
  });

  it('turns a throw or a non-boolean into ok: false', () => {
    const throwing = compileCondition('p', () => {
      throw new Error('boom');
    });
    expect(throwing.test(refund)).toEqual({ ok: false, reason: 'condition a function threw: boom' });
    const truthy = compileCondition('p', (() => 1) as never);
    expect(truthy.test(refund)).toEqual({ ok: false, reason: 'condition a function returned double 1, not a boolean' });
  });
});

describe('compileCondition: hostile input is bounded', () => {
  /** Counts how many list elements the evaluation reads, through a proxy on the list. */
  function countedList(length: number): { list: number[]; reads: () => number } {
    let reads = 0;
    const list = new Proxy(
      Array.from({ length }, (_, index) => index),
      {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      },
    );
    return { list, reads: () => reads };
  }

  it('refuses nested comprehensions over a 10,000-element list without iterating it', () => {
    const condition = compileCondition('p', 'input.list.all(a, input.list.exists(b, a == b))');
    const { list, reads } = countedList(10_000);
    const result = condition.test(callWith({ list }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/too large for its 2 comprehensions.*limit 100,000/);
    // The size walk refused it from its length alone.
    expect(reads()).toBe(0);
  });

  it('refuses a single loop over a huge list, and runs one over a list within the limit', () => {
    const condition = compileCondition('p', 'input.list.all(a, a >= 0)');
    const huge = countedList(1_000_000);
    expect(condition.test(callWith({ list: huge.list })).ok).toBe(false);
    expect(huge.reads()).toBe(0);
    const small = countedList(1000);
    expect(condition.test(callWith({ list: small.list }))).toEqual({ ok: true, holds: true });
  });

  it('counts huge strings against loops', () => {
    const condition = compileCondition('p', 'input.to.map(a, input.body + input.body).all(b, b.size() > 0)');
    const result = condition.test(callWith({ to: ['a', 'b'], body: 'x'.repeat(10_000_000) }));
    expect(result.ok).toBe(false);
  });

  it('walks a cyclic input without hanging', () => {
    const cyclic: Record<string, unknown> = { list: [1, 2, 3] };
    cyclic.self = cyclic;
    const result = compileCondition('p', 'input.list.all(a, a > 0)').test(callWith(cyclic));
    expect(result.ok).toBe(false);
  });

  it('does not walk the input for a condition without loops', () => {
    const { list, reads } = countedList(1_000_000);
    expect(compileCondition('p', 'size(input.list) > 10').test(callWith({ list }))).toEqual({ ok: true, holds: true });
    expect(reads()).toBeLessThan(10);
  });
});

describe('compileCondition: properties', () => {
  const amount = fc.oneof(
    fc.double({ noNaN: false }),
    fc.integer().map((value) => value),
    fc.string(),
    fc.constant(null),
    fc.boolean(),
    fc.constant(undefined),
    fc.array(fc.integer(), { maxLength: 3 }),
  );
  const currency = fc.oneof(fc.constantFrom('EUR', 'USD', 'eur'), fc.string(), fc.integer(), fc.constant(undefined));
  const emails = fc.oneof(
    fc.array(fc.oneof(fc.emailAddress(), fc.constantFrom('ann@ourco.com', 'x@ourco.com.evil'), fc.string()), { maxLength: 5 }),
    fc.array(fc.anything(), { maxLength: 3 }),
    fc.anything(),
  );
  const inputs = fc.record({ amount, currency, to: emails }, { requiredKeys: [] });

  function holds(result: ConditionResult): boolean {
    return result.ok && result.holds;
  }

  it('holds only when the same predicate computed in JavaScript is true', () => {
    const condition = compileCondition('p', 'input.amount <= 100 && input.currency == "EUR"');
    fc.assert(
      fc.property(inputs, (input) => {
        const predicate = typeof input.amount === 'number' && input.amount <= 100 && input.currency === 'EUR';
        if (holds(condition.test(callWith(input)))) expect(predicate).toBe(true);
        if (predicate) expect(condition.test(callWith(input))).toEqual({ ok: true, holds: true });
      }),
    );
  });

  it('holds for a list condition only when every element is a string on our domain', () => {
    const condition = compileCondition('p', 'input.to.all(a, a.endsWith("@ourco.com"))');
    fc.assert(
      fc.property(inputs, (input) => {
        // CEL ranges over a list's items or a map's keys (so `{}` holds, like `[]`).
        const to: unknown = input.to;
        const items = Array.isArray(to) ? to : typeof to === 'object' && to !== null ? Object.keys(to) : undefined;
        const predicate = items !== undefined && items.every((address) => typeof address === 'string' && address.endsWith('@ourco.com'));
        if (holds(condition.test(callWith(input)))) expect(predicate).toBe(true);
      }),
    );
  });

  it('a condition that errors never holds', () => {
    const erroring = ['input.missing_field > 1', 'input.amount + 1 > 0', 'input.currency.size() > 0 && input.nope', 'input.amount'];
    const conditions = erroring.map((source) => compileCondition('p', source));
    fc.assert(
      fc.property(inputs, (input) => {
        for (const condition of conditions) {
          const result = condition.test(callWith(input));
          if (result.ok) expect(typeof result.holds).toBe('boolean');
          if (!('missing_field' in input) && condition.source === 'input.missing_field > 1') expect(result.ok).toBe(false);
        }
      }),
    );
  });

  it('never throws, whatever the input', () => {
    const condition = compileCondition('p', 'input.to.exists(a, a == input.currency) || input.amount > 3');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.anything()), (input) => {
        const result = condition.test(callWith(input));
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});
