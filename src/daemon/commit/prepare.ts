/**
 * Before a batch is committed: each path's facts (present, tracked), the secret guard, files git
 * ignores, and the mass-deletion guard. What is held back is reported through `hold`; the rest
 * becomes the commit plan (core/commit/plan.ts).
 */
import { join } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import { planCommit, type CommitPlan, type PathFacts } from '../../core/commit/plan.js';
import { scanForSecrets } from '../../core/commit/secrets.js';
import { massDeletion } from '../../core/commit/guards.js';
import { worktreeCountsStep, parseWorktreeCounts } from '../../core/commit/plumbing.js';
import type { Fs, Git } from '../../ports/index.js';
import type { HeadFacts } from './private-index.js';

/** Files larger than this are judged by name only: the secret scan reads only the head anyway. */
const SCAN_READ_MAX = 16 * 1024 * 1024;

export type Via = 'plumbing' | 'porcelain';

export interface PrepareDeps {
  git: Git;
  fs: Fs;
  config: Config;
  root: string;
  /** The empty hooks directory used as core.hooksPath when hooks are off. */
  hooksDir: string;
  /** HEAD and its entries for the paths (plumbing only). */
  readHead(paths: readonly string[]): Promise<HeadFacts>;
  /** Holds `path` back with a reason (until it changes again). */
  hold(path: string, reason: string): void;
}

/** Stats, secret guard and mass-deletion guard for `paths`; returns the plan for what is left. */
export async function prepareBatch(deps: PrepareDeps, paths: string[], via: Via): Promise<{ plan: CommitPlan; head: HeadFacts | null }> {
  const { git, fs, config, root, hold } = deps;
  // Plumbing commits HEAD + these paths, so "tracked" means "in HEAD"; porcelain's `commit --only`
  // needs the path in the person's index.
  const [stats, headFacts] = await Promise.all([
    Promise.all(paths.map((p) => fs.stat(join(root, p)))),
    via === 'plumbing' ? deps.readHead(paths) : Promise.resolve(null),
  ]);
  const tracked = headFacts ? new Set(headFacts.entries.keys()) : await git.tracked(paths);
  const facts = new Map<string, PathFacts>();
  const candidates: string[] = [];
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    const st = stats[i]!;
    const isTracked = tracked.has(p);
    if (st?.isSpecial) {
      hold(p, 'not a regular file (FIFO, socket or device): skipped');
      continue;
    }
    // An untracked directory as a pathspec would commit everything under it: not ours to take.
    const present = st !== null && (!st.isDirectory || isTracked);
    if (present && config.secrets.enabled) {
      // A symlink is committed as a link and never followed, so only its name is judged.
      const content = st.isFile && st.size <= SCAN_READ_MAX ? await fs.readFile(join(root, p)).catch(() => null) : null;
      const why = scanForSecrets(p, content, config.secrets.allow);
      if (why) {
        hold(p, why);
        continue;
      }
    }
    facts.set(p, { tracked: isTracked, present });
    candidates.push(p);
  }
  if (via === 'plumbing') {
    // `git add` refuses a path .gitignore matches; update-index does not ask, so ask here.
    const fresh = candidates.filter((p) => !facts.get(p)!.tracked && facts.get(p)!.present);
    const ignored = fresh.length ? await git.ignored(fresh) : new Set<string>();
    for (const p of ignored) hold(p, 'ignored by git (.gitignore changed after it was accepted)');
    if (ignored.size) candidates.splice(0, candidates.length, ...candidates.filter((p) => !ignored.has(p)));
  }
  const planFor = (ps: string[]) =>
    planCommit({ paths: ps, facts, messageTemplate: config.commit.message, hooks: config.commit.hooks, hooksDir: deps.hooksDir });
  let plan = planFor(candidates);
  if (plan.deletions.length) {
    // Judge the work tree, not the batch: an `rm -rf` can arrive as several small batches.
    const counts = parseWorktreeCounts((await git.run([worktreeCountsStep()])).map((r) => r.stdout).join(''));
    const why = massDeletion({ deletions: plan.deletions.length, trackedCount: counts.tracked, missing: counts.missing, rootExists: true });
    if (why) {
      for (const p of plan.deletions) hold(p, why);
      const keep = new Set(plan.deletions);
      plan = planFor(candidates.filter((p) => !keep.has(p)));
    }
  }
  return { plan, head: headFacts };
}
