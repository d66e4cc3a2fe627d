/**
 * `winnow restore`: files back to their content at another commit, as a forward change. The
 * content it replaces is committed first when it was not (nothing is lost), and the restore is a
 * commit of its own, so a restore is undone by restoring the commit before it.
 *
 * It never touches what the person staged (it refuses those paths), builds both commits in a
 * private index, moves the branch with a compare-and-swap, writes only the restored paths into
 * the work tree, and updates the person's index only where it still held HEAD's entry.
 */
import { join } from 'node:path';
import { open, unlink, lstat } from 'node:fs/promises';
import type { Config } from '../../core/config/defaults.js';
import { renderMessage, summarize } from '../../core/commit/summary.js';
import { scanForSecrets, SCAN_BYTES } from '../../core/commit/secrets.js';
import { largeFileHold, humanBytes } from '../../core/commit/large.js';
import type { NoteEntry } from '../../core/history/note.js';
import type { Entry } from '../../core/commit/plumbing.js';
import { formatOfOid } from '../../core/git/object-format.js';
import {
  commitPrivately,
  currentBranch,
  entriesUnder,
  gitText,
  HeadMovedError,
  indexInfoLine,
  privateIndexPath,
  removeQuietly,
  revParse,
  syncPersonIndex,
  writeNote,
  type GitRunner,
} from './git.js';

/** The request can not be done as asked; nothing was changed (exit 2). */
export class RestoreRefusal extends Error {
  override name = 'RestoreRefusal';
}

export interface RestoreEnv {
  root: string;
  stateDir: string;
  git: GitRunner;
  config: Config;
  now: number;
}

export interface RestoreRequest {
  /** Workspace-relative posix paths (files or directories). */
  paths: string[];
  target: { rev: string } | { at: number; text: string };
  dryRun: boolean;
}

export interface RestoreChange {
  path: string;
  action: 'write' | 'remove';
}

export interface RestoreResult {
  target: { sha: string; at: number; subject: string };
  /** The commit of the content the restore replaced (null: it was all committed already). */
  before: { sha: string; paths: string[] } | null;
  /** The restore's own commit (null on a dry run, or when the paths already had that content). */
  restored: string | null;
  changes: RestoreChange[];
  dryRun: boolean;
  /** Paths whose index entry the person had changed since; left as they were. */
  indexKept: string[];
  /** The commit just before the restore: `--rev` it to undo the restore. */
  undoRev: string | null;
}

/** Attempts when the branch moves under a restore (the daemon, or the person, committed). */
const ATTEMPTS = 3;

export async function restorePaths(env: RestoreEnv, req: RestoreRequest): Promise<RestoreResult> {
  const { git } = env;
  const branchRef = await currentBranch(git);
  if (!branchRef) throw new RestoreRefusal('HEAD is detached: restore commits on a branch. Check one out first.');
  if (!(await revParse(git, 'HEAD'))) throw new RestoreRefusal('the branch has no commits yet: there is nothing to restore from.');
  const target = await resolveTarget(git, req.target);
  const staged = (await git(['diff', '--cached', '--name-only', '-z', 'HEAD', '--', ...req.paths])).stdout.toString('utf8').split('\0').filter(Boolean);
  if (staged.length) {
    throw new RestoreRefusal(
      `you have staged changes to ${listed(staged)}: winnow leaves what you staged to you. Commit them, or unstage them (git restore --staged -- ${staged.map(shellWord).join(' ')}), then restore. Nothing was changed.`,
    );
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptRestore(env, req, branchRef, target);
    } catch (e) {
      if (e instanceof HeadMovedError && attempt < ATTEMPTS) continue;
      throw e;
    }
  }
}

