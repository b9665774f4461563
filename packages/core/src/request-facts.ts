/** The facts a reviewer reads about a request, as label/value rows: what the decision page and the email show. */
import type { ApprovalRecord } from './types.js';

/**
 * Tool, risk, confidence, who asked (when known), why it needs a human, and when it expires, in that
 * order. The values are plain text: escape them for the page or message they go into.
 */
export function requestFacts(record: ApprovalRecord): Array<[label: string, value: string]> {
  const { request } = record;
  const rows: Array<[string, string]> = [
    ['Tool', request.toolName],
    ['Risk', request.riskLevel ?? 'irreversible'],
    ['Confidence', (request.confidence ?? 0).toFixed(2)],
  ];
  if (request.requestedBy !== undefined) rows.push(['Requested by', request.requestedBy]);
  rows.push(['Why', record.evaluation.reason], ['Expires', record.expiresAt ?? 'never']);
  return rows;
}
