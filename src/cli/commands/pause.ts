import type { CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { loadWorkspace } from '../../index.js';
import { raisePause } from '../../daemon/lifecycle/pause.js';
import { parseDuration, humanMs } from '../format.js';

export const command: CommandSpec = {
  name: 'pause',
  summary: 'Hold commits and syncs (events are still collected) until `winnow resume` or the pause expires.',
  usage: 'pause [DIR] [--for DURATION] [--reason TEXT]',
  options: {
    for: { type: 'string' },
    reason: { type: 'string' },
  },
  optionHelp: {
    for: 'how long, e.g. 90s, 10m, 1h (default and maximum: pause.maxMs)',
    reason: 'shown in `winnow status`',
  },
  details: 'Any tool may pause winnow by writing <git-dir>/winnow/pause: lines PID, ISO time, reason.',
  async run(args, io) {
    const { workspace, config } = await loadWorkspace(args.positionals[0], io.cwd);
    const now = Date.now();
    let forMs = config.pause.maxMs;
    if (typeof args.values.for === 'string') {
      const d = parseDuration(args.values.for);
      if (d === null || d <= 0) throw new UsageError(`--for "${args.values.for}" is not a duration; use e.g. 90s, 10m or 1h.`);
      forMs = Math.min(d, config.pause.maxMs);
    }
    const reason = (args.values.reason as string | undefined) ?? 'paused with winnow pause';
    await raisePause(workspace.stateDir, { pid: process.pid, at: now, reason, until: now + forMs });
    io.stderr(`winnow: paused for ${humanMs(forMs)} (${reason}). \`winnow resume\` ends it sooner.\n`);
    return 0;
  },
};
