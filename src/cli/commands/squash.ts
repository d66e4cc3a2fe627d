import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandSpec } from '../types.js';
import { RuntimeError, UsageError } from '../types.js';
import { messages } from '../messages.js';
import { loadWorkspace } from '../../index.js';
import { gitText } from '../../daemon/history/git.js';
import { squash, SquashRefusal, type SquashResult } from '../../daemon/history/squash.js';
import { WHEN_FORMS } from '../../core/history/when.js';
import { withDaemonHeld, localTime } from '../history-common.js';
import { createGitRunner } from '../../adapters/git.js';
import type { GitRunner } from '../../ports/index.js';

export const command: CommandSpec = {
  name: 'squash',
  summary: "fold winnow's unpushed commits at the tip of the branch into one commit with your message",
  usage: 'squash [--since REV|WHEN] [-m MSG | --edit] [--dry-run] [--dir DIR] [--json]',
  options: {
    since: { type: 'string' },
    message: { type: 'string', short: 'm' },
    edit: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    dir: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    since: `fold the commits after REV, or made since WHEN (${WHEN_FORMS}); default: the whole run of winnow's commits at the tip`,
    message: 'the message of the folded commit',
    edit: 'write the message in your editor (git var GIT_EDITOR), starting from the combined summary',
    'dry-run': 'list what would be folded, change nothing',
    dir: 'workspace (default: the current directory)',
    json: 'print {sha, folded, message, paths} on stdout',
  },
  details:
    "Only winnow's own commits (its notes say so) that are on no remote are folded: never your commits, never\n" +
    'pushed history; anything else is refused with the reason and nothing changes. The work tree and your index are\n' +
    'not touched. Without -m or --edit the message is the combined summary. The commits folded stay in the reflog\n' +
    '(git reflog) until git expires them.',
  async run(args, io) {
    const msg = args.values.message as string | undefined;
    const edit = Boolean(args.values.edit);
    if (msg !== undefined && edit) throw new UsageError(messages.messageOrEdit());
    if (msg !== undefined && !msg.trim()) throw new UsageError(messages.emptyMessageFlag());
    const { workspace, config } = await loadWorkspace(args.values.dir as string | undefined, io.cwd);
    const git = createGitRunner(workspace.root, { timeoutMs: config.commit.timeoutMs });
    const since = (args.values.since as string | undefined) ?? null;
    const dryRun = Boolean(args.values['dry-run']);
    const now = Date.now();
    let res: SquashResult;
    try {
      let message: string | null = msg ?? null;
      if (edit) {
        const preview = await squash(git, config, { since, message: null, dryRun: true }, now);
        message = await editMessage(git, workspace.root, preview);
      }
      const go = () => squash(git, config, { since, message, dryRun }, now);
      res = dryRun ? await go() : await withDaemonHeld(workspace, config, 'winnow squash', io, go);
    } catch (e) {
      if (e instanceof SquashRefusal) throw new UsageError(e.message);
      throw e;
    }
    if (args.values.json) {
      io.stdout(JSON.stringify({ sha: res.sha, base: res.base, folded: res.folded.map((c) => c.sha), message: res.message, paths: res.paths }) + '\n');
      return 0;
    }
    const head = res.sha ? `folded ${res.folded.length} commit${res.folded.length === 1 ? '' : 's'} into ${res.sha.slice(0, 10)}` : `would fold ${res.folded.length} commit${res.folded.length === 1 ? '' : 's'}`;
    io.stdout(
      `${head}:\n` +
        res.folded.map((c) => `  ${c.sha.slice(0, 10)}  ${localTime(c.at)}  ${c.subject}`).join('\n') +
        `\nmessage:\n${res.message.trimEnd().replace(/^/gm, '  ')}\n` +
        (res.sha ? `the old commits stay in \`git reflog\` (the tip was ${res.folded[res.folded.length - 1]!.sha.slice(0, 10)}).\n` : ''),
    );
    return 0;
  },
};

async function editMessage(git: GitRunner, root: string, preview: SquashResult): Promise<string> {
  // The person's editor: git's runner sets GIT_EDITOR=true so that nothing else waits for one.
  const editor = await gitText(git, ['var', 'GIT_EDITOR'], { env: { GIT_EDITOR: process.env.GIT_EDITOR } }).catch(() => '');
  if (!editor) throw new UsageError(messages.noEditor());
  const dir = await mkdtemp(join(tmpdir(), 'winnow-squash-'));
  const file = join(dir, 'SQUASH_MSG');
  try {
    const help = ['', '# The message of the folded commit. Lines starting with # are dropped; an empty message aborts.', '# Folding:', ...preview.folded.map((c) => `#   ${c.sha.slice(0, 10)} ${c.subject}`)];
    await writeFile(file, preview.message.trimEnd() + '\n' + help.join('\n') + '\n');
    const r = spawnSync('sh', ['-c', `${editor} "$1"`, editor, file], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new RuntimeError(messages.editorFailed(editor, String(r.status ?? r.signal)));
    const text = (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n')
      .trim();
    if (!text) throw new UsageError(messages.emptyMessage());
    return text + '\n';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
