// The file format and core agree on the fields of a policy: a field added to ApprovalPolicy fails here until the schema has it.
import type { ApprovalPolicy } from '@hitl/core';
import { expectTypeOf, test } from 'vitest';

type PolicyFileSchema = typeof import('../policy-file.schema.json', { with: { type: 'json' } });

test('the schema names every field of ApprovalPolicy, and no other', () => {
  expectTypeOf<keyof PolicyFileSchema['definitions']['policy']['properties']>().toEqualTypeOf<keyof ApprovalPolicy>();
});
