import type { CommandSpec, CliIO } from '../types.js';
import { UsageError } from '../types.js';
import { messages } from '../messages.js';
import { loadWorkspace } from '../../index.js';
import { restorePaths, RestoreRefusal, type RestoreResult } from '../../daemon/history/restore.js';
import { parseWhen, WHEN_FORMS } from '../../core/history/when.js';
import { workspacePaths, withDaemonHeld, localTime } from '../history-common.js';
import { createGitRunner } from '../../adapters/git.js';

export const command: CommandSpec = {
  name: 'restore',
  summary: 'bring files back to their content at a time or commit, as a new commit (nothing is lost)',
  usage: 'restore PATH... --at WHEN | --rev REV [--dry-run] [--dir DIR] [--json]',
  options: {
    at: { type: 'string' },
    rev: { type: 'string' },
    'dry-run': { type: 'boolean' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    at: `the content the branch had then: ${WHEN_FORMS}`,
    rev: 'the content at this commit (a sha, HEAD~3, a tag)',
    'dry-run': 'say what would change, change nothing',
    dir: 'workspace (default: the current directory)',
    json: 'print the result as one JSON object on stdout',
  },
  details:
    'A PATH may be a folder: files added since are removed, deleted ones come back. Uncommitted content the restore\n' +
    'replaces is committed first ("winnow: before restore: …"); the restore is a commit of its own, so\n' +
    '`winnow restore PATH --rev <that commit>` undoes it. Paths you have staged are refused; the running daemon is\n' +
    'paused meanwhile, and a commit it has under way finishes first.',
  async run(args, io) {
    const at = args.values.at as string | undefined;
    const rev = args.values.rev as string | undefined;
    if ((at === undefined) === (rev === undefined)) throw new UsageError(messages.restoreOneOf());
    if (!args.positionals.length) throw new UsageError(messages.restoreNeedsPaths());
    const { workspace, config } = await loadWorkspace(args.values.dir as string | undefined, io.cwd);
    const paths = await workspacePaths(workspace.root, io.cwd, args.positionals);
    const now = Date.now();
    let target: { rev: string } | { at: number; text: string };
    if (at !== undefined) {
      const t = parseWhen(at, now);
      if (t === null) throw new UsageError(messages.atNotATime(String(at), WHEN_FORMS));
      target = { at: t, text: at };
    } else target = { rev: rev! };
    const dryRun = Boolean(args.values['dry-run']);
    const git = createGitRunner(workspace.root, { timeoutMs: config.commit.timeoutMs });
    const go = () => restorePaths({ root: workspace.root, stateDir: workspace.stateDir, git, config, now }, { paths, target, dryRun });
    let res: RestoreResult;
    try {
      res = dryRun ? await go() : await withDaemonHeld(workspace, config, `winnow restore ${paths.join(' ')}`, io, go);
    } catch (e) {
      if (e instanceof RestoreRefusal) throw new UsageError(e.message);
      throw e;
    }
    print(io, res, paths, Boolean(args.values.json));
    return 0;
  },
};

function print(io: CliIO, r: RestoreResult, paths: string[], json: boolean): void {
  if (json) {
    io.stdout(JSON.stringify(r) + '\n');
    return;
  }
  const t = `${r.target.sha.slice(0, 10)} "${r.target.subject}" (${localTime(r.target.at)})`;
  const lines: string[] = [];
  if (r.before) lines.push(`${r.dryRun ? 'would commit first' : `committed first in ${r.before.sha.slice(0, 10)}`} (uncommitted content the restore replaces): ${r.before.paths.join(', ')}`);
  if (!r.changes.length) lines.push(`${paths.join(', ')}: already as in ${t}; nothing to restore.`);
  else {
    lines.push(`${r.dryRun ? 'would restore' : `restored in ${r.restored!.slice(0, 10)}`} to ${t}:`);
    for (const c of r.changes) lines.push(`  ${c.action === 'write' ? 'write ' : 'remove'} ${c.path}`);
    if (r.undoRev) lines.push(`undo: winnow restore ${paths.map(quote).join(' ')} --rev ${r.undoRev.slice(0, 12)}`);
  }
  if (r.indexKept.length) lines.push(`left as you staged them: ${r.indexKept.join(', ')}`);
  io.stdout(lines.join('\n') + '\n');
}

function quote(p: string): string {
  return /^[\w./-]+$/.test(p) && !p.startsWith('-') ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
