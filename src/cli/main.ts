import { parseArgs } from 'node:util';
import type { CliIO, CommandSpec, ParsedArgs } from './types.js';
import { UsageError, RuntimeError } from './types.js';
import { ConfigError } from '../core/config/schema.js';
import { WorkspaceError } from '../core/workspace.js';
import { messages } from './messages.js';

/** Command name → lazy loader (Vite's cli.ts habit: load only the command that runs). */
const COMMANDS: Record<string, () => Promise<{ command: CommandSpec }>> = {
  start: () => import('./commands/start.js'),
  stop: () => import('./commands/stop.js'),
  status: () => import('./commands/status.js'),
  filter: () => import('./commands/filter.js'),
  rules: () => import('./commands/rules.js'),
  exec: () => import('./commands/exec.js'),
  hook: () => import('./commands/hook.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
  sync: () => import('./commands/sync.js'),
  snapshot: () => import('./commands/snapshot.js'),
  log: () => import('./commands/log.js'),
  why: () => import('./commands/why.js'),
  restore: () => import('./commands/restore.js'),
  squash: () => import('./commands/squash.js'),
  bench: () => import('./commands/bench.js'),
  doctor: () => import('./commands/doctor.js'),
};

const SUMMARIES: Record<string, string> = {
  start: 'run the service (foreground unless --daemon)',
  stop: 'stop it (SIGTERM: finishes the batch in flight)',
  status: 'running?, pending paths and when they commit, last commits, limits',
  filter: 'filter test PATH... | filter debug [DIR]: explain decisions',
  rules: 'rules check [FILE...] | rules suggest',
  exec: 'exec -- CMD...: run CMD; its process tree counts as autonomous',
  hook: "declare an agent's writes (paths or a Claude Code hook's JSON on stdin)",
  pause: 'pause commits and syncs [--for DURATION] [--reason TEXT]',
  resume: 'resume after pause',
  sync: 'sync with the remote now [--force] [--reason TEXT]',
  snapshot: 'snapshot list | create | restore ID',
  log: "log [PATH...] [--since WHEN] [--json]: winnow's commits with each path's evidence",
  why: 'why PATH: the last decision about PATH and its evidence',
  restore: 'restore PATH... --at WHEN | --rev REV: bring files back (a forward change, nothing lost)',
  squash: "squash [--since REV|WHEN] [-m MSG]: fold unpushed winnow commits into one",
  bench: 'run the accuracy and latency benchmark',
  doctor: 'check git, watch limits, fanotify, permissions',
};

export function topHelp(): string {
  const w = Math.max(...Object.keys(SUMMARIES).map((k) => k.length));
  const lines = Object.entries(SUMMARIES).map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  return [
    'winnow — commits a person\'s changes to a git workspace, never the churn of autonomous processes.',
    '',
    'Usage: winnow <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `winnow <command> --help` for a command\'s options. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.',
    '',
  ].join('\n');
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: winnow ${spec.usage}`, '', spec.summary, ''];
  const opts = Object.entries(spec.options);
  if (opts.length) {
    lines.push('Options:');
    for (const [name, o] of opts) {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' VALUE' : ''}`;
      lines.push(`  ${flag.padEnd(28)} ${spec.optionHelp?.[name] ?? ''}`);
    }
    lines.push(`  ${'    --help'.padEnd(28)} show this help`);
    lines.push('');
  }
  if (spec.details) lines.push(spec.details.trimEnd(), '');
  return lines.join('\n');
}

export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs & { help: boolean } {
  const dd = argv.indexOf('--');
  const head = dd >= 0 ? argv.slice(0, dd) : argv;
  const rest = dd >= 0 ? argv.slice(dd + 1) : [];
  try {
    const { values, positionals } = parseArgs({
      args: head,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const help = Boolean(values.help);
    delete (values as Record<string, unknown>).help;
    return { values: values as ParsedArgs['values'], positionals, rest, help };
  } catch (e) {
    throw new UsageError(parseErrorMessage(spec, e as Error & { code?: string }));
  }
}

/** One winnow sentence for what node's parseArgs refused, with the command's usage. */
export function parseErrorMessage(spec: CommandSpec, e: Error & { code?: string }): string {
  // parseArgs names the option in quotes: "Unknown option '--bogus'", "Option '-c, --config <value>' argument missing".
  const quoted = /'([^']+)'/.exec(e.message)?.[1] ?? '';
  const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(/\s/)[0] ?? quoted;
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return messages.unknownOption(spec.name, option, spec.usage);
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /argument missing/.test(e.message)
      ? messages.missingValue(spec.name, option, spec.usage)
      : messages.noValue(spec.name, option, spec.usage);
  }
  return messages.badArguments(spec.name, e.message.split('. ')[0] ?? e.message, spec.usage);
}

function defaultIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** argv (without node and script) → exit code. The only place that knows about exit codes. */
export async function main(argv: string[], io: CliIO = defaultIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(topHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`${await version()}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`winnow: ${messages.unknownCommand(name, Object.keys(COMMANDS))}\n`);
    return 2;
  }
  try {
    const { command } = await load();
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      io.stdout(commandHelp(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (e) {
    return reportError(e, io);
  }
}

export function reportError(e: unknown, io: CliIO): number {
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof WorkspaceError) {
    io.stderr(`winnow: ${e.message}\n`);
    return 2;
  }
  if (e instanceof RuntimeError) {
    io.stderr(`winnow: ${e.message}\n`);
    return 1;
  }
  const err = e as Error;
  io.stderr(`winnow: ${err?.message ?? String(e)}\n`);
  if (io.env.WINNOW_DEBUG) io.stderr(`${err?.stack ?? ''}\n`);
  return 1;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
