/** `createLogNotifier`: a notifier that writes each pending request to a logger. */
import type { Logger, Notifier } from './types.js';

/**
 * A notifier that logs "human interaction required" at warn level with the request's id, type, tool,
 * description, confidence and risk. Handy in development and as a fallback next to a webhook.
 *
 * @example
 * ```ts
 * import { createLogNotifier, createManager } from '@hitl/core';
 * const manager = createManager({ notifiers: [createLogNotifier(console)] });
 * ```
 */
export function createLogNotifier(logger: Pick<Logger, 'warn'> = console): Notifier {
  return {
    name: 'log',
    async notify(record) {
      const { request } = record;
      logger.warn('human interaction required', {
        id: request.id,
        type: request.type,
        toolName: request.toolName,
        description: request.description,
        confidence: request.confidence ?? 0,
        riskLevel: request.riskLevel ?? 'irreversible',
        expiresAt: record.expiresAt,
      });
    },
  };
}
