// A logger for tests that remembers what it was told, and when; structurally a `@hitl/core` Logger.

/** One logged line: its level, message, extra arguments and `Date.now()` when it was logged. */
export interface LogEntry {
  level: string;
  message: string;
  details: unknown[];
  at: number;
}

/** A logger that remembers what it was told. */
export interface RecordingLogger {
  readonly entries: LogEntry[];
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  info(message: string, ...details: unknown[]): void;
  debug(message: string, ...details: unknown[]): void;
  /** The messages logged at `level` (every level when omitted), in order. */
  messages(level?: string): string[];
}

/**
 * @example
 * const logger = createRecordingLogger();
 * const store = createPostgresStore({ pool, logger });
 * expect(logger.messages('warn')).toEqual([]);
 */
export function createRecordingLogger(): RecordingLogger {
  const entries: LogEntry[] = [];
  const record =
    (level: string) =>
    (message: string, ...details: unknown[]) => {
      entries.push({ level, message, details, at: Date.now() });
    };
  return {
    entries,
    warn: record('warn'),
    error: record('error'),
    info: record('info'),
    debug: record('debug'),
    messages: (level) => entries.filter((entry) => level === undefined || entry.level === level).map((entry) => entry.message),
  };
}
