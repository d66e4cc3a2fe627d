import type { CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { loadWorkspace } from '../../index.js';
import { raisePause } from '../../daemon/lifecycle/pause.js';
import { parseDuration } from '../format.js';
import { messages } from '../messages.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';

export const command: CommandSpec = {
  name: 'pause',
  summary: 'Hold commits and syncs (events are still collected) until `winnow resume` or the pause expires.',
  usage: 'pause [DIR] [--for DURATION] [--reason TEXT]',
  options: {
    ...DIR_OPTION,
    for: { type: 'string' },
    reason: { type: 'string' },
  },
  optionHelp: {
    dir: DIR_HELP,
    for: 'how long, e.g. 90s, 10m, 1h (default and maximum: pause.maxMs)',
    reason: 'shown in `winnow status`',
  },
  details: 'Any tool may pause winnow by writing <git-dir>/winnow/pause: lines PID, ISO time, reason.',
  async run(args, io) {
    const { workspace, config } = await loadWorkspace(workspaceDir(command, args, args.positionals), io.cwd);
    const now = Date.now();
    let forMs = config.pause.maxMs;
    if (typeof args.values.for === 'string') {
      const d = parseDuration(args.values.for);
      if (d === null || d <= 0) throw new UsageError(messages.notADuration(args.values.for));
      forMs = Math.min(d, config.pause.maxMs);
      if (d > config.pause.maxMs) io.stderr(`winnow: ${messages.pauseCapped(d, config.pause.maxMs)}\n`);
    }
    const reason = (args.values.reason as string | undefined) ?? 'paused with winnow pause';
    await raisePause(workspace.stateDir, { pid: process.pid, at: now, reason, until: now + forMs });
    io.stderr(`winnow: ${messages.paused(forMs, reason)}\n`);
    return 0;
  },
};
