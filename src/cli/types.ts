import type { ParseArgsConfig } from 'node:util';

/** What a command may touch: text out, the working directory, the environment. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal (progress displays). */
  isTTY: boolean;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Everything after a literal `--` (for `winnow exec -- CMD…`). */
  rest: string[];
}

/**
 * One command: its options table drives both the parser and `--help` (STYLE.md habit 10).
 * `run` returns the exit code: 0 success, 1 runtime failure, 2 bad usage/config/rules.
 */
export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage line(s) after `winnow `, e.g. `start [DIR] [--config FILE] [--daemon]`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** One line of help per option, keyed by option name. */
  optionHelp?: Record<string, string>;
  /** Extra help text printed after the options. */
  details?: string;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** Bad usage, config or rules: printed as one paragraph, exit 2, nothing changed. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Ran and failed: printed as one paragraph, exit 1. */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
}
