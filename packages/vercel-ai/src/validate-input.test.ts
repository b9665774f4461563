// validateToolInput: zod (Standard Schema), the SDK's zodSchema() and jsonSchema() wrappers, and failing closed on anything else.
import { jsonSchema, zodSchema } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validateToolInput } from './validate-input.js';

describe('validateToolInput', () => {
  const zod = z.object({ user_id: z.string().regex(/^\d+$/), note: z.string().default('none') });

  it('validates with a zod schema (Standard Schema) and returns the parsed value', async () => {
    expect(await validateToolInput(zod, { user_id: '42' })).toEqual({ success: true, value: { user_id: '42', note: 'none' } });
    const failed = await validateToolInput(zod, { user_id: 'all' });
    expect(failed.success).toBe(false);
    expect(failed.success === false && failed.message).toMatch(/^user_id: /);
  });

  it("validates with the SDK's zodSchema() and jsonSchema() wrappers, also behind a lazy function", async () => {
    expect(await validateToolInput(zodSchema(zod), { user_id: '7' })).toEqual({ success: true, value: { user_id: '7', note: 'none' } });
    expect((await validateToolInput(zodSchema(zod), { user_id: 7 })).success).toBe(false);
    const checked = jsonSchema<{ n: number }>(
      { type: 'object' },
      {
        validate: (value) =>
          typeof (value as { n?: unknown }).n === 'number'
            ? { success: true, value: value as { n: number } }
            : { success: false, error: new Error('n must be a number') },
      },
    );
    expect(await validateToolInput(() => checked, { n: 1 })).toEqual({ success: true, value: { n: 1 } });
    expect(await validateToolInput(checked, { n: 'x' })).toEqual({ success: false, message: 'n must be a number' });
  });

  it('accepts any value for an SDK jsonSchema() without validate, as the SDK does', async () => {
    expect(await validateToolInput(jsonSchema({ type: 'object' }), { anything: true })).toEqual({
      success: true,
      value: { anything: true },
    });
  });

  it('fails closed on a schema of an unknown kind or a validator that throws', async () => {
    expect(await validateToolInput({ type: 'object' }, {})).toEqual({
      success: false,
      message: 'the tool has an inputSchema of an unknown kind',
    });
    const throwing = {
      '~standard': {
        version: 1,
        vendor: 'x',
        validate: () => {
          throw new Error('boom');
        },
      },
    };
    expect(await validateToolInput(throwing, {})).toEqual({ success: false, message: 'boom' });
  });
});
