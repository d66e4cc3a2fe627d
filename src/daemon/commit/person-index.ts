/**
 * The person's index after winnow's commit (core/commit/plumbing.ts `realIndexUpdate`): in-process
 * where the file allows it (an edit of tracked files, the common case: adapters/index-file.ts),
 * prepared while the commit is made and put in place once it landed; else through `git
 * update-index --index-info`.
 */
import { indexInfoStep, lsFilesSteps, parseLsFiles, realIndexUpdate, type CommitJournal, type Entry } from '../../core/commit/plumbing.js';
import type { Git, IndexPatch } from '../../ports/index.js';

/** The person's index prepared beside it, and the paths it leaves alone (staged by hand). */
export interface PersonIndexUpdate {
  patch: IndexPatch;
  kept: string[];
}

/** The in-process update of the person's index for `paths`, from `oldE` to `newE`; null: git must do it. */
export async function preparePersonIndex(git: Git, paths: string[], oldE: Map<string, Entry>, newE: Map<string, Entry>): Promise<PersonIndexUpdate | null> {
  if (!git.prepareIndexEntries) return null;
  let u: ReturnType<typeof realIndexUpdate> | undefined;
  const patch = await git.prepareIndexEntries(paths, (real) => ((u = realIndexUpdate(paths, oldE, newE, real)).removes ? null : u.replacements));
  return patch && u ? { patch, kept: u.kept } : null;
}

/**
 * Brings the person's index for `paths` from `oldE` to `newE` (`prepared`: made beside the commit);
 * returns the paths staged by hand, left alone.
 */
export async function updatePersonIndex(
  git: Git,
  paths: string[],
  oldE: Map<string, Entry>,
  newE: Map<string, Entry>,
  prepared?: Promise<PersonIndexUpdate | null>,
): Promise<string[]> {
  const ready = await (prepared ?? preparePersonIndex(git, paths, oldE, newE)).catch(() => null);
  if (ready && (await ready.patch.commit())) return ready.kept;
  const want = new Set(paths);
  const real = git.indexEntries ? await git.indexEntries(paths) : parseLsFiles((await git.run(lsFilesSteps(paths))).map((r) => r.stdout).join(''), want);
  const u = realIndexUpdate(paths, oldE, newE, real);
  if (u.stdin) await git.run([indexInfoStep(u.stdin)]);
  return u.kept;
}

/** A commit in git: its journal, its entries for the batch (built directly) and the person's index prepared for them. */
export type Landed = CommitJournal & { entries?: Map<string, Entry>; person?: Promise<PersonIndexUpdate | null> };

/** The commit did not land: the person's index prepared for it is dropped, and `e` thrown on. */
export async function discardPrepared(person: Promise<PersonIndexUpdate | null> | undefined, e: unknown): Promise<never> {
  await (await person)?.patch.discard();
  throw e;
}
