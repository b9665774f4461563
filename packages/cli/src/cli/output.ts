/** What a command gives back: an exit code, the text for people and the value `--json` prints. */
import type { ExitCode } from './exit-codes.js';

export interface CommandResult {
  exitCode: ExitCode;
  /** Printed without `--json`, followed by a newline. */
  text: string;
  /** Printed as JSON (two-space indented) with `--json`. */
  json: unknown;
}

/** Left-aligned columns, separated by two spaces; cells longer than `maxWidth` are cut with `…`. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidth = 48): string {
  const cut = (cell: string) => (cell.length > maxWidth ? `${cell.slice(0, maxWidth - 1)}…` : cell);
  const cells = [header, ...rows].map((row) => row.map(cut));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `'outcome' by 'policy'`, or the outcome alone when no policy decided. */
export function describeDecision(outcome: string, policy: string | undefined): string {
  return policy === undefined ? `${outcome} (no policy: the default)` : `${outcome} by '${policy}'`;
}
