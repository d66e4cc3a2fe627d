/**
 * Commit-reaction detector: the signature of a commit loop. A path that changes within
 * `windowMs` after each of winnow's last `minReactions` commits, with no human evidence, is a
 * tool reacting to commits (a monitor rewriting "last commit" state, a hook, an agent). Holding it
 * back breaks the loop even where no writer evidence exists (fanotify off).
 *
 * It corrects itself: a change of the path that does NOT follow a commit closely is not a
 * reaction, resets the count and is let through — so a person who happened to save right after a
 * few commits loses nothing; their next save carries the content.
 */
export interface ReactionConfig {
  windowMs: number;
  minReactions: number;
}

export const REACTION_DEFAULTS: ReactionConfig = { windowMs: 1_000, minReactions: 2 };

export interface ReactionState {
  lastCommitAt: number | null;
  /** Commit counter, so one commit counts once per path. */
  commitSeq: number;
  paths: Map<string, { count: number; seq: number }>;
}

export function createReactionState(): ReactionState {
  return { lastCommitAt: null, commitSeq: 0, paths: new Map() };
}

export function recordCommit(s: ReactionState, at: number): void {
  s.lastCommitAt = at;
  s.commitSeq++;
}

/**
 * Records a change of `path` at `at` that the other layers would accept; returns true when it
 * is a reaction to winnow's commits and must be held back.
 */
export function isReaction(s: ReactionState, path: string, at: number, human: boolean, cfg: ReactionConfig = REACTION_DEFAULTS): boolean {
  const following = s.lastCommitAt !== null && at >= s.lastCommitAt && at - s.lastCommitAt <= cfg.windowMs;
  if (human || !following) {
    s.paths.delete(path);
    return false;
  }
  const prev = s.paths.get(path);
  if (prev && prev.seq === s.commitSeq) return prev.count >= cfg.minReactions;
  const count = (prev?.count ?? 0) + 1;
  if (s.paths.size > 10_000 && !prev) s.paths.delete(s.paths.keys().next().value as string);
  s.paths.set(path, { count, seq: s.commitSeq });
  return count >= cfg.minReactions;
}

/** What state.json keeps of the reaction state, for `filter test` (bounded: the paths changed most recently). */
export interface SavedReactions {
  lastCommitAt: number | null;
  commitSeq: number;
  /** [path, count, commit seq], most recent last. */
  paths: [string, number, number][];
}

/** Paths kept in state.json: a loop involves a handful; a storm's paths are not worth the bytes. */
export const SAVED_REACTION_PATHS = 200;

export function saveReactions(s: ReactionState): SavedReactions {
  const paths = [...s.paths].slice(-SAVED_REACTION_PATHS).map(([p, v]): [string, number, number] => [p, v.count, v.seq]);
  return { lastCommitAt: s.lastCommitAt, commitSeq: s.commitSeq, paths };
}

/** The reaction state from state.json's `reactions` (anything malformed: a fresh state). */
export function restoreReactions(saved: unknown): ReactionState {
  const s = createReactionState();
  const v = saved as Partial<SavedReactions> | null;
  if (!v || typeof v !== 'object') return s;
  if (typeof v.lastCommitAt === 'number') s.lastCommitAt = v.lastCommitAt;
  if (typeof v.commitSeq === 'number') s.commitSeq = v.commitSeq;
  for (const e of Array.isArray(v.paths) ? v.paths.slice(-SAVED_REACTION_PATHS) : []) {
    if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number' && typeof e[2] === 'number') s.paths.set(e[0], { count: e[1], seq: e[2] });
  }
  return s;
}
