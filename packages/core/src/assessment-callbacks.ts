/** Checks on what a user's `riskLevel` / `confidence` callback gave an adapter, and the refusal when it failed. */
import { isRiskLevel, type RiskLevel } from './constants.js';
import { HitlError } from './hitl-error.js';
import type { ToolRejection } from './tool-rejection.js';
import { describeValue } from './validation.js';

/** The callbacks whose failure refuses a call. */
export type AssessmentCallback = 'riskLevel' | 'confidence';

/** `value` when it is a risk level; else throws `HitlError('invalid_input')` (details: field `riskLevel`, the value). */
export function checkedRiskLevel(toolName: string, value: unknown): RiskLevel {
  if (isRiskLevel(value)) return value;
  throw new HitlError(
    'invalid_input',
    `riskLevel for '${toolName}' is ${describeValue(value)}; it must be 'read_only', 'data_modification' or 'irreversible'`,
    { details: { field: 'riskLevel', value: describeValue(value) } },
  );
}

/** `value` when it is `undefined` or a number in [0, 1]; else throws `HitlError('invalid_input')` (details: field `confidence`). */
export function checkedConfidence(toolName: string, value: unknown): number | undefined {
  if (value === undefined || (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1)) return value;
  throw new HitlError('invalid_input', `confidence for '${toolName}' is ${describeValue(value)}; it must be a number between 0 and 1`, {
    details: { field: 'confidence', value: describeValue(value) },
  });
}

/**
 * The refusal of a call whose `riskLevel` or `confidence` callback threw or gave an invalid value
 * (`reason: 'callback_failed'`): the feedback names the callback, the tool and the error. Nobody can
 * judge such a call, so it never runs and never waits for a human.
 */
export function callbackRejection(callback: AssessmentCallback, toolName: string, error: unknown): ToolRejection {
  const named = HitlError.is(error, 'invalid_input') && error.details?.field === callback;
  const problem = error instanceof Error ? error.message : String(error);
  return { reason: 'callback_failed', toolName, feedback: named ? problem : `${callback} for '${toolName}' threw: ${problem}` };
}
