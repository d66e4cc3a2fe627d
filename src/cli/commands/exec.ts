import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { registerExec, unregisterExec } from '../../daemon/classify/exec-registry.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { messages } from '../messages.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export const command: CommandSpec = {
  name: 'exec',
  summary: "Run CMD so that winnow treats everything its process tree writes as autonomous (never committed as a person's change).",
  usage: 'exec [DIR] -- CMD [ARGS...]',
  options: { ...DIR_OPTION },
  optionHelp: { dir: DIR_HELP },
  details: [
    'For tools that are not in autonomous.commands: `winnow exec -- ./my-indexer --watch`.',
    'winnow exec registers itself in <git-dir>/winnow/exec/<pid> for as long as CMD runs; CMD and its',
    "descendants are children of that process. SIGINT, SIGTERM and SIGHUP are passed on to CMD, and",
    'winnow exec exits with its exit code (128 + signal number when it was killed).',
  ].join('\n'),
  async run(args, io) {
    const cmd = args.rest;
    if (!cmd[0]) {
      throw new UsageError(messages.execNeedsCommand());
    }
    const ws = await resolveWorkspace(workspaceDir(command, args, args.positionals), io.cwd);
    // Registering this process (not the child) before spawning leaves no window in which CMD
    // could write unregistered: CMD and everything it starts descend from this PID.
    await registerExec(ws.stateDir, process.pid, cmd);
    const handlers = new Map<NodeJS.Signals, () => void>();
    try {
      return await new Promise<number>((resolve) => {
        const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', cwd: io.cwd, env: io.env });
        for (const sig of FORWARDED) {
          const h = () => {
            child.kill(sig);
          };
          handlers.set(sig, h);
          process.on(sig, h);
        }
        child.once('error', (e) => {
          const code = (e as NodeJS.ErrnoException).code;
          io.stderr(
            code === 'ENOENT'
              ? `winnow: ${cmd[0]}: command not found. Give a program on PATH or a path to it.\n`
              : `winnow: cannot run ${cmd[0]}: ${e.message}\n`,
          );
          resolve(code === 'ENOENT' ? 127 : 126);
        });
        child.once('exit', (code, signal) => {
          if (signal) resolve(128 + (constants.signals[signal] ?? 0));
          else resolve(code ?? 1);
        });
      });
    } finally {
      for (const [sig, h] of handlers) process.off(sig, h);
      await unregisterExec(ws.stateDir, process.pid);
    }
  },
};
