/**
 * Which commits `winnow squash` folds, decided from facts about the commits at the tip of the
 * branch (newest first). Pure: the shell reads the facts from git and runs the plan.
 *
 * Rules: only winnow's own commits (its note says so), only commits on no remote (never pushed
 * history), never a merge; the folded run ends at HEAD and is consecutive.
 */
export interface TipCommit {
  sha: string;
  parents: string[];
  /** Committer time, epoch ms. */
  at: number;
  subject: string;
  /** Made by winnow (a winnow note, or winnow's reflog entry) and not renamed by a person's squash. */
  own: boolean;
  /** Reachable from a remote-tracking ref: pushed, or pulled from elsewhere. */
  pushed: boolean;
}

export type SquashSince = { kind: 'rev'; sha: string; text: string } | { kind: 'time'; at: number; text: string } | null;

export type SquashPlan =
  | { ok: true; fold: TipCommit[]; base: string | null }
  | { ok: false; reason: string };

const short = (sha: string) => sha.slice(0, 10);

/**
 * @param tip commits from HEAD back along first parents (newest first), as far as the shell read
 * @param complete whether `tip` reaches the root (false: the walk stopped at its limit)
 * @example planSquash([{ sha: 'b', parents: ['a'], own: true, pushed: false, … }, …], null, true)
 */
export function planSquash(tip: readonly TipCommit[], since: SquashSince, complete: boolean): SquashPlan {
  if (tip.length === 0) return { ok: false, reason: 'the branch has no commits yet: nothing to squash.' };
  let fold: TipCommit[];
  if (since?.kind === 'rev') {
    const i = tip.findIndex((c) => c.sha === since.sha);
    if (i < 0) {
      return {
        ok: false,
        reason: complete
          ? `${since.text} (${short(since.sha)}) is not on this branch's first-parent history: squash folds the commits after it up to HEAD.`
          : `${since.text} (${short(since.sha)}) is further back than the ${tip.length} commits looked at, or not on this branch.`,
      };
    }
    fold = tip.slice(0, i);
  } else if (since?.kind === 'time') {
    const i = tip.findIndex((c) => c.at < since.at);
    fold = i < 0 ? [...tip] : tip.slice(0, i);
  } else {
    const i = tip.findIndex((c) => !c.own || c.pushed || c.parents.length > 1);
    fold = i < 0 ? [...tip] : tip.slice(0, i);
    if (fold.length === 0) {
      const h = tip[0]!;
      return { ok: false, reason: `HEAD (${short(h.sha)} "${h.subject}") ${refusalOf(h)}; there is nothing of winnow's to fold at the tip.` };
    }
  }
  if (fold.length === 0) return { ok: false, reason: `there are no commits after ${since!.text}: nothing to squash.` };
  for (const c of fold) {
    if (c.parents.length > 1 || !c.own || c.pushed) {
      return {
        ok: false,
        reason: `${short(c.sha)} "${c.subject}" ${refusalOf(c)}; squash folds only winnow's own commits that are on no remote. Nothing was changed. Use a later --since.`,
      };
    }
  }
  const oldest = fold[fold.length - 1]!;
  return { ok: true, fold: fold.slice().reverse(), base: oldest.parents[0] ?? null };
}

function refusalOf(c: TipCommit): string {
  if (c.parents.length > 1) return 'is a merge';
  if (c.pushed) return 'is already on the remote (squashing it would rewrite pushed history)';
  return "is not winnow's commit (yours, or someone else's)";
}
