import type { CommandSpec } from '../types.js';
import { resolveWorkspace } from '../../daemon/lifecycle/workspace.js';
import { dropPause } from '../../daemon/lifecycle/pause.js';

export const command: CommandSpec = {
  name: 'resume',
  summary: 'Drop the pause signal: due changes are committed again.',
  usage: 'resume [DIR]',
  options: {},
  async run(args, io) {
    const ws = await resolveWorkspace(args.positionals[0], io.cwd);
    const dropped = await dropPause(ws.stateDir);
    io.stderr(dropped ? 'winnow: resumed.\n' : 'winnow: was not paused.\n');
    return 0;
  },
};
