import type { CommandSpec } from '../types.js';
import { UsageError } from '../types.js';
import { messages } from '../messages.js';
import { loadWorkspace } from '../../index.js';
import { logWithNotes, NOTES_REF, type LoggedCommit } from '../../daemon/history/git.js';
import { describeEntry, type NoteEntry } from '../../core/history/note.js';
import { parseWhen, WHEN_FORMS } from '../../core/history/when.js';
import { workspacePaths, localTime } from '../history-common.js';
import { createGitRunner } from '../../adapters/git.js';

export const command: CommandSpec = {
  name: 'log',
  summary: "winnow's commits, newest first, each path with the decision and evidence that let it in (from git notes)",
  usage: 'log [PATH...] [--since WHEN] [--max N] [--dir DIR] [--json]',
  options: {
    since: { type: 'string' },
    max: { type: 'string', short: 'n' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    since: `only commits since then: ${WHEN_FORMS}`,
    max: 'at most N commits (default 50)',
    dir: 'workspace (default: the current directory)',
    json: 'one JSON object per commit and line: {sha, at, subject, kind, paths: [{path, decision, layer, rule, reason, evidence}]}',
  },
  details:
    `The evidence is stored in git notes under ${NOTES_REF} (commit.notes); \`git log --notes=winnow\` shows it too.\n` +
    'PATH limits the list to commits that touched it (a folder: anything under it).',
  async run(args, io) {
    const { workspace, config } = await loadWorkspace(args.values.dir as string | undefined, io.cwd);
    const paths = await workspacePaths(workspace.root, io.cwd, args.positionals);
    const now = Date.now();
    const extra: string[] = [];
    if (typeof args.values.since === 'string') {
      const at = parseWhen(args.values.since, now);
      if (at === null) throw new UsageError(messages.notATime(String(args.values.since), WHEN_FORMS));
      extra.push(`--since=@${Math.floor(at / 1000)}`);
    }
    const max = args.values.max === undefined ? 50 : Number(args.values.max);
    if (!Number.isInteger(max) || max < 1) throw new UsageError(messages.notACount(String(args.values.max)));
    const git = createGitRunner(workspace.root, { timeoutMs: 120_000 });
    // Read past commits without a note (a person's), up to a bound, to find `max` of winnow's.
    const all = await logWithNotes(git, 'HEAD', [...extra, `-n${Math.max(max * 20, 1000)}`], paths);
    const mine = all.filter((c) => c.note !== null).slice(0, max);
    const json = Boolean(args.values.json);
    for (const c of mine) {
      const entries = c.note!.entries.filter((e) => !paths.length || paths.some((p) => e.path === p || e.path.startsWith(`${p}/`)));
      if (json) io.stdout(JSON.stringify(record(c, entries)) + '\n');
      else io.stdout(text(c, entries));
    }
    if (!mine.length && !json) {
      io.stderr(
        `winnow: no winnow commits${paths.length ? ` touching ${paths.join(', ')}` : ''}${extra.length ? ` since ${String(args.values.since)}` : ''}` +
          (config.commit.notes ? '.\n' : ' (commit.notes is false, so winnow records no evidence with its commits).\n'),
      );
    }
    return 0;
  },
};

function record(c: LoggedCommit, entries: NoteEntry[]): Record<string, unknown> {
  return { sha: c.sha, at: new Date(c.at).toISOString(), subject: c.subject, author: c.author, kind: c.note!.header.kind, paths: entries };
}

function text(c: LoggedCommit, entries: NoteEntry[]): string {
  const kind = c.note!.header.kind === 'commit' ? '' : `  [${c.note!.header.kind}]`;
  const lines = [`${c.sha.slice(0, 10)}  ${localTime(c.at)}  ${c.subject}${kind}`];
  for (const e of entries) lines.push(describeEntry(e).replace(/^/gm, '    '));
  return lines.join('\n') + '\n\n';
}
