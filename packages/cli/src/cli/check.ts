/** `hitl check FILE`: the file's test cases run through core's policy engine, with a diff for each failure. */
import { createManager, type PolicyCall, type PolicyEvaluation, type PolicyOutcome } from '@hitl/core';
import type { PolicyCase, PolicyFile } from '../policy-file.js';
import { ExitCode } from './exit-codes.js';
import { describeDecision, type CommandResult } from './output.js';

/** One case's result, as `--json` prints it. */
export interface CaseResult {
  /** 1-based, in file order. */
  index: number;
  line: number;
  column: number;
  call: PolicyCase['call'];
  expected: { outcome: PolicyOutcome; policy?: string };
  actual: PolicyEvaluation;
  passed: boolean;
}

/** The call a case describes, as `manager.evaluate` takes it; absent fields mean what they mean in `submit`. */
export function callOfCase(call: PolicyCase['call']): PolicyCall {
  const policyCall = { toolName: call.tool, input: call.input ?? {}, confidence: call.confidence, riskLevel: call.risk } as PolicyCall;
  if (call.threadId !== undefined) policyCall.threadId = call.threadId;
  return policyCall;
}

/** Runs every case of a parsed file through a manager holding its policies. */
export function runCases(file: PolicyFile): CaseResult[] {
  const manager = createManager({ policies: file.policies });
  try {
    return file.cases.map((testCase, position) => {
      const actual = manager.evaluate(callOfCase(testCase.call));
      const expected: CaseResult['expected'] = { outcome: testCase.expect };
      if (testCase.policy !== undefined) expected.policy = testCase.policy;
      const passed = actual.outcome === expected.outcome && (expected.policy === undefined || actual.policy === expected.policy);
      return {
        index: position + 1,
        line: testCase.source.line,
        column: testCase.source.column,
        call: testCase.call,
        expected,
        actual,
        passed,
      };
    });
  } finally {
    void manager.close();
  }
}

function describeCall(call: PolicyCase['call']): string {
  const parts = [call.tool];
  if (call.input !== undefined) parts.push(JSON.stringify(call.input));
  if (call.confidence !== undefined) parts.push(`confidence ${call.confidence}`);
  if (call.risk !== undefined) parts.push(`risk ${call.risk}`);
  if (call.threadId !== undefined) parts.push(`thread ${call.threadId}`);
  return parts.join(' ');
}

/** The result of `hitl check` for a parsed file. */
export function checkResult(path: string, file: PolicyFile): CommandResult {
  const results = runCases(file);
  const failed = results.filter((result) => !result.passed);
  const lines = [
    `${path}: valid, ${file.policies.length} ${file.policies.length === 1 ? 'policy' : 'policies'}, ${results.length} ${results.length === 1 ? 'case' : 'cases'}`,
  ];
  for (const result of results) {
    const where = `${path}:${result.line}:${result.column}`;
    if (result.passed) {
      lines.push(
        `  ✓ case ${result.index} ${describeCall(result.call)} → ${describeDecision(result.actual.outcome, result.actual.policy)}`,
      );
      continue;
    }
    lines.push(`  ✗ case ${result.index} at ${where}: ${describeCall(result.call)}`);
    const expectedPolicy = result.expected.policy === undefined ? '' : ` by '${result.expected.policy}'`;
    lines.push(`      - expected: ${result.expected.outcome}${expectedPolicy}`);
    lines.push(`      + actual:   ${describeDecision(result.actual.outcome, result.actual.policy)}`);
    lines.push(`                  ${result.actual.reason}`);
  }
  if (results.length === 0) lines.push('  no test cases (add them under "cases:")');
  else lines.push(failed.length === 0 ? `${results.length} passed` : `${failed.length} failed, ${results.length - failed.length} passed`);
  return {
    exitCode: failed.length === 0 ? ExitCode.Ok : ExitCode.Failed,
    text: lines.join('\n'),
    json: {
      file: path,
      valid: true,
      policies: file.policies.length,
      passed: results.length - failed.length,
      failed: failed.length,
      cases: results,
    },
  };
}
