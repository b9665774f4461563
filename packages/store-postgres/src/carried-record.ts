// The record a `decided` NOTIFY carries (store option `notifyRecords`), taken from the payload only
// when it is exactly a row of the notified change; anything else means reading the row instead.
import type { RecordRow } from './records.js';

/** Columns that are never null, then the nullable ones, as `RECORD_FIELDS` in sql.ts selects them. */
const TEXT_COLUMNS = [
  'id',
  'seq',
  'change_seq',
  'type',
  'tool_name',
  'status',
  'request',
  'evaluation',
  'input_hash',
  'created_ms',
] as const;
const NULLABLE_COLUMNS = ['expires_ms', 'closed_ms', 'closed_reason', 'response', 'approvals_required', 'approvals'] as const;

/**
 * The row in a notification's `record` field, when it has every column with the right type and is
 * the row of the notified record (`id`) at the notified change (`changeSeq`); `undefined` otherwise.
 * The record itself is checked afterwards like any row read from the table (`rowToStored`).
 */
export function carriedRecordRow(value: unknown, id: string, changeSeq: bigint | undefined): RecordRow | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || changeSeq === undefined) return undefined;
  const fields = value as Record<string, unknown>;
  const row: Record<string, string | null> = {};
  for (const column of TEXT_COLUMNS) {
    const field = fields[column];
    if (typeof field !== 'string') return undefined;
    row[column] = field;
  }
  for (const column of NULLABLE_COLUMNS) {
    const field = fields[column];
    if (field !== null && typeof field !== 'string') return undefined;
    row[column] = field;
  }
  if (row.id !== id || row.change_seq !== changeSeq.toString()) return undefined;
  return row as unknown as RecordRow;
}
