/**
 * The git pieces `winnow log`, `why`, `restore` and `squash` share, over the git adapter's runner:
 * the notes ref, the walk over the branch tip, and a commit made through a private index with a
 * compare-and-swap of the branch (the daemon's committer makes its commits the same way), after
 * which the person's index is brought up to date only where it still held the old HEAD's entry.
 */
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import type { GitRunner, ObjectFormat } from '../../ports/index.js';
import { gitText } from '../git-calls.js';
import { parseNote, formatNote, type Note, type NoteHeader, type NoteEntry } from '../../core/history/note.js';
import type { TipCommit } from '../../core/history/squash.js';
import { parseLsTree, parseLsFiles, realIndexUpdate, type Entry } from '../../core/commit/plumbing.js';
import { nullOid } from '../../core/git/object-format.js';
import { pathspecStdin } from '../../core/commit/plan.js';
import { NOTES_REF, noteStep } from '../../core/commit/history-steps.js';

export type { GitRunner };
export { gitText };

export { NOTES_REF };

/** Attaches (replacing) winnow's note to `sha`. One spawn: `git notes` writes blob, tree, commit and ref. */
export async function writeNote(git: GitRunner, sha: string, header: NoteHeader, entries: readonly NoteEntry[]): Promise<void> {
  const step = noteStep(sha, formatNote(header, entries));
  await git(step.args, { input: step.stdin, env: step.env });
}

export async function readNote(git: GitRunner, sha: string): Promise<Note | null> {
  const r = await git(['notes', `--ref=${NOTES_REF}`, 'show', sha], { allowFail: true });
  return r.code === 0 ? parseNote(r.stdout.toString('utf8')) : null;
}

export interface LoggedCommit {
  sha: string;
  parents: string[];
  at: number;
  author: string;
  subject: string;
  note: Note | null;
}

const RS = '\x1e';
const US = '\x1f';

/**
 * Commits from `rev` (newest first) with winnow's note, one spawn. `args` adds git log options
 * (`--first-parent`, `-n`, `--since`), `paths` limits to commits touching them.
 */
export async function logWithNotes(git: GitRunner, rev: string, args: string[] = [], paths: readonly string[] = []): Promise<LoggedCommit[]> {
  const r = await git(
    ['log', `--notes=${NOTES_REF}`, `--format=${RS}%H${US}%P${US}%ct${US}%an${US}%s${US}%N`, ...args, rev, '--', ...paths],
    { allowFail: true },
  );
  if (r.code !== 0) return []; // unborn branch
  const out: LoggedCommit[] = [];
  for (const rec of r.stdout.toString('utf8').split(RS)) {
    if (!rec.trim()) continue;
    const [sha, parents, ct, author, subject, ...rest] = rec.split(US);
    out.push({
      sha: sha!,
      parents: parents ? parents.split(' ').filter(Boolean) : [],
      at: Number(ct) * 1000,
      author: author ?? '',
      subject: subject ?? '',
      note: parseNote(rest.join(US)),
    });
  }
  return out;
}

/**
 * Commits winnow's daemon moved the branch to, from the branch's reflog (its update-ref message
 * starts with "winnow"): how winnow's commits are known when `commit.notes` is off. Only local
 * history has a reflog, and only local (unpushed) history is ever squashed.
 */
export async function reflogOwn(git: GitRunner, branchRef: string, max = 5_000): Promise<Set<string>> {
  const r = await git(['log', '-g', `-n${max}`, `--format=%H${US}%gs`, branchRef], { allowFail: true });
  const own = new Set<string>();
  if (r.code !== 0) return own;
  for (const line of r.stdout.toString('utf8').split('\n')) {
    const [sha, subject] = line.split(US);
    if (sha && subject && /^winnow(:| restore)/.test(subject) && !subject.startsWith('winnow squash')) own.add(sha);
  }
  return own;
}

/** The branch HEAD names (`refs/heads/x`), or null when HEAD is detached. */
export async function currentBranch(git: GitRunner): Promise<string | null> {
  const ref = await gitText(git, ['symbolic-ref', '-q', 'HEAD']).catch(() => '');
  return ref.startsWith('refs/heads/') ? ref : null;
}

export async function revParse(git: GitRunner, rev: string): Promise<string | null> {
  const r = await git(['rev-parse', '-q', '--verify', '--end-of-options', `${rev}^{commit}`], { allowFail: true });
  const sha = r.stdout.toString('utf8').trim();
  return r.code === 0 && sha ? sha : null;
}

/** How far back `squash` looks along first parents. */
export const TIP_WALK = 1_000;

