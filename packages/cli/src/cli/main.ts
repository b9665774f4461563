/** The `hitl` command: parses the arguments, runs check, explain or replay, and prints text or JSON. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HitlError } from '@hitl/core';
import { PolicyFileError } from '../policy-file-error.js';
import { loadPolicyFile, type PolicyFile } from '../policy-file.js';
import { checkResult } from './check.js';
import { CliError, ExitCode, usageError } from './exit-codes.js';
import { callOfFlags, explainResult } from './explain.js';
import { CHECK_HELP, EXPLAIN_HELP, PROGRAM_HELP, REPLAY_HELP } from './help.js';
import type { CommandResult } from './output.js';
import { parseLimit, parseSince, readStoredDecisions, requireIdentifier } from './replay-source.js';
import { replayResult } from './replay.js';

/** Where the command writes and what it reads of its environment. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  now(): number;
}

const common = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const commands = {
  check: { help: CHECK_HELP, options: { ...common } },
  explain: {
    help: EXPLAIN_HELP,
    options: {
      ...common,
      tool: { type: 'string' },
      input: { type: 'string' },
      confidence: { type: 'string' },
      risk: { type: 'string' },
      thread: { type: 'string' },
    },
  },
  replay: {
    help: REPLAY_HELP,
    options: {
      ...common,
      'database-url': { type: 'string' },
      schema: { type: 'string' },
      table: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      'fail-on-change': { type: 'boolean' },
    },
  },
} as const;

type CommandName = keyof typeof commands;

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(commands, name);
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

async function loadFile(path: string): Promise<PolicyFile> {
  try {
    return await loadPolicyFile(path);
  } catch (error) {
    if (HitlError.is(error)) throw new CliError(ExitCode.Usage, error.message, { cause: error });
    throw error;
  }
}

async function run(name: CommandName, args: string[], io: CliIo, wantsJson: () => void): Promise<CommandResult | string> {
  const command = commands[name];
  let parsed;
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(`${(error as Error).message.split('\n')[0]}\nRun 'hitl ${name} --help' for usage.`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.json) wantsJson();
  if (values.help) return command.help;
  const [path, ...extra] = parsed.positionals;
  if (path === undefined) throw usageError(`${name} needs a policy FILE\nRun 'hitl ${name} --help' for usage.`);
  if (extra.length > 0) throw usageError(`${name} takes one FILE; unexpected '${extra[0]}'`);
  const flag = (key: string) => values[key] as string | undefined;

  if (name === 'explain') {
    const call = callOfFlags({
      tool: flag('tool'),
      input: flag('input'),
      confidence: flag('confidence'),
      risk: flag('risk'),
      thread: flag('thread'),
    });
    return explainResult(path, await loadFile(path), call);
  }
  if (name === 'replay') {
    const databaseUrl = flag('database-url') ?? io.env.DATABASE_URL;
    if (databaseUrl === undefined || databaseUrl === '')
      throw usageError('replay needs --database-url URL (or the DATABASE_URL environment variable)');
    const since = flag('since');
    const source = {
      schema: requireIdentifier('--schema', flag('schema') ?? 'public'),
      table: requireIdentifier('--table', flag('table') ?? 'hitl_requests'),
      since: since === undefined ? undefined : parseSince(since, io.now()),
      limit: parseLimit(flag('limit')),
    };
    const file = await loadFile(path);
    const records = await readStoredDecisions({ ...source, databaseUrl });
    return replayResult(path, file, source, records, values['fail-on-change'] === true);
  }
  return checkResult(path, await loadFile(path));
}

/**
 * Runs `hitl` with the arguments after the program name and returns the exit code. Output goes
 * through `io`; with `--json`, stdout carries one JSON document, errors included
 * (`{ "error": { "message", "exitCode", "file"?, "line"?, "column"? } }`).
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let json = argv.includes('--json');
  // Flags may come before the command (`hitl --json check FILE`): the command is the first word.
  const commandAt = argv.findIndex((arg) => !arg.startsWith('-'));
  const leading = argv[0];
  const ordered =
    commandAt > 0 && leading !== '--help' && leading !== '-h' && leading !== '--version' && leading !== '-v'
      ? [argv[commandAt] as string, ...argv.slice(0, commandAt), ...argv.slice(commandAt + 1)]
      : argv;
  const [first, ...rest] = ordered;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      const topic = rest[0];
      io.stdout(`${isCommand(topic) ? commands[topic].help : PROGRAM_HELP}\n`);
      return first === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    if (first === '--version' || first === '-v') {
      io.stdout(`${json ? JSON.stringify({ version: version() }) : version()}\n`);
      return ExitCode.Ok;
    }
    if (!isCommand(first)) throw usageError(`unknown command '${first}': use check, explain or replay\nRun 'hitl --help' for usage.`);
    const result = await run(first, rest, io, () => {
      json = true;
    });
    if (typeof result === 'string') {
      io.stdout(`${result}\n`);
      return ExitCode.Ok;
    }
    io.stdout(json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    return result.exitCode;
  } catch (error) {
    const exitCode = error instanceof CliError ? error.exitCode : ExitCode.Usage;
    const message = error instanceof Error ? error.message : String(error);
    if (json) {
      const cause = error instanceof CliError ? error.cause : error;
      const position =
        cause instanceof PolicyFileError ? { file: cause.file, line: cause.line, column: cause.column, problem: cause.problem } : {};
      io.stdout(`${JSON.stringify({ error: { message, exitCode, ...position } }, null, 2)}\n`);
    } else {
      io.stderr(`hitl: ${message}\n`);
    }
    return exitCode;
  }
}
