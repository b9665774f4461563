// Positions of values in a parsed YAML/JSON document, for error messages.
import { isCollection, LineCounter, type Document } from 'yaml';
import type { SourcePosition } from './policy-file-error.js';

/** Maps JSON-pointer-like paths (`['policies', 0, 'toolPattern']`) to 1-based line/column. */
export class SourceMap {
  constructor(
    private readonly file: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The position of the node at `path`, or of its nearest existing ancestor. */
  positionOf(path: ReadonlyArray<string | number>, key = false): SourcePosition {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const offset = this.offsetOf(path.slice(0, depth), key && depth === path.length);
      if (offset !== undefined) return this.at(offset);
    }
    return { file: this.file, line: 1, column: 1 };
  }

  at(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  private offsetOf(path: ReadonlyArray<string | number>, key: boolean): number | undefined {
    if (path.length === 0) return this.document.contents?.range?.[0];
    const parent = path.length === 1 ? this.document.contents : this.document.getIn(path.slice(0, -1), true);
    if (!isCollection(parent)) return undefined;
    const last = path[path.length - 1];
    type Ranged = { value?: unknown; range?: [number, number, number] | null } | null;
    for (const [index, item] of (parent.items as unknown[]).entries()) {
      if (typeof item === 'object' && item !== null && 'key' in item) {
        const pair = item as { key: Ranged; value: Ranged };
        if (pair.key?.value === last) {
          return key ? pair.key?.range?.[0] : (pair.value?.range?.[0] ?? pair.key?.range?.[0]);
        }
      } else if (index === last) {
        return (item as Ranged)?.range?.[0];
      }
    }
    return undefined;
  }
}