async function resolveTarget(git: GitRunner, t: RestoreRequest['target']): Promise<RestoreResult['target']> {
  let sha: string | null;
  if ('rev' in t) {
    sha = await revParse(git, t.rev);
    if (!sha) throw new RestoreRefusal(`"${t.rev}" is not a commit in this repository.`);
  } else {
    // The commit the branch was at then: the newest first-parent commit made at or before WHEN.
    sha = (await gitText(git, ['rev-list', '-1', '--first-parent', `--before=@${Math.floor(t.at / 1000)}`, 'HEAD'])) || null;
    if (!sha) {
      const first = await gitText(git, ['log', '--first-parent', '--reverse', '--format=%cI', 'HEAD']).then((o) => o.split('\n')[0]);
      throw new RestoreRefusal(`nothing was committed on this branch by ${t.text} (${new Date(t.at).toISOString()}); its first commit is from ${first}.`);
    }
  }
  const [ct, subject] = (await gitText(git, ['log', '-1', '--format=%ct%x1f%s', sha])).split('\x1f');
  return { sha, at: Number(ct) * 1000, subject: subject ?? '' };
}

async function attemptRestore(env: RestoreEnv, req: RestoreRequest, branchRef: string, target: RestoreResult['target']): Promise<RestoreResult> {
  const { git, root, config } = env;
  let head = (await revParse(git, 'HEAD'))!;
  const targetEntries = await entriesUnder(git, target.sha, req.paths);
  const headEntries = await entriesUnder(git, head, req.paths);
  const unknown = req.paths.filter((p) => !covers(targetEntries, p) && !covers(headEntries, p));
  if (unknown.length) throw new RestoreRefusal(`${listed(unknown)} ${unknown.length === 1 ? 'is' : 'are'} neither in HEAD nor in ${target.sha.slice(0, 10)}: nothing to restore.`);

  // What differs from HEAD under the paths (edited, deleted, or new and not ignored).
  const changed = (await git(['diff', '--name-only', '-z', 'HEAD', '--', ...req.paths])).stdout.toString('utf8').split('\0').filter(Boolean);
  const untracked = (await git(['ls-files', '-o', '--exclude-standard', '-z', '--', ...req.paths])).stdout.toString('utf8').split('\0').filter(Boolean);
  const dirty = [...new Set([...changed, ...untracked])].sort();
  for (const p of dirty) {
    const why = await refuseToCommit(root, p, config);
    if (why) throw new RestoreRefusal(`${p} has uncommitted content that winnow will not commit (${why}), and a restore would replace it. Move or commit it yourself first. Nothing was changed.`);
  }

  const planned = (base: Map<string, Entry>) => {
    const changes: RestoreChange[] = [];
    for (const p of new Set([...targetEntries.keys(), ...base.keys()])) {
      const t = targetEntries.get(p);
      const h = base.get(p);
      if (t && (!h || h.oid !== t.oid || h.mode !== t.mode)) changes.push({ path: p, action: 'write' });
      else if (!t && h) changes.push({ path: p, action: 'remove' });
    }
    return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
  };

  if (req.dryRun) {
    // After the "before" commit, HEAD holds the work tree's content for the dirty paths.
    const base = new Map(headEntries);
    for (const p of dirty) base.set(p, { mode: 'dirty', oid: 'dirty' });
    for (const p of changed) if (!(await exists(join(root, p)))) base.delete(p);
    return { target, before: dirty.length ? { sha: '', paths: dirty } : null, restored: null, changes: planned(base), dryRun: true, indexKept: [], undoRev: null };
  }

  const indexFile = privateIndexPath(env.stateDir, 'restore');
  const kept: string[] = [];
  try {
    let before: RestoreResult['before'] = null;
    if (dirty.length) {
      const c = await commitPrivately(git, indexFile, {
        branchRef,
        old: head,
        paths: dirty,
        from: { worktree: dirty },
        message: renderMessage(config.commit.message, dirty).replace(/^(winnow: )?/, 'winnow: before restore: '),
        reflog: 'winnow: before restore',
      });
      if (c) {
        before = { sha: c.sha, paths: dirty };
        await note(env, c.sha, 'restore-before', dirty, 'the content `winnow restore` replaced, committed first so that nothing is lost');
        kept.push(...(await syncPersonIndex(git, head, c.sha, dirty)));
        head = c.sha;
      }
    }
    const base = await entriesUnder(git, head, req.paths);
    const changes = planned(base);
    if (!changes.length) return { target, before, restored: null, changes, dryRun: false, indexKept: kept, undoRev: null };
    const info = changes.map((c) => indexInfoLine(c.path, c.action === 'write' ? targetEntries.get(c.path)! : null, formatOfOid(target.sha))).join('');
    const paths = changes.map((c) => c.path);
    const when = new Date(target.at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    const restored = await commitPrivately(git, indexFile, {
      branchRef,
      old: head,
      paths,
      from: { indexInfo: info },
      message: `winnow: restore ${summarize(paths)} to ${target.sha.slice(0, 10)} (${when})`,
      reflog: `winnow restore to ${target.sha.slice(0, 10)}`,
    });
    if (!restored) return { target, before, restored: null, changes: [], dryRun: false, indexKept: kept, undoRev: null };
    // The work tree: written from the private index, which now equals the new HEAD.
    const writes = changes.filter((c) => c.action === 'write').map((c) => c.path);
    for (const c of changes) if (c.action === 'remove' || (await isDirectory(join(root, c.path)))) await unlink(join(root, c.path)).catch(() => undefined);
    if (writes.length) await git(['checkout-index', '-f', '-z', '--stdin'], { env: { GIT_INDEX_FILE: indexFile }, input: writes.map((p) => p + '\0').join('') });
    await note(env, restored.sha, 'restore', paths, `restored to its content at ${target.sha.slice(0, 10)} "${target.subject}" (${when}) by winnow restore`);
    kept.push(...(await syncPersonIndex(git, head, restored.sha, paths)));
    return { target, before, restored: restored.sha, changes, dryRun: false, indexKept: kept, undoRev: head };
  } finally {
    await removeQuietly(indexFile);
  }
}

async function note(env: RestoreEnv, sha: string, kind: 'restore' | 'restore-before', paths: string[], reason: string): Promise<void> {
  if (!env.config.commit.notes) return;
  const entries: NoteEntry[] = paths.map((path) => ({ path, decision: 'ALLOW', layer: null, rule: 'winnow restore', reason, at: env.now }));
  await writeNote(env.git, sha, { kind, at: env.now }, entries);
}

/** Why winnow must not commit this file's current content on its own (a secret, a file too large). */
async function refuseToCommit(root: string, path: string, config: Config): Promise<string | null> {
  const abs = join(root, path);
  const st = await lstat(abs).catch(() => null);
  if (!st || !st.isFile()) return config.secrets.enabled ? scanForSecrets(path, null, config.secrets.allow) : null;
  if (st.size > config.commit.maxFileBytes) return largeFileHold(st.size, config.commit.maxFileBytes, 'none') ? `${humanBytes(st.size)}, over commit.maxFileBytes` : null;
  if (!config.secrets.enabled) return null;
  const fh = await open(abs, 'r');
  try {
    const buf = Buffer.alloc(Math.min(st.size, SCAN_BYTES));
    await fh.read(buf, 0, buf.length, 0);
    return scanForSecrets(path, buf, config.secrets.allow);
  } finally {
    await fh.close();
  }
}

function covers(entries: Map<string, Entry>, p: string): boolean {
  if (entries.has(p)) return true;
  const dir = p.endsWith('/') ? p : `${p}/`;
  for (const k of entries.keys()) if (k.startsWith(dir)) return true;
  return false;
}

async function exists(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null)) !== null;
}

async function isDirectory(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => null))?.isDirectory() ?? false;
}

function listed(paths: string[]): string {
  return paths.length <= 3 ? paths.join(', ') : `${paths.slice(0, 3).join(', ')} (+${paths.length - 3} more)`;
}

function shellWord(p: string): string {
  return /^[\w./-]+$/.test(p) && !p.startsWith('-') ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
