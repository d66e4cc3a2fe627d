import type { CommandSpec, ParsedArgs } from './types.js';
import { UsageError } from './types.js';
import { messages } from './messages.js';

/** `--dir DIR`, accepted by every command that works on a workspace (as `git -C` is by git's). */
export const DIR_OPTION = { dir: { type: 'string' } } as const;
export const DIR_HELP = 'the workspace (default: the current directory); same as a DIR argument';

/**
 * The workspace a command was given: `--dir DIR` or the DIR argument (`rest`: the positionals
 * left after the subcommand and its own arguments, at most one). Both forms keep older usage working.
 */
export function workspaceDir(spec: Pick<CommandSpec, 'name' | 'usage'>, args: ParsedArgs, rest: string[]): string | undefined {
  const { name: command, usage } = spec;
  const flag = typeof args.values.dir === 'string' ? args.values.dir : undefined;
  if (rest.length > 1) throw new UsageError(messages.tooManyArguments(command, rest.slice(1), usage));
  const positional = rest[0];
  if (flag !== undefined && positional !== undefined && flag !== positional) {
    throw new UsageError(messages.dirTwice(command, flag, positional));
  }
  return flag ?? positional;
}
