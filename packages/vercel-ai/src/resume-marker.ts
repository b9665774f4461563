/** The mark a resumable approval request carries (`metadata.resumeWith: 'ai-sdk'`), and the check of the option that asks for it. */
import { invalidInput } from '@hitl/core/internal';

/** The `metadata.resumeWith` value of requests the AI SDK resumer continues. */
export const AI_SDK_RESUME = 'ai-sdk';

/** Reads `options.resumable`; `true` needs a `threadId` (the key the conversation is saved under). */
export function resumableOption(options: Record<string, unknown>): boolean {
  const { resumable, threadId } = options;
  if (resumable !== undefined && typeof resumable !== 'boolean') throw invalidInput('options.resumable', resumable, 'must be a boolean');
  if (resumable === true && threadId === undefined)
    throw invalidInput('options.threadId', threadId, 'is required with resumable: true (it names the conversation to resume)');
  return resumable === true;
}
