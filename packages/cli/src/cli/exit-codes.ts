/** The `hitl` command's exit codes and the error that carries one. */

/**
 * What `hitl` exits with:
 * - `0` the command did what was asked (every case passed; nothing would change, or changes were only listed);
 * - `1` a test case failed (`check`), or records would change under `replay --fail-on-change`;
 * - `2` a usage error (unknown command or flag, a bad value) or a policy file that is missing or invalid;
 * - `3` the database could not be read (`replay`).
 */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, Unavailable: 3 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem the command reports as a message and an exit code, without a stack. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A usage error: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(ExitCode.Usage, message);
}
