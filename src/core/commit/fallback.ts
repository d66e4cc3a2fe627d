/**
 * What the committer does when one attempt at a batch fails (SPEC "Committer"): the retry and
 * fallback tree as a pure function of the failure and what was tried already. The shell
 * (daemon/commit/attempt.ts) carries the move out; a `give-up` goes to the breaker
 * (core/retry.ts), which retries the whole batch after a backoff.
 *
 * In order:
 * 1. HEAD moved under a plumbing commit (someone committed meanwhile): plan again, up to 3 times.
 * 2. The private index cannot be built: this batch goes through `git commit --only`.
 * 3. git says there was nothing to commit: the batch is unchanged, no failure.
 * 4. git refused paths by name (behind a symlink, ignored, an invalid name): hold those and
 *    commit the rest, up to 3 times.
 * 5. A path changed or vanished while it was committed: plan again, once.
 * 6. A plumbing commit failed in a way retrying cannot fix: `git commit --only` knows every case
 *    git knows.
 * 7. Anything else: give up on this attempt (retry later with backoff, or the breaker opens).
 *
 * @example
 * nextMove(startFallback('plumbing'), { headMoved: true, privateIndex: false, message: 'HEAD moved', info }, ['a.md'])
 * // → { move: 'replan', reason: 'HEAD moved' }, with the state's `moves` at 1
 */
import { classifyCommitFailure, offendingPaths, type FailureInfo, type OffendingPath } from './retry-policy.js';

/** How a commit is made: index plumbing on a private index, or `git commit --only`. */
export type Via = 'plumbing' | 'porcelain';

/** How many times each way out may be taken for one batch. */
export const MAX_HEAD_MOVES = 3;
export const MAX_REFUSALS = 3;
export const MAX_REPLANS = 1;

export interface FallbackState {
  via: Via;
  /** Replans after a path vanished. */
  replans: number;
  /** Rounds of paths left out because git refused them by name. */
  refusals: number;
  /** Replans after HEAD moved under a plumbing commit. */
  moves: number;
}

/** One failed attempt, as the shell saw it. */
export interface AttemptFailure {
  /** HEAD moved between reading it and updating the ref (plumbing's compare-and-swap failed). */
  headMoved: boolean;
  /** The private index could not be built or written. */
  privateIndex: boolean;
  /** The error's message (for the log). */
  message: string;
  /** The failed git call (or the error as one). */
  info: FailureInfo;
}

export type Move =
  /** Prepare and commit the batch again from fresh facts. */
  | { move: 'replan'; reason: string }
  /** Commit this batch with `git commit --only`. */
  | { move: 'porcelain'; cause: 'private-index' | 'plumbing-failed'; error: string }
  /** Nothing to commit: every path is as in HEAD. */
  | { move: 'unchanged' }
  /** Hold these paths (git refuses them) and commit the rest. */
  | { move: 'leave-out'; paths: OffendingPath[] }
  /** This attempt failed: the batch waits for the retry policy. */
  | { move: 'give-up' };

export function startFallback(via: Via): FallbackState {
  return { via, replans: 0, refusals: 0, moves: 0 };
}

/** The next move after `failure`; updates `s` (the counters, and `via` on a fallback to porcelain). */
export function nextMove(s: FallbackState, failure: AttemptFailure, planPaths: readonly string[]): Move {
  if (failure.headMoved && s.moves++ < MAX_HEAD_MOVES) return { move: 'replan', reason: failure.message };
  if (failure.privateIndex && s.via === 'plumbing') {
    s.via = 'porcelain';
    return { move: 'porcelain', cause: 'private-index', error: failure.message };
  }
  const c = classifyCommitFailure(failure.info);
  if (c.action === 'noop') return { move: 'unchanged' };
  const bad = offendingPaths(failure.info.stderr).filter((o) => planPaths.includes(o.path));
  if (bad.length && s.refusals < MAX_REFUSALS) {
    s.refusals++;
    return { move: 'leave-out', paths: bad };
  }
  if (c.action === 'replan' && s.replans++ < MAX_REPLANS) return { move: 'replan', reason: c.reason };
  if (s.via === 'plumbing' && c.action === 'abort') {
    s.via = 'porcelain';
    return { move: 'porcelain', cause: 'plumbing-failed', error: failure.info.stderr.trim().split('\n')[0] ?? failure.message };
  }
  return { move: 'give-up' };
}
