/**
 * The person's index after winnow's commit (core/commit/plumbing.ts `realIndexUpdate`): in-process
 * where the file allows it (an edit of tracked files, the common case: adapters/index-file.ts),
 * else through `git update-index --index-info`. Done after the ref moved, not beside the commit:
 * on 2 cores its read, hashes and write slowed commit-tree and update-ref more than they saved
 * (docs/benchmarks.md).
 */
import { indexInfoStep, lsFilesSteps, parseLsFiles, realIndexUpdate, type Entry, type IndexEntry } from '../../core/commit/plumbing.js';
import type { Git } from '../../ports/index.js';

/** Brings the person's index for `paths` from `oldE` to `newE`; returns the paths staged by hand, left alone. */
export async function updatePersonIndex(git: Git, paths: string[], oldE: Map<string, Entry>, newE: Map<string, Entry>): Promise<string[]> {
  let u: ReturnType<typeof realIndexUpdate> | undefined;
  const decide = (real: Map<string, IndexEntry | 'conflict'>) => ((u = realIndexUpdate(paths, oldE, newE, real)).removes ? null : u.replacements);
  if (git.replaceIndexEntries && (await git.replaceIndexEntries(paths, decide).catch(() => false)) && u) return u.kept;
  const want = new Set(paths);
  const real = git.indexEntries ? await git.indexEntries(paths) : parseLsFiles((await git.run(lsFilesSteps(paths))).map((r) => r.stdout).join(''), want);
  u = realIndexUpdate(paths, oldE, newE, real);
  if (u.stdin) await git.run([indexInfoStep(u.stdin)]);
  return u.kept;
}
