/**
 * User-facing sentences of the command line, in one place (STYLE.md habit 10): what a person
 * reads when something is refused, capped or not yet applied. Each says what to do next.
 */
import { humanMs } from './format.js';

/** `Usage: winnow …` with the spec's usage line(s). */
export const usageLine = (usage: string): string => `Usage: winnow ${usage}`;

export const messages = {
  unknownOption: (command: string, option: string, usage: string) =>
    `${option} is not an option of \`winnow ${command}\`. ${usageLine(usage)}`,
  missingValue: (command: string, option: string, usage: string) =>
    `${option} needs a value in \`winnow ${command}\`. ${usageLine(usage)}`,
  noValue: (command: string, option: string, usage: string) =>
    `${option} takes no value in \`winnow ${command}\`. ${usageLine(usage)}`,
  badArguments: (command: string, detail: string, usage: string) =>
    `${detail.replace(/\.$/, '')} in \`winnow ${command}\`. ${usageLine(usage)}`,
  dirTwice: (command: string, flag: string, positional: string) =>
    `\`winnow ${command}\` got two workspaces, --dir ${flag} and ${positional}: give one.`,
  tooManyArguments: (command: string, extra: string[], usage: string) =>
    `\`winnow ${command}\` takes one DIR; ${extra.map((e) => `"${e}"`).join(', ')} left over. ${usageLine(usage)}`,
  alreadyRunning: (root: string, pid: number, since: string) =>
    `already running on ${root} (pid ${pid}${since ? `, since ${since}` : ''}). Stop it with \`winnow stop\` first.`,
  pauseCapped: (askedMs: number, maxMs: number) =>
    `--for ${humanMs(askedMs)} is longer than pause.maxMs (${humanMs(maxMs)}), so the pause lasts ${humanMs(maxMs)}; ` +
    'raise pause.maxMs in .winnow.json for longer pauses.',
  paused: (forMs: number, reason: string) => `paused for ${humanMs(forMs)} (${reason}). \`winnow resume\` ends it sooner.`,
  notRunning: (root: string) => `not running on ${root}.`,
  filterSubcommand: (got: string | undefined) =>
    `filter needs a subcommand: \`winnow filter test PATH...\` or \`winnow filter debug [DIR]\`${got ? ` (got "${got}")` : ''}.`,
  filterNeedsPath: () => 'filter test needs at least one PATH, e.g. `winnow filter test docs/a.md`.',
  outsideWorkspace: (path: string, root: string) => `${path} is outside the workspace ${root}.`,
  followingDaemon: (pid: number) => `following the decisions of the daemon (pid ${pid}); Ctrl-C to stop.`,
  autonomousRung: (pid: number, command: string, rung: string, advice: string | undefined) =>
    `autonomous ${pid} (${command.length > 50 ? command.slice(0, 47) + '…' : command}): ${rung}${advice ? ` — ${advice}` : ''}`,
  watchingWithoutDaemon: () => 'no daemon runs here; watching and classifying without committing. Ctrl-C to stop.',
  whyOnePath: () => 'why takes one PATH, e.g. `winnow why docs/a.md`.',
  notATime: (given: string, forms: string) => `--since "${given}" is not a time; use e.g. ${forms}.`,
  notACount: (given: string) => `--max "${given}" must be a whole number of 1 or more.`,
  restoreOneOf: () => 'restore needs exactly one of --at WHEN or --rev REV.',
  restoreNeedsPaths: () => 'restore needs the PATHs to bring back, e.g. `winnow restore notes.md --at 1h`.',
  atNotATime: (given: string, forms: string) => `--at "${given}" is not a time; use e.g. ${forms}.`,
  filesOrConfig: () => 'give either FILEs or --config, not both: a .json FILE is checked as a config.',
  noSuchFile: (file: string) => `${file}: no such file.`,
  nothingToSuggest: (root: string, stateDir: string) => `Nothing to suggest: winnow has not run in ${root} yet (no state.json in ${stateDir}).`,
  snapshotNeedsId: () => 'snapshot restore needs an ID; run `winnow snapshot list` to see them.',
  snapshotSubcommand: (got: string | undefined) => `snapshot needs a subcommand: list, create or restore ID${got ? ` (got "${got}")` : ''}.`,
  syncRunning: (detail: string) => `a sync is running; try again when it is done (${detail})`,
  messageOrEdit: () => 'give either -m MSG or --edit, not both.',
  emptyMessageFlag: () => '-m needs a message that is not empty.',
  noEditor: () => 'no editor is configured (git var GIT_EDITOR); use -m MSG.',
  editorFailed: (editor: string, how: string | number) => `the editor (${editor}) exited with ${how}; nothing was changed.`,
  emptyMessage: () => 'the message is empty; nothing was changed.',
  waitingForDaemon: (pid: number) => `waiting for the daemon (pid ${pid}) to finish the commit it has under way…`,
  daemonNotHeld: (pid: number, ms: number) =>
    `the daemon (pid ${pid}) did not confirm the pause within ${humanMs(ms)}; going on. If a path is refused as staged, run the command again.`,
  daemonTooOldToHold: (pid: number) =>
    `the daemon (pid ${pid}) is from an older winnow and does not confirm a pause, so a commit it has under way may still land; restart it (\`winnow stop\`, \`winnow start\`).`,
  daemonStoppedBeforeSync: (pid: number) => `the daemon (PID ${pid}) stopped before answering the sync request. Run \`winnow sync\` again.`,
  daemonSyncTimeout: (pid: number, minutes: number, log: string) => `the daemon (PID ${pid}) did not answer the sync request within ${minutes} minutes; see ${log}.`,
  /** Appended to a `filter test` explanation the daemon's overrides could have changed. */
  noDaemonOverrides: () =>
    'no daemon runs on this workspace, so its churn quarantine, commit-reaction and earlier-block history was not applied (a running daemon may decide otherwise)',
  cannotSignal: (pid: number, error: string) => `could not signal pid ${pid}: ${error}.`,
  detached: (root: string, pid: string) => `running on ${root} in the background (${pid}). \`winnow status\` shows what it does.`,
  detachFailed: (why: string) => `the background service did not start: ${why}.`,
  execNeedsCommand: () => 'exec needs a command after `--`, e.g. `winnow exec -- ./agent.sh --loop`.',
  notADuration: (text: string) => `--for "${text}" is not a duration; use e.g. 90s, 10m or 1h.`,
  stopped: (pid: number) => `stopped (pid ${pid}).`,
  stopTimeout: (pid: number, waitedMs: number) =>
    `pid ${pid} did not stop within ${humanMs(waitedMs)}; it may be finishing a slow commit.`,
  configNotApplied: (file: string, when: string) =>
    `${file} changed ${when}, after winnow started; restart to apply it (\`winnow stop\`, then \`winnow start\`).`,
  benchChecksFailed: (failed: string[]) =>
    `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.join('; ')}.`,
  oneOf: (flag: string, allowed: string[], got: string) =>
    `${flag} takes ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]} (got "${got}").`,
  repeatRange: (got: string | undefined) => `--repeat takes a whole number from 1 to 100 (got "${got}").`,
  noScenarios: () => 'no scenarios found in bench/scenarios; give one with --scenario FILE.',
  benchWrote: (json: string, html: string) => `wrote ${json} and ${html}`,
  benchCouldNotRun: (scenario: string, error: string) => `${scenario} could not run: ${error}`,
  hookNotJson: (error: string) => `the hook input is not valid JSON: ${error}`,
  pathIsRoot: (given: string) => `"${given}" is the workspace root; name the files or folders inside it.`,
  pathOutside: (given: string, root: string) => `"${given}" is outside the workspace ${root}.`,
  pathInGit: (given: string) => `"${given}" is inside .git; winnow never touches it.`,
  unknownCommand: (name: string, commands: string[]) => `unknown command "${name}". Commands: ${commands.join(', ')}.`,
  noDecisionOnRecord: (path: string) =>
    `${path}: winnow has no decision about it on record (not changed while winnow ran, or its log has rotated, and no winnow commit holds it).`,
  noSnapshots: (dir: string) => `no snapshots in ${dir}`,
};
