import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { runningDaemon } from '../daemon-info.js';
import { isAlive } from '../../daemon/lifecycle/lock.js';
import { HAS_PROC, readStat } from '../../adapters/procfs.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { messages } from '../messages.js';

const STOP_WAIT_MS = 120_000;
/** How often to look whether the process has exited: nothing notifies a non-parent of that. */
const EXIT_POLL_MS = 25;

/**
 * True once `pid` is no longer the daemon: exited (a zombie counts: it has released everything),
 * or the PID now belongs to a process with another start time.
 */
export function processGone(pid: number, startTime: string | null): boolean {
  if (!isAlive(pid)) return true;
  const st = readStat(pid);
  if (!st) return HAS_PROC;
  if (st.state === 'Z' || st.state === 'X') return true;
  return startTime !== null && String(st.startTicks) !== startTime;
}

export const command: CommandSpec = {
  name: 'stop',
  summary: 'Stop the service on a workspace: SIGTERM, which finishes the commit in flight; returns once it has exited.',
  usage: 'stop [DIR]',
  options: { ...DIR_OPTION },
  optionHelp: { dir: DIR_HELP },
  async run(args, io) {
    const ws = await resolveWorkspace(workspaceDir(command, args, args.positionals), io.cwd);
    const holder = await runningDaemon(ws.stateDir);
    if (!holder) {
      io.stderr(`winnow: ${messages.notRunning(ws.root)}\n`);
      return 0;
    }
    try {
      process.kill(holder.pid, 'SIGTERM');
    } catch (e) {
      throw new RuntimeError(messages.cannotSignal(holder.pid, (e as Error).message));
    }
    // The daemon removes its lock before its last clean-up; "stopped" means the process is gone.
    const deadline = Date.now() + STOP_WAIT_MS;
    while (!processGone(holder.pid, holder.startTime)) {
      if (Date.now() > deadline) throw new RuntimeError(messages.stopTimeout(holder.pid, STOP_WAIT_MS));
      await sleep(EXIT_POLL_MS);
    }
    io.stderr(`winnow: ${messages.stopped(holder.pid)}\n`);
    return 0;
  },
};
