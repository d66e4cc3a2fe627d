import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { constants } from 'node:os';
import type { CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { registerExec, unregisterExec } from '../../daemon/classify/exec-registry.js';
import { loadWorkspaceConfig } from '../../adapters/config-file.js';
import { findStrace, spawnTraced, traceDir } from '../../adapters/strace.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { messages } from '../messages.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Whether CMD runs under strace: `autonomous.trace` "on", or "auto" when winnow is not root (as
 * root, fanotify with process lineage attributes every write already). A config that cannot be
 * read says nothing against tracing: "auto".
 */
function traceWanted(root: string, env: NodeJS.ProcessEnv): boolean {
  if (env.WINNOW_EXEC_TRACE === '0') return false;
  if (env.WINNOW_EXEC_TRACE === '1') return true;
  let mode: 'auto' | 'on' | 'off' = 'auto';
  try {
    mode = loadWorkspaceConfig(root).config.autonomous.trace;
  } catch {
    mode = 'auto';
  }
  if (mode === 'off') return false;
  return mode === 'on' || process.getuid?.() !== 0;
}

/** Whether `name` names an executable (a path, or a program on PATH). */
function resolvable(name: string, io: { cwd: string; env: NodeJS.ProcessEnv }): boolean {
  const cands = name.includes('/') ? [resolvePath(io.cwd, name)] : (io.env.PATH ?? '').split(':').filter(Boolean).map((d) => join(resolvePath(io.cwd, d), name));
  return cands.some((c) => {
    try {
      accessSync(c, fsConstants.X_OK);
      return statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

/** The first child of `pid` (strace's tracee: CMD), or null. */
function firstChild(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

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
    'Where strace is installed and autonomous.trace allows it ("auto": when not root), CMD runs under',
    '`strace -f --seccomp-bpf`: every file its tree creates, truncates, renames or removes in the',
    'workspace is recorded in <git-dir>/winnow/trace/<pid>.jsonl, so winnow knows exactly which changes',
    "are CMD's and which are a person's (evidence rung 2). Tracing slows file-heavy commands (see docs/benchmarks.md).",
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
    const strace = traceWanted(ws.root, io.env) ? findStrace() : null;
    // strace reports a missing command as its own failure (exit 1): the untraced spawn below
    // reports it as winnow always has (exit 127, "command not found").
    const traceable = strace !== null && resolvable(cmd[0]!, io);
    if (traceable) await mkdir(traceDir(ws.stateDir), { recursive: true, mode: 0o700 });
    const handlers = new Map<NodeJS.Signals, () => void>();
    let drained: Promise<void> = Promise.resolve();
    try {
      return await new Promise<number>((resolve) => {
        let child: ChildProcess;
        let traced = false;
        const t = strace && traceable ? spawnTraced({ bin: strace, argv: cmd, root: ws.root, file: join(traceDir(ws.stateDir), `${process.pid}.jsonl`), cwd: io.cwd, env: io.env }) : null;
        if (t) {
          child = t.child;
          drained = t.drained;
          traced = true;
        } else {
          child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', cwd: io.cwd, env: io.env });
        }
        if (traced && child.pid !== undefined) void registerExec(ws.stateDir, process.pid, cmd, Date.now(), child.pid);
        for (const sig of FORWARDED) {
          const h = () => {
            // Under strace, the signal goes to CMD itself: strace would end it with SIGKILL.
            const target = traced && child.pid !== undefined ? firstChild(child.pid) : null;
            if (target !== null) {
              try {
                process.kill(target, sig);
                return;
              } catch {
                // gone: fall through to the child
              }
            }
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
      await drained;
      await unregisterExec(ws.stateDir, process.pid);
    }
  },
};

