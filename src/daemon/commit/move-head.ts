/**
 * The compare-and-swap that puts a commit in the history: HEAD, and the commit's note
 * (refs/notes/winnow) where its objects were written from node (history/commit-extras.ts
 * `startCommitNote`), in one `update-ref` transaction: the note costs no spawn, and no crash
 * leaves the commit without it. When the notes ref moved since it was read (a restore, a sync's
 * notes merge), HEAD moves alone and the caller writes the note through git.
 */
import { updateRefInput, type RefUpdate } from '../../core/commit/plumbing.js';
import type { Git, GitStep } from '../../ports/index.js';
import type { Prestarted } from './prestart.js';

/** Thrown when HEAD moved between reading it and the compare-and-swap: plan again from the new HEAD. */
export class HeadMoved extends Error {}

/**
 * Moves HEAD from `old` to `sha` through `ref` (`step` started early), with `note` in the same
 * transaction. Resolves with whether the note moved with it; throws HeadMoved, or git's error,
 * when HEAD did not move.
 */
export async function moveHead(git: Git, ref: Prestarted, step: Omit<GitStep, 'stdin'>, sha: string, old: string | null, note: RefUpdate | null): Promise<boolean> {
  const head = updateRefInput(sha, old);
  try {
    await ref.run(note ? head + updateRefInput(note.new, note.old, note.ref) : head);
    return note !== null;
  } catch (e) {
    const now = await git.headSha().catch(() => undefined);
    if (now === sha) return note !== null; // it did move (the failure came after), the note with it
    if (now !== undefined && now !== old) throw new HeadMoved(`HEAD moved from ${old ?? '(unborn)'} to ${now ?? '(unborn)'}`);
    if (!note) throw e;
  }
  // HEAD is where it was: the note's compare-and-swap failed the transaction. HEAD alone, once.
  try {
    await git.run([{ ...step, stdin: head }]);
    return false;
  } catch (e) {
    const now = await git.headSha().catch(() => undefined);
    if (now === sha) return false;
    if (now !== undefined && now !== old) throw new HeadMoved(`HEAD moved from ${old ?? '(unborn)'} to ${now ?? '(unborn)'}`);
    throw e;
  }
}
