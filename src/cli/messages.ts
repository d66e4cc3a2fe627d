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
};
