/**
 * `winnow doctor`: facts gathered by cli/doctor/facts.ts (the only effectful part), judged by the
 * pure cli/doctor/checks.ts, printed here.
 */
import type { CliIO, CommandSpec } from '../types.js';
import { DIR_HELP, DIR_OPTION, workspaceDir } from '../args.js';
import { evaluate, type CheckStatus, type DoctorReport } from '../doctor/checks.js';
import { gatherFacts } from '../doctor/facts.js';

export { hasCapSysAdmin } from '../../util/procfs.js';
export { evaluate, parseGitVersion, type Check, type CheckStatus, type DoctorReport } from '../doctor/checks.js';
export { gatherFacts, type DoctorFacts, type StateEntry } from '../doctor/facts.js';

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' };

export function formatReport(r: DoctorReport): string {
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]}  ${c.id}: ${c.summary}`);
    if (c.fix && c.status !== 'ok') lines.push(`      → ${c.fix}`);
  }
  lines.push(
    `evidence: fanotify ${r.evidence.fanotify}; open handles ${String(r.evidence.openHandle)}; write activity ${String(r.evidence.temporal)}`,
    r.ok ? 'winnow can run here.' : 'winnow doctor found problems: fix the FAIL lines above.',
  );
  return lines.join('\n') + '\n';
}

export const command: CommandSpec = {
  name: 'doctor',
  summary: 'Checks git, inotify limits, fanotify, state permissions, free disk and the config.',
  usage: 'doctor [DIR] [--config FILE] [--json]',
  options: {
    ...DIR_OPTION,
    config: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    dir: DIR_HELP,
    config: 'config file instead of DIR/.winnow.json',
    json: 'print the report as one JSON object on stdout',
  },
  details: 'Exit code 0 when every check passes (warnings included), 1 when one fails.',
  async run(args, io: CliIO) {
    const facts = await gatherFacts({
      dir: workspaceDir(command, args, args.positionals),
      config: args.values.config as string | undefined,
      cwd: io.cwd,
      env: io.env,
    });
    const report = evaluate(facts);
    if (args.values.json) io.stdout(JSON.stringify(report) + '\n');
    else io.stderr(formatReport(report));
    return report.ok ? 0 : 1;
  },
};
