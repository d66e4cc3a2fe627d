import type { CommandSpec } from '../types.js';
import { resolveWorkspace } from '../../adapters/workspace.js';
import { dropPause } from '../../daemon/lifecycle/pause.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';

export const command: CommandSpec = {
  name: 'resume',
  summary: 'Drop the pause signal: due changes are committed again.',
  usage: 'resume [DIR]',
  options: { ...DIR_OPTION },
  optionHelp: { dir: DIR_HELP },
  async run(args, io) {
    const ws = await resolveWorkspace(workspaceDir(command, args, args.positionals), io.cwd);
    const dropped = await dropPause(ws.stateDir);
    io.stderr(dropped ? 'winnow: resumed.\n' : 'winnow: was not paused.\n');
    return 0;
  },
};
