/**
 * What a sync does for history: carry winnow's notes over to replayed commits, push the notes
 * ref (merging another machine's notes when both wrote some), and fold winnow's unpushed commits
 * before a push (`remote.squashBeforePush`).
 */
import type { Config } from '../../core/config/defaults.js';
import { NOTES_IDENT, NOTES_REF } from '../../core/commit/history-steps.js';
import { squash, SquashRefusal } from './squash.js';
import type { GitRunner } from './git.js';

/** Where the remote's notes are fetched to before a merge (a local scratch ref). */
const REMOTE_NOTES = 'refs/notes/winnow-remote';

/** Copies winnow's notes from replayed commits to their replacements (`old new` pairs); one spawn. */
export async function copyNotes(git: GitRunner, pairs: readonly [string, string][]): Promise<void> {
  if (!pairs.length) return;
  const has = await git(['rev-parse', '-q', '--verify', NOTES_REF], { allowFail: true });
  if (has.code !== 0) return;
  // With --stdin, a commit without a note is skipped (git 2.39: exit 0).
  await git(['notes', `--ref=${NOTES_REF}`, 'copy', '--stdin'], { input: pairs.map(([a, b]) => `${a} ${b}\n`).join(''), env: { ...NOTES_IDENT }, allowFail: true });
}

/**
 * Pushes refs/notes/winnow to `remote`. When the remote's notes moved (another machine), fetch
 * them, merge with cat_sort_uniq (winnow's note lines are self-describing JSON, any order), push
 * again. Returns a sentence when it could not, for the sync log; never fails the sync.
 */
export async function pushNotes(git: GitRunner, remote: string, timeoutMs: number): Promise<string | null> {
  const local = await git(['rev-parse', '-q', '--verify', NOTES_REF], { allowFail: true });
  if (local.code !== 0) return null;
  for (let round = 0; round < 2; round++) {
    const p = await git(['push', '--porcelain', '--no-verify', remote, `${NOTES_REF}:${NOTES_REF}`], { allowFail: true, timeoutMs });
    if (p.code === 0) return null;
    if (round === 1) break;
    const f = await git(['fetch', '-q', '--no-tags', remote, `+${NOTES_REF}:${REMOTE_NOTES}`], { allowFail: true, timeoutMs });
    if (f.code !== 0) return `notes not pushed: ${lastLine(p.stderr || p.stdout.toString())}`;
    const m = await git(['notes', `--ref=${NOTES_REF}`, 'merge', '-q', '-s', 'cat_sort_uniq', REMOTE_NOTES], { allowFail: true, env: { ...NOTES_IDENT } });
    if (m.code !== 0) return `notes not merged with ${remote}'s: ${lastLine(m.stderr)}`;
  }
  return `notes not pushed to ${remote}`;
}

/**
 * `remote.squashBeforePush`: folds winnow's unpushed commits at the tip into one, with the
 * combined summary. Nothing to fold (fewer than two, or the tip is a person's) is not an error.
 * Returns the number of commits folded.
 */
export async function squashBeforePush(git: GitRunner, config: Config, now: number): Promise<number> {
  try {
    const plan = await squash(git, config, { since: null, message: null, dryRun: true }, now);
    if (plan.folded.length < 2) return 0;
    const done = await squash(git, config, { since: null, message: null }, now);
    return done.folded.length;
  } catch (e) {
    if (e instanceof SquashRefusal) return 0;
    throw e;
  }
}

function lastLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).pop() ?? 'no message from git';
}
