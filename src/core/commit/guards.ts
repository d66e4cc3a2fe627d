/**
 * Guards that hold a commit back, and the sentences `status` shows in `waiting` while one does.
 */
import type { RepoBlock } from '../../ports/index.js';

export interface MassDeletionInput {
  /** Tracked paths this batch would delete. */
  deletions: number;
  /** Tracked files in the index before the commit. */
  trackedCount: number;
  /**
   * Tracked files missing from the work tree now, this batch or not (`git ls-files --deleted`).
   * Under load an `rm -rf` reaches the committer in several small batches; each would pass a
   * per-batch test, so the work tree is what is judged. Omitted: the batch's own count.
   */
  missing?: number;
  /** Whether the workspace root still exists. */
  rootExists: boolean;
}

/**
 * Deleting one or two files is never a "mass" deletion, even in a workspace that holds only
 * two or three: without this floor, removing the only file of a fresh repo would be held forever.
 */
export const MASS_DELETION_MIN = 3;

/**
 * Why a batch's deletions must be held back, or null. More than half of the tracked files gone
 * (and at least MASS_DELETION_MIN of them) — in this batch, or from the work tree while this
 * batch deletes anything — or a workspace root that vanished, looks like an accident (an
 * unmounted disk, a `rm -rf` in the wrong place), not an edit.
 *
 * @example massDeletion({ deletions: 60, trackedCount: 100, rootExists: true })
 *   // 'mass deletion: this batch would delete 60 of 100 tracked files; …'
 * @example massDeletion({ deletions: 2, missing: 80, trackedCount: 100, rootExists: true })
 *   // 'mass deletion: 80 of 100 tracked files are missing from the work tree; …'
 */
export function massDeletion(i: MassDeletionInput): string | null {
  if (!i.rootExists) {
    return 'mass deletion: the workspace root vanished; nothing is committed until it is back';
  }
  const fix = 'held back. If it was meant, commit the deletion yourself (git commit -a)';
  if (i.deletions >= MASS_DELETION_MIN && i.deletions * 2 > i.trackedCount) {
    return `mass deletion: this batch would delete ${i.deletions} of ${i.trackedCount} tracked files; ${fix}`;
  }
  const missing = i.missing ?? 0;
  if (i.deletions > 0 && missing >= MASS_DELETION_MIN && missing * 2 > i.trackedCount) {
    return `mass deletion: ${missing} of ${i.trackedCount} tracked files are missing from the work tree; every deletion is ${fix}`;
  }
  return null;
}

const BLOCK_SENTENCES: Record<RepoBlock, string> = {
  merge: 'a merge is in progress; commits wait until it is concluded (git merge --continue or --abort)',
  conflict:
    'unmerged files in the index (a stash pop, merge --squash, checkout -m or cherry-pick -n left conflicts): a merge is in progress; commits wait until each file is resolved (git add FILE) or the merge is undone (git checkout -m FILE, git reset)',
  rebase: 'a rebase is in progress; commits wait until it is finished (git rebase --continue or --abort)',
  'cherry-pick': 'a cherry-pick is in progress; commits wait until it is finished (git cherry-pick --continue or --abort)',
  revert: 'a revert is in progress; commits wait until it is finished (git revert --continue or --abort)',
  bisect: 'a bisect is in progress; commits wait until it ends (git bisect reset)',
  detached: 'HEAD is detached; commits wait until a branch is checked out (git switch BRANCH)',
  'unborn-unsupported': 'the current branch has no commits and cannot be committed to here; make a first commit by hand',
};

/** The `waiting` sentence for a repository operation in progress. */
export function blockedSentence(b: RepoBlock): string {
  return BLOCK_SENTENCES[b];
}

const iso = (t: number) => new Date(t).toISOString();

/** `waiting` sentences for the committer's other holds; times are epoch ms. */
export const waitingSentence = {
  paused: () => 'paused: the pause signal is up; commits wait until it is dropped or expires',
  indexLock: (lockPath: string) =>
    `${lockPath} exists: another git process is working; commits wait until it is gone (if no git process is running, a crashed one left it and you may delete it)`,
  lowDisk: (free: number, min: number) =>
    `low disk: ${Math.floor(free / 1048576)} MiB free, below health.minFreeBytes (${Math.floor(min / 1048576)} MiB); commits wait`,
  rateLimited: (at: number) => `rate limited until ${iso(at)}`,
  breakerOpen: (until: number, lastError: string | null) =>
    `breaker open until ${iso(until)} after repeated failures${lastError ? ` (last: ${lastError})` : ''}`,
  retrying: (at: number, lastError: string | null) => `retrying at ${iso(at)}${lastError ? ` after: ${lastError}` : ''}`,
  indexSync: () =>
    "the last commit landed but git's index could not be brought up to date yet (index.lock is held); commits wait until it is",
  personGit: (pid: number, command: string) =>
    `your git command is running in this repository (pid ${pid}: ${command}); commits wait until it ends, so HEAD does not move under it`,
  rootGone: (root: string) => `the workspace root ${root} vanished; commits wait until it is back`,
};