/** The facts `planSquash` needs about the commits at the tip of `branchRef`. */
export async function tipFacts(git: GitRunner, branchRef: string): Promise<{ tip: TipCommit[]; complete: boolean }> {
  const [log, unpushedOut, reflog] = await Promise.all([
    logWithNotes(git, branchRef, ['--first-parent', `-n${TIP_WALK}`]),
    git(['rev-list', '--first-parent', `-n${TIP_WALK}`, branchRef, '--not', '--remotes'], { allowFail: true }),
    reflogOwn(git, branchRef),
  ]);
  const unpushed = new Set(unpushedOut.stdout.toString('utf8').split('\n').filter(Boolean));
  const tip = log.map((c) => ({
    sha: c.sha,
    parents: c.parents,
    at: c.at,
    subject: c.subject,
    own: c.note ? c.note.header.kind !== 'squash' : reflog.has(c.sha),
    pushed: !unpushed.has(c.sha),
  }));
  return { tip, complete: tip.length < TIP_WALK };
}

export interface PrivateCommit {
  /** Branch ref the commit goes on (`refs/heads/main`). */
  branchRef: string;
  /** Its commit now (the compare-and-swap's old value). */
  old: string;
  /** The paths the commit changes (for the person's index update). */
  paths: string[];
  /** How the tree is made from `old`'s: stage these paths from the work tree, or apply `--index-info` lines. */
  from: { worktree: string[] } | { indexInfo: string };
  message: string;
  reflog: string;
}

export class HeadMovedError extends Error {
  override name = 'HeadMovedError';
}

/**
 * One commit on `c.branchRef` through a private index (the person's index is never used to build
 * it). Returns the new commit, or null when the tree equals `old`'s (nothing to commit).
 * After the ref moved, `onCommitted` runs (write the note) and the private index stays for
 * `checkoutFromPrivate`; the caller removes it.
 */
export async function commitPrivately(git: GitRunner, indexFile: string, c: PrivateCommit): Promise<{ sha: string; tree: string } | null> {
  const env = { GIT_INDEX_FILE: indexFile };
  await git(['read-tree', c.old], { env });
  if ('worktree' in c.from) {
    await git(['update-index', '--add', '--remove', '-z', '--stdin'], { env, input: pathspecStdin(c.from.worktree) });
  } else {
    await git(['update-index', '-z', '--index-info'], { env, input: c.from.indexInfo });
  }
  const tree = await gitText(git, ['write-tree'], { env });
  if (tree === (await gitText(git, ['rev-parse', `${c.old}^{tree}`]))) return null;
  const sha = await gitText(git, ['commit-tree', tree, '-p', c.old, '-F', '-'], { input: c.message });
  const u = await git(['update-ref', '-m', c.reflog, c.branchRef, sha, c.old], { allowFail: true });
  if (u.code !== 0) throw new HeadMovedError(`the branch moved while winnow was committing (${u.stderr.trim().split('\n')[0] ?? ''}); nothing was changed`);
  return { sha, tree };
}

/**
 * The person's index after `old` → `next` for `paths`: entries still equal to `old`'s take
 * `next`'s; anything they staged by hand stays (core/commit/plumbing.ts `realIndexUpdate`).
 */
export async function syncPersonIndex(git: GitRunner, old: string, next: string, paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const want = new Set(paths);
  const ls = async (rev: string) => parseLsTree((await git(['ls-tree', '-r', '-z', '--full-tree', rev, '--', ...paths])).stdout.toString('utf8'), want);
  const [o, n, real] = await Promise.all([
    ls(old),
    ls(next),
    git(['ls-files', '-s', '-z', '--', ...paths], { env: { GIT_OPTIONAL_LOCKS: '0' } }).then((r) => parseLsFiles(r.stdout.toString('utf8'), want)),
  ]);
  const u = realIndexUpdate([...want], o, n, real);
  if (u.stdin) await git(['update-index', '-z', '--index-info'], { input: u.stdin });
  return u.kept;
}

/** Entries of `rev` at or under each of `paths` (a path may name a directory). */
export async function entriesUnder(git: GitRunner, rev: string, paths: readonly string[]): Promise<Map<string, Entry>> {
  if (paths.length === 0) return new Map();
  return parseLsTree((await git(['ls-tree', '-r', '-z', '--full-tree', rev, '--', ...paths])).stdout.toString('utf8'));
}

export function indexInfoLine(path: string, e: Entry | null, format: ObjectFormat): string {
  return e ? `${e.mode} ${e.oid}\t${path}\0` : `0 ${nullOid(format)}\t${path}\0`;
}

export function privateIndexPath(stateDir: string, what: string): string {
  return join(stateDir, `${what}-index.${process.pid}`);
}

export async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
  await unlink(`${file}.lock`).catch(() => undefined);
}
