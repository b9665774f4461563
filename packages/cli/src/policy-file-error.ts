/** The error a policy file raises: a HitlError with the file, line and column of what is wrong. */
import { HitlError } from '@hitl/core';

/**
 * Where in a policy file something is: 1-based line and column.
 *
 * @example
 * ```ts
 * const where = ({ file, line, column }: SourcePosition) => `${file}:${line}:${column}`;
 * ```
 */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/**
 * A policy file that cannot be used: bad YAML or JSON, a schema violation, or a policy that
 * `addPolicy` refuses. It is a `HitlError('invalid_input')` whose message starts with
 * `file:line:column`, and it carries `file`, `line` and `column` as fields.
 *
 * @example
 * ```ts
 * try {
 *   await loadPolicies('policies.yaml');
 * } catch (error) {
 *   if (error instanceof PolicyFileError) console.error(`${error.file}:${error.line}:${error.column}`, error.problem);
 * }
 * ```
 */
export class PolicyFileError extends HitlError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The message without the position prefix. */
  readonly problem: string;

  constructor(position: SourcePosition, problem: string, options?: { cause?: unknown; path?: string }) {
    super('invalid_input', `${position.file}:${position.line}:${position.column}: ${problem}`, {
      cause: options?.cause,
      details: options?.path === undefined ? undefined : { path: options.path },
    });
    this.name = 'PolicyFileError';
    this.file = position.file;
    this.line = position.line;
    this.column = position.column;
    this.problem = problem;
  }
}
