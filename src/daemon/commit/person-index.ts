/**
 * The person's index after winnow's commit (core/commit/plumbing.ts `realIndexUpdate`): in-process
 * where the file allows it (an edit of tracked files, the common case: adapters/index-file.ts),
 * else through `git update-index --index-info`. Not prepared beside the commit: on 2 cores its
 * read, hashes and write slowed commit-tree and update-ref more than they saved (docs/benchmarks.md).
 */
import { indexInfoStep, lsFilesSteps, parseLsFiles, realIndexUpdate, type CommitJournal, type Entry } from '../../core/commit/plumbing.js';
import type { Git, IndexPatch } from '../../ports/index.js';

/** The person's index prepared beside it, and the paths it leaves alone (staged by hand). */
interface PersonIndexUpdate {
  patch: IndexPatch;
  kept: string[];
}

/** The in-process update of the person's index for `paths`, from `oldE` to `newE`; null: git must do it. */
async function preparePersonIndex(git: Git, paths: string[], oldE: Map<string, Entry>, newE: Map<string, Entry>): Promise<PersonIndexUpdate | null> {
  if (!git.prepareIndexEntries) return null;
  let u: ReturnType<typeof realIndexUpdate> | undefined;
  const patch = await git.prepareIndexEntries(paths, (real) => ((u = realIndexUpdate(paths, oldE, newE, real)).removes ? null : u.replacements));
  return patch && u ? { patch, kept: u.kept } : null;
}

/** Brings the person's index for `paths` from `oldE` to `newE`; returns the paths staged by hand, left alone. */
export async function updatePersonIndex(git: Git, paths: string[], oldE: Map<string, Entry>, newE: Map<string, Entry>): Promise<string[]> {
  const ready = await preparePersonIndex(git, paths, oldE, newE).catch(() => null);
  if (ready && (await ready.patch.commit())) return ready.kept;
  const want = new Set(paths);
  const real = git.indexEntries ? await git.indexEntries(paths) : parseLsFiles((await git.run(lsFilesSteps(paths))).map((r) => r.stdout).join(''), want);
  const u = realIndexUpdate(paths, oldE, newE, real);
  if (u.stdin) await git.run([indexInfoStep(u.stdin)]);
  return u.kept;
}

/** A commit in git: its journal, and its entries for the batch when it was built directly. */
export type Landed = CommitJournal & { entries?: Map<string, Entry> };

