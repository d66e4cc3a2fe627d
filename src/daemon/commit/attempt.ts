/**
 * One batch's way into git: prepare it (prepare.ts), commit it with plumbing (private-index.ts)
 * or porcelain, and on a failure decide what to try next: replan, leave out the paths git refused
 * by name, fall back from plumbing to `git commit --only`, or give up (throw: the committer
 * retries the batch with backoff); that tree is core/commit/fallback.ts. The committer
 * (committer.ts) records the outcome.
 */
import type { Git, Logger } from '../../ports/index.js';
import type { CommitPlan } from '../../core/commit/plan.js';
import type { Entry } from '../../core/commit/plumbing.js';
import { nextMove, startFallback } from '../../core/commit/fallback.js';
import { faultPoint } from '../../util/fault.js';
import { failureInfo } from './failure.js';
import type { Prepared, Via } from './prepare.js';
import { HeadMoved, PrivateIndexError, type Landed, type PrivateIndex } from './private-index.js';
import type { RefUpdate } from '../../core/commit/plumbing.js';

export interface AttemptDeps {
  git: Git;
  logger: Logger;
  index: PrivateIndex;
  /** prepareBatch for `paths` (holds reported through `hold`). */
  prepare(paths: string[], via: Via): Promise<Prepared>;
  /** Holds `path` back with a reason (until it changes again). */
  hold(path: string, reason: string): void;
  /** Paths prepare found staged by hand with content different from HEAD: the person's. */
  leaveToPerson(staged: { path: string; reason: string }[]): void;
  /** Paths that need no commit (gone and never tracked, or nobody's change). */
  discard(paths: string[], reason: 'vanished' | 'unchanged'): void;
  /** The message for a plumbing commit: `subject` with a body, or messageCommand's. */
  message(old: { commit: string; tree: string } | null, tree: string, subject: string): Promise<string>;
  /** Starts the commit's note for the paths it changed; given the commit, its ref update for HEAD's transaction, or null: written after, through git. */
  note?(paths: string[]): ((sha: string) => Promise<RefUpdate | null>) | undefined;
}

/**
 * The batch in flight: its paths (paths git refused by name leave it) and the latest plan. The
 * committer reads both while the attempt runs (status) and after it throws (the failure's paths).
 */
export interface InFlight {
  paths: string[];
  plan: CommitPlan | null;
}

export type Attempt =
  /** Nothing left to commit (every path held, vanished or the person's). */
  | { outcome: 'empty' }
  /** Every path is as in HEAD: no commit was needed. */
  | { outcome: 'unchanged'; plan: CommitPlan; via: Via }
  /**
   * A plumbing commit landed; the person's index is not yet brought up to date. `plan` holds the
   * paths it changed and the message it got; `same`, the batch's paths saved with HEAD's bytes.
   */
  | { outcome: 'landed'; plan: CommitPlan; same: string[]; via: Via; landed: Landed; oldEntries: Map<string, Entry> | undefined }
  /** `git commit --only` committed the plan. */
  | { outcome: 'committed'; plan: CommitPlan; via: Via };

/** Runs the batch `work` until it is committed, needs no commit, or fails for good (throws). */
export async function attemptCommit(deps: AttemptDeps, work: InFlight, strategy: Via): Promise<Attempt> {
  const { git, logger, index } = deps;
  const fallback = startFallback(strategy);
  // What to try after a failure (replan, leave refused paths out, fall back to porcelain):
  // core/commit/fallback.ts.
  for (;;) {
    const via = fallback.via;
    const prepared = await deps.prepare(work.paths, via);
    faultPoint('after-scan');
    if (prepared.staged.length) deps.leaveToPerson(prepared.staged);
    if (prepared.hidden.length) {
      logger.log('info', 'skip-worktree or assume-unchanged in the index (sparse checkout): not a change; left alone', { paths: prepared.hidden });
      deps.discard(prepared.hidden, 'unchanged');
    }
    const plan = (work.plan = prepared.plan);
    if (plan.dropped.length) deps.discard(plan.dropped, 'vanished');
    if (plan.steps.length === 0) return { outcome: 'empty' };
    try {
      if (via === 'plumbing') {
        const head = prepared.head!;
        let message = plan.message; // then the one the commit got: its subject with a body, or messageCommand's
        const messageFor = async (tree: string, subject: string) => (message = await deps.message(head.head, tree, subject));
        const landed = await index.commit(plan, head, prepared.scanned, (p, r) => deps.hold(p, r), messageFor, (changed) => deps.note?.(changed));
        if (!landed) return { outcome: 'unchanged', plan, via };
        const changed = new Set(landed.changed ?? plan.paths);
        const same = plan.paths.filter((p) => !changed.has(p));
        return { outcome: 'landed', plan: { ...plan, paths: [...changed], message }, same, via, landed, oldEntries: head.entries };
      }
      const add = plan.steps.length > 1 ? plan.steps.slice(0, -1) : [];
      const commit = plan.steps.slice(-1);
      faultPoint('before-add');
      if (add.length) await git.run(add);
      faultPoint('after-add');
      faultPoint('during-commit');
      await git.run(commit);
      faultPoint('after-ref-update');
      return { outcome: 'committed', plan, via };
    } catch (e) {
      const failure = {
        headMoved: e instanceof HeadMoved,
        privateIndex: e instanceof PrivateIndexError,
        message: (e as Error)?.message ?? String(e),
        info: failureInfo(e),
      };
      const next = nextMove(fallback, failure, plan.paths);
      switch (next.move) {
        case 'replan':
          logger.log('info', 'commit replanned', { reason: next.reason });
          continue;
        case 'porcelain':
          if (next.cause === 'private-index') {
            logger.log('warn', 'index plumbing failed (the private index cannot be built); committing this batch with git commit --only', {
              error: next.error,
              index: index.indexFile,
            });
          } else {
            // Something plumbing did not expect (a file turned into a directory, an odd index):
            // `git commit --only` knows every case git knows. The private index is rebuilt next time.
            logger.log('warn', 'index plumbing failed; committing this batch with git commit --only', { error: next.error });
          }
          continue;
        case 'unchanged':
          return { outcome: 'unchanged', plan, via };
        case 'leave-out': {
          for (const o of next.paths) deps.hold(o.path, o.reason);
          const gone = new Set(next.paths.map((o) => o.path));
          work.paths = work.paths.filter((p) => !gone.has(p));
          continue;
        }
        case 'give-up':
          throw e;
      }
    }
  }
}
