import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { messages } from '../messages.js';
import { loadWorkspace } from '../../index.js';
import { logWithNotes } from '../../daemon/history/git.js';
import { describeEntry, formatEvidence, type NoteEntry } from '../../core/history/note.js';
import type { Decision } from '../../core/decision.js';
import { workspacePaths, localTime } from '../history-common.js';
import { runningDaemon } from '../daemon-info.js';
import { createGitRunner } from '../../adapters/git.js';

/** How many commits touching the path are searched for winnow's note. */
const NOTE_SEARCH = 200;

export const command: CommandSpec = {
  name: 'why',
  summary: 'the last decision about PATH and its evidence: live from the daemon, and from the notes of the last winnow commit that holds it',
  usage: 'why PATH [--dir DIR] [--json]',
  options: { dir: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: {
    dir: 'workspace (default: the current directory)',
    json: 'print {path, live, committed} on stdout',
  },
  details:
    "live: the daemon's last decision about the path (from <git-dir>/winnow/winnow.log), whether or not it was committed.\n" +
    'committed: the last winnow commit that touched it, with the evidence in its note.',
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError(messages.whyOnePath());
    const { workspace } = await loadWorkspace(args.values.dir as string | undefined, io.cwd);
    const [path] = await workspacePaths(workspace.root, io.cwd, args.positionals);
    const live = await lastLoggedDecision(workspace.stateDir, path!);
    const git = createGitRunner(workspace.root, { timeoutMs: 120_000 });
    let committed: { sha: string; at: number; subject: string; kind: string; entry: NoteEntry } | null = null;
    for (const c of await logWithNotes(git, 'HEAD', [`-n${NOTE_SEARCH}`], [path!])) {
      const entry = c.note?.entries.find((e) => e.path === path);
      if (entry) {
        committed = { sha: c.sha, at: c.at, subject: c.subject, kind: c.note!.header.kind, entry };
        break;
      }
    }
    const running = (await runningDaemon(workspace.stateDir)) !== null;
    if (args.values.json) {
      io.stdout(JSON.stringify({ path, live, committed: committed && { ...committed, at: new Date(committed.at).toISOString() } }) + '\n');
      return 0;
    }
    if (!live && !committed) {
      io.stdout(`${messages.noDecisionOnRecord(path!)}\n`);
      return 0;
    }
    if (live) {
      const ev = formatEvidence(live.evidence);
      io.stdout(
        `${path}: last decision ${live.t ? `at ${localTime(Date.parse(live.t))}` : ''} (${running ? 'daemon running' : 'from the log of the last run'})\n` +
          `    ${live.decision} L${live.layer}  ${live.reason}\n` +
          (live.rule ? `    rule: ${live.rule}\n` : '') +
          (ev ? `    evidence: ${ev}\n` : ''),
      );
    }
    if (committed) {
      io.stdout(
        `${path}: last committed by winnow in ${committed.sha.slice(0, 10)} at ${localTime(committed.at)} "${committed.subject}"${committed.kind === 'commit' ? '' : ` [${committed.kind}]`}\n` +
          describeEntry(committed.entry).replace(/^/gm, '    ') +
          '\n',
      );
    }
    return 0;
  },
};

type LoggedDecision = Decision & { t?: string };

/** The last `decision` line about `path` in winnow.log (or, if none there, winnow.log.1). */
async function lastLoggedDecision(stateDir: string, path: string): Promise<LoggedDecision | null> {
  for (const name of ['winnow.log', 'winnow.log.1']) {
    const text = await readFile(join(stateDir, name), 'utf8').catch(() => '');
    const needle = JSON.stringify(path);
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (!line.includes('"decision"') || !line.includes(needle)) continue;
      try {
        const o = JSON.parse(line) as LoggedDecision & { msg?: string };
        if (o.msg === 'decision' && o.path === path) return o;
      } catch {
        // A torn last line while the daemon writes: skip it.
      }
    }
  }
  return null;
}
