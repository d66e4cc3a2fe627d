/**
 * Before a batch is committed: each path's facts (present, tracked), the secret guard, files git
 * ignores, and the mass-deletion guard. What is held back is reported through `hold`; the rest
 * becomes the commit plan (core/commit/plan.ts).
 */
import { realpath } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import type { Config } from '../../core/config/defaults.js';
import { planCommit, type CommitPlan, type PathFacts } from '../../core/commit/plan.js';
import { scanForSecrets } from '../../core/commit/secrets.js';
import { massDeletion } from '../../core/commit/guards.js';
import { personsPaths } from '../../core/commit/person.js';
import { refusedName } from '../../core/commit/names.js';
import { worktreeCountsStep, parseWorktreeCounts, lsFilesSteps, parseLsFiles, lsTreeSteps, parseLsTree, type Entry } from '../../core/commit/plumbing.js';
import type { Fs, Git } from '../../ports/index.js';
import type { HeadFacts } from './private-index.js';
import { largeFileHolds } from '../history/commit-extras.js';
import { scanFile, type Scanned } from './scan.js';

export type { Via } from '../../core/commit/fallback.js';
import type { Via } from '../../core/commit/fallback.js';

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

/** What prepareBatch found besides the plan. */
export interface Prepared {
  plan: CommitPlan;
  head: HeadFacts | null;
  /** Regular files scanned for secrets, with the blob ids of the bytes scanned (plumbing keeps exactly those). */
  scanned: Map<string, Scanned>;
  /** Staged by hand with content different from HEAD: the person's, left out and listed. */
  staged: { path: string; reason: string }[];
  /** Skip-worktree or assume-unchanged entries: nobody's change, nothing to commit. */
  hidden: string[];
}

/** Stats, secret guard and mass-deletion guard for `paths`; returns the plan for what is left. */
export async function prepareBatch(deps: PrepareDeps, paths: string[], via: Via): Promise<Prepared> {
  const { git, fs, config, root, hold } = deps;
  // Plumbing commits HEAD + these paths, so "tracked" means "in HEAD"; porcelain's `commit --only`
  // needs the path in the person's index.
  const out = async (steps: ReturnType<typeof lsFilesSteps>) => (steps.length ? (await git.run(steps)).map((r) => r.stdout).join('') : '');
  const want = new Set(paths);
  const [stats, headFacts, index] = await Promise.all([
    Promise.all(paths.map((p) => fs.stat(join(root, p)))),
    via === 'plumbing' ? deps.readHead(paths) : Promise.resolve(null),
    git.indexEntries ? git.indexEntries(paths) : out(lsFilesSteps(paths)).then((o) => parseLsFiles(o, want)),
  ]);
  const headEntries: Map<string, Entry> = headFacts
    ? headFacts.entries
    : (await git.headSha())
      ? parseLsTree(await out(lsTreeSteps('HEAD', paths)), want)
      : new Map();
  // The person's own git work comes first: what they staged is theirs; what sparse checkout or
  // assume-unchanged hides is nobody's change.
  const person = personsPaths(paths, headEntries, index);
  const skip = new Set([...person.staged.map((s) => s.path), ...person.hidden]);
  const tracked = headFacts ? new Set(headFacts.entries.keys()) : await git.tracked(paths);
  const nested = await nestedRepos(fs, root, paths.filter((p) => !skip.has(p)));
  const facts = new Map<string, PathFacts>();
  const scanned = new Map<string, Scanned>();
  const candidates: string[] = [];
  /** Present regular files over commit.maxFileBytes: held unless git-lfs takes them. */
  const large = new Map<string, number>();
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    if (skip.has(p)) continue;
    const st = stats[i]!;
    const isTracked = tracked.has(p);
    const refused = refusedName(p);
    if (refused) {
      hold(p, refused);
      continue;
    }
    const repo = nested.get(p);
    if (repo !== undefined) {
      hold(p, `inside the nested git repository ${repo}/ (it has its own .git): its files are that repository's, never committed into this one`);
      continue;
    }
    if (st?.isSpecial) {
      hold(p, 'not a regular file (FIFO, socket or device): skipped');
      continue;
    }
    // Judged as it is now, not as it was when accepted: a file replaced by a link out of the tree.
    if (st?.isSymlink) {
      const target = await realpath(join(root, p)).catch(() => null);
      const rel = target === null ? '' : relative(root, target);
      if (target !== null && (rel.startsWith('..') || isAbsolute(rel))) {
        hold(p, `symlink pointing outside the workspace (${target}): never followed or committed`);
        continue;
      }
    }
    // An untracked directory as a pathspec would commit everything under it: not ours to take.
    const present = st !== null && (!st.isDirectory || isTracked);
    if (present && config.secrets.enabled) {
      // A symlink is committed as a link and never followed, so only its name is judged.
      if (st.isFile) {
        const r = await scanFile(fs, join(root, p), p, st, config.secrets.allow);
        if (r && 'held' in r) {
          hold(p, r.held);
          continue;
        }
        if (r) scanned.set(p, r.scanned);
      } else {
        const why = scanForSecrets(p, null, config.secrets.allow);
        if (why) {
          hold(p, why);
          continue;
        }
      }
    }
    facts.set(p, { tracked: isTracked, present });
    candidates.push(p);
    if (present && st.isFile && st.size > config.commit.maxFileBytes) large.set(p, st.size);
  }
  if (large.size) {
    const holds = await largeFileHolds(git, config, large);
    for (const [p, why] of holds) hold(p, why);
    if (holds.size) candidates.splice(0, candidates.length, ...candidates.filter((p) => !holds.has(p)));
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
  return { plan, head: headFacts, scanned, staged: person.staged, hidden: person.hidden };
}

/**
 * Of `paths`, those inside a directory that holds a `.git` (file or directory) now: a nested
 * repository, perhaps made a moment ago with `git init`. Judged at commit time, with no cache: the
 * classifier's answer may be older than the `git init` (the `.git` is never watched), and the
 * parent's `update-index` would take the file. One lstat per distinct directory.
 */
async function nestedRepos(fs: Fs, root: string, paths: readonly string[]): Promise<Map<string, string>> {
  const holds = new Map<string, Promise<boolean>>();
  const holdsGit = (dir: string) => {
    let h = holds.get(dir);
    if (!h) holds.set(dir, (h = fs.stat(join(root, dir, '.git')).then((st) => st !== null, () => false)));
    return h;
  };
  const out = new Map<string, string>();
  await Promise.all(
    paths.map(async (p) => {
      for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
        const dir = p.slice(0, i);
        if (await holdsGit(dir)) {
          out.set(p, dir);
          return;
        }
      }
    }),
  );
  return out;
}
