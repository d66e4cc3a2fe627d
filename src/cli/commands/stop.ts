import { watch } from 'node:fs';
import type { CommandSpec } from '../types.js';
import { RuntimeError } from '../types.js';
import { resolveWorkspace } from '../../daemon/lifecycle/workspace.js';
import { runningDaemon } from '../daemon-info.js';
import { isAlive } from '../../daemon/lifecycle/lock.js';

const STOP_WAIT_MS = 120_000;

export const command: CommandSpec = {
  name: 'stop',
  summary: 'Stop the service on a workspace: SIGTERM, which finishes the commit in flight.',
  usage: 'stop [DIR]',
  options: {},
  async run(args, io) {
    const ws = await resolveWorkspace(args.positionals[0], io.cwd);
    const holder = await runningDaemon(ws.stateDir);
    if (!holder) {
      io.stderr(`winnow: not running on ${ws.root}.\n`);
      return 0;
    }
    try {
      process.kill(holder.pid, 'SIGTERM');
    } catch (e) {
      throw new RuntimeError(`could not signal pid ${holder.pid}: ${(e as Error).message}.`);
    }
    // Wait for the lock to be released (the daemon removes it last), or the process to vanish.
    const ok = await new Promise<boolean>((resolve) => {
      let w: ReturnType<typeof watch> | null = null;
      const check = () => {
        if (!isAlive(holder.pid)) finish(true);
      };
      const timer = setTimeout(() => finish(!isAlive(holder.pid)), STOP_WAIT_MS);
      // A dead process cannot notify us: a slow liveness check backs up the lock-file watch.
      const tick = setInterval(check, 200);
      function finish(v: boolean) {
        clearTimeout(timer);
        clearInterval(tick);
        w?.close();
        resolve(v);
      }
      try {
        w = watch(ws.stateDir, (_e, name) => {
          if (String(name) === 'daemon.lock') void runningDaemon(ws.stateDir).then((h) => !h && finish(true));
        });
      } catch {
        /* the interval covers it */
      }
      check();
    });
    if (!ok) throw new RuntimeError(`pid ${holder.pid} did not stop within ${STOP_WAIT_MS / 1000}s; it may be finishing a slow commit.`);
    io.stderr(`winnow: stopped (pid ${holder.pid}).\n`);
    return 0;
  },
};
