// apps/demo/policies.yaml against the demo's code: the same policies in the same order, and a passing case for each.
import { readFileSync } from 'node:fs';
import { loadPolicyFile } from '@hitl/cli';
import { createManager } from '@hitl/core';
import { describe, expect, it } from 'vitest';
import { supportPolicies } from './policies.js';

const path = new URL('../policies.yaml', import.meta.url);

describe('policies.yaml, the demo policies as code', () => {
  it('holds exactly the policies the demo runs with, in the same order', async () => {
    const { policies } = await loadPolicyFile(path.pathname);
    expect(policies).toEqual(supportPolicies);
  });

  it("has a passing case for each of the seven policies, and the cases agree with the demo's manager", async () => {
    const { cases } = await loadPolicyFile(path.pathname);
    const manager = createManager({ policies: supportPolicies });
    const decided = new Set<string>();
    for (const { call, expect: outcome, policy } of cases) {
      const evaluation = manager.evaluate({
        toolName: call.tool,
        input: call.input ?? {},
        confidence: call.confidence ?? 0,
        riskLevel: call.risk ?? 'irreversible',
      });
      expect({ tool: call.tool, outcome: evaluation.outcome, policy: evaluation.policy }).toEqual({ tool: call.tool, outcome, policy });
      if (evaluation.policy) decided.add(evaluation.policy);
    }
    expect([...decided].sort()).toEqual(supportPolicies.map((entry) => entry.name).sort());
    expect(readFileSync(path, 'utf8')).toContain('$schema=');
    await manager.close();
  });
});
