/** Keeps a policy set in step with its file: a valid edit swaps the whole set at once, an invalid one keeps the old set and says why. */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { HitlError, type Logger, type Manager } from '@hitl/core';
import { parsePolicyFile, readPolicyText, type FilePolicy, type ParsePolicyOptions, type PolicyFile } from './policy-file.js';

/**
 * Options of {@link watchPolicies}.
 *
 * @example
 * ```ts
 * const options: WatchPoliciesOptions = { manager, onError: (error) => alerts.send(error.message) };
 * ```
 */
export interface WatchPoliciesOptions {
  /** A manager kept in step: each valid version of the file goes to its `setPolicies` (the initial one too). */
  manager?: Pick<Manager, 'setPolicies'>;
  /** Called with each new valid version, after the manager (if any) has it. */
  onChange?: (policies: FilePolicy[], file: PolicyFile) => void;
  /**
   * Called when the file changed but cannot be used (invalid, unreadable, or refused by the
   * manager): the previous policies stay. Default: a warning through `logger`.
   */
  onError?: (error: HitlError) => void;
  /** Where the default `onError` writes. Default `console`. */
  logger?: Pick<Logger, 'warn'>;
  /** How long the file must be quiet before it is read again, in ms. Default 50: an editor's save is several events. */
  debounceMs?: number;
  /** As in {@link parsePolicyFile}; by default from the extension. */
  format?: ParsePolicyOptions['format'];
}

/**
 * A watched policy file.
 *
 * @example
 * ```ts
 * const watcher = await watchPolicies('policies.yaml', { manager });
 * console.log(watcher.policies.length, watcher.error?.message);
 * watcher.close();
 * ```
 */
export interface PolicyWatcher {
  /** The policies in force: the latest valid version of the file. */
  readonly policies: FilePolicy[];
  /** Why the file's current text is not in force, when it is not; undefined once a valid version applies. */
  readonly error: HitlError | undefined;
  /** How many versions have applied, the initial one included. */
  readonly version: number;
  /** Stops watching (the watch keeps the process alive until then). Nothing changes afterwards. */
  close(): void;
}

/**
 * Loads a policy file and watches it. On every change the file is read and parsed as a whole
 * (schema, globs, conditions, unique names); a valid version replaces the policy set in one step
 * (`manager.setPolicies`), so every evaluation sees the old set or the new one, never part of
 * either. An invalid version changes nothing: the previous policies stay and `onError` gets the
 * `PolicyFileError` naming file, line and column. The initial load throws like
 * `loadPolicyFile` (and nothing is watched then).
 *
 * The file's directory is watched, so editors that save by writing a new file and renaming it
 * over the old one are followed. Write large files that way (atomically): a reader can otherwise
 * see a prefix that happens to be a valid file.
 *
 * @example
 * ```ts
 * import { createManager } from '@hitl/core';
 * import { watchPolicies } from '@hitl/cli';
 *
 * const manager = createManager();
 * const watcher = await watchPolicies('policies.yaml', {
 *   manager,
 *   onChange: (policies) => console.log(`policies reloaded: ${policies.length}`),
 *   onError: (error) => console.warn(`policies.yaml not applied: ${error.message}`),
 * });
 * process.on('SIGTERM', () => watcher.close());
 * ```
 */
export async function watchPolicies(path: string, options: WatchPoliciesOptions = {}): Promise<PolicyWatcher> {
  if (typeof options !== 'object' || options === null)
    throw new HitlError('invalid_input', 'options must be an object', { details: { field: 'options' } });
  const { manager, onChange, logger = console, debounceMs = 50, format } = options;
  if (typeof debounceMs !== 'number' || !Number.isFinite(debounceMs) || debounceMs < 0) {
    throw new HitlError('invalid_input', `options.debounceMs ${String(debounceMs)} must be a non-negative number of milliseconds`, {
      details: { field: 'options.debounceMs' },
    });
  }
  const onError =
    options.onError ??
    ((error: HitlError) => logger.warn(`hitl: ${path} changed but was not applied; the previous policies stay: ${error.message}`));
  const parseOptions: ParsePolicyOptions = format === undefined ? {} : { format };

  let policies: FilePolicy[] = [];
  let lastText: string | undefined;
  let error: HitlError | undefined;
  let version = 1;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reading: Promise<void> | undefined;
  let again = false;

  const fail = (problem: unknown) => {
    error = HitlError.is(problem)
      ? problem
      : new HitlError('invalid_input', `cannot apply ${path}: ${problem instanceof Error ? problem.message : String(problem)}`, {
          cause: problem,
        });
    try {
      onError(error);
    } catch (hookError) {
      logger.warn(`hitl: the onError of watchPolicies('${path}') threw`, hookError);
    }
  };

  const reload = async () => {
    let text: string;
    try {
      text = await readPolicyText(path);
    } catch (problem) {
      fail(problem);
      lastText = undefined;
      return;
    }
    if (closed || text === lastText) return;
    lastText = text;
    let file: PolicyFile;
    try {
      file = parsePolicyFile(text, { ...parseOptions, filename: path });
      manager?.setPolicies(file.policies);
    } catch (problem) {
      fail(problem);
      return;
    }
    policies = file.policies;
    error = undefined;
    version++;
    try {
      onChange?.(file.policies, file);
    } catch (hookError) {
      logger.warn(`hitl: the onChange of watchPolicies('${path}') threw`, hookError);
    }
  };

  /** One read at a time; a change during a read means one more read after it. */
  const readNow = () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = reload().finally(() => {
      reading = undefined;
      if (again) {
        again = false;
        readNow();
      }
    });
  };

  const target = basename(path);
  let watcher: FSWatcher;
  if (typeof path !== 'string' || path === '')
    throw new HitlError('invalid_input', `path ${String(path)} must be a non-empty string`, { details: { field: 'path' } });
  try {
    // Watching starts before the first read, so a change made after that read is never missed.
    watcher = watch(dirname(resolve(path)), (_event, filename) => {
      if (closed || (filename !== null && filename !== target)) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        readNow();
      }, debounceMs);
    });
  } catch (problem) {
    throw new HitlError('invalid_input', `cannot watch policy file '${path}': ${(problem as Error).message}`, { cause: problem });
  }
  watcher.on('error', (problem) => fail(problem));
  try {
    lastText = await readPolicyText(path);
    policies = parsePolicyFile(lastText, { ...parseOptions, filename: path }).policies;
    manager?.setPolicies(policies);
  } catch (problem) {
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    watcher.close();
    throw problem;
  }

  return {
    get policies() {
      return policies;
    },
    get error() {
      return error;
    },
    get version() {
      return version;
    },
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      watcher.close();
    },
  };
}
