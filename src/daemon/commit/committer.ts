/**
 * The single-flight committer (SPEC "Committer", STYLE.md habit 8): one commit at a time; paths
 * that arrive meanwhile form the next batch; one commit per batch, holding only those paths.
 *
 * All timing policy is pure (core/commit/*); this shell owns one timer at a time on the injected
 * scheduler and never sleeps. Nothing submitted is dropped: a batch that cannot be committed now
 * (paused, rate limited, blocked, failing) goes back to the queue with its first-seen time.
 */
import { join } from 'node:path';
import type { Clock, Fs, Git, Logger, Scheduler } from '../../ports/index.js';
import type { Config } from '../../core/config/defaults.js';
import { planCommit, type CommitPlan, type PathFacts } from '../../core/commit/plan.js';
import { scanForSecrets } from '../../core/commit/secrets.js';
import { massDeletion, blockedSentence, waitingSentence } from '../../core/commit/guards.js';
import {
  initialRateLimit,
  nextAllowedAt,
  consume,
  tokensAt,
  commitsToday,
  type RateLimitState,
} from '../../core/commit/rate-limit.js';
import {
  classifyGitFailure,
  offendingPaths,
  backoffMs,
  breakerAt,
  breakerFailure,
  breakerSuccess,
  CLOSED,
  type BreakerState,
  type FailureInfo,
} from '../../core/commit/retry-policy.js';
import {
  headStep,
  parseHead,
  lsTreeSteps,
  parseLsTree,
  lsFilesSteps,
  parseLsFiles,
  readTreeStep,
  updatePrivateStep,
  writeTreeStep,
  commitTreeStep,
  updateRefStep,
  realIndexUpdate,
  indexInfoStep,
  formatJournal,
  parseJournal,
  worktreeCountsStep,
  parseWorktreeCounts,
  EMPTY_TREES,
  sharedIndexStep,
  type CommitJournal,
  type Entry,
} from '../../core/commit/plumbing.js';
import type { GitStep } from '../../ports/index.js';
import { faultPoint } from '../../util/fault.js';
import { chmod } from 'node:fs/promises';

export interface CommitterDeps {
  git: Git;
  fs: Fs;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  config: Config;
  root: string;
  stateDir: string;
  /** True while the pause signal is up: due paths wait. */
  isPaused(): Promise<boolean>;
  /** Called after each successful commit. */
  onCommitted?(c: { sha: string; paths: string[]; atMs: number; message: string }): void;
  /**
   * Called for submitted paths that needed no commit: gone from disk and never tracked (an
   * editor's temp file), or identical to HEAD. They leave the queue; nothing was lost.
   */
  onDiscarded?(c: { paths: string[]; reason: 'vanished' | 'unchanged' }): void;
  random?: () => number; // jitter; default Math.random
  /**
   * How a commit is made. `plumbing` (the default): a private index kept equal to HEAD, then
   * write-tree, commit-tree and a compare-and-swap update-ref (core/commit/plumbing.ts).
   * `porcelain`: `git commit --only`; always used when `commit.hooks` is true, because plumbing
   * runs no hooks, and as the fallback when plumbing fails unexpectedly.
   */
  strategy?: 'plumbing' | 'porcelain';
}

export interface CommitterStatus {
  queued: string[];
  inFlight: string[];
  waiting: string | null;
  rateLimit: { maxPerHour: number; maxPerDay: number; hourTokens: number; today: number; nextAt: number | null };
  breaker: { open: boolean; until: number | null; failures: number; lastError: string | null };
  held: { path: string; reason: string }[];
  lastCommits: { sha: string; at: number; paths: string[]; message: string }[];
}

export interface Committer {
  /** Settled, accepted paths; they join the next batch. */
  submit(paths: string[]): void;
  /** Re-check now (pause dropped, HEAD state changed). */
  kick(): void;
  /** Resolves when nothing is in flight and nothing is runnable right now. */
  onIdle(): Promise<void>;
  status(): CommitterStatus;
  /** Finishes the batch in flight, then stops; later submits are kept queued. */
  close(): Promise<void>;
}

/**
 * How often a wait on an outside condition (pause, merge in progress, index.lock, low disk) is
 * re-checked. Only while something is queued: an idle committer holds no timer at all.
 */
export const RECHECK_MS = 2_000;
/** Files larger than this are judged by name only: the secret scan reads only the head anyway. */
const SCAN_READ_MAX = 16 * 1024 * 1024;
const LAST_COMMITS = 10;

/** The shape of a failed git call (the adapter's GitError); duck-typed so daemon never imports adapters. */
function failureInfo(e: unknown): FailureInfo {
  if (e && typeof e === 'object' && 'stderr' in e && 'timedOut' in e) {
    const g = e as { code?: number | null; stderr: string; timedOut: boolean; stdout?: string };
    return { code: g.code ?? null, stderr: String(g.stderr), timedOut: Boolean(g.timedOut), stdout: g.stdout ? String(g.stdout) : '' };
  }
  const err = e as NodeJS.ErrnoException;
  return { code: null, stderr: `${err?.code ? err.code + ': ' : ''}${err?.message ?? String(e)}`, timedOut: false };
}

export function createCommitter(deps: CommitterDeps): Committer {
  const { git, fs, clock, scheduler, logger, config, root, stateDir } = deps;
  const random = deps.random ?? Math.random;
  const hooksDir = join(stateDir, 'hooks-empty');
  const indexFile = join(stateDir, 'index');
  const journalFile = join(stateDir, 'commit-journal.json');
  const strategy = config.commit.hooks ? 'porcelain' : (deps.strategy ?? 'plumbing');

  /** Queued paths → first time they were submitted (kept across failed attempts). */
  const pending = new Map<string, number>();
  let inFlight: string[] = [];
  const held = new Map<string, string>();
  const lastCommits: CommitterStatus['lastCommits'] = [];
  let rate: RateLimitState = initialRateLimit(config.rateLimit, clock.now());
  let breaker: BreakerState = CLOSED;
  let failures = 0;
  let retryAt: number | null = null;
  let waiting: string | null = null;

  let timer: unknown = null;
  let running = false;
  let again = false;
  let closed = false;
  let loopDone: Promise<void> = Promise.resolve();
  let idleWaiters: (() => void)[] = [];

  function disarm(): void {
    if (timer !== null) scheduler.clearTimeout(timer);
    timer = null;
  }

  function arm(at: number): void {
    disarm();
    if (closed) return;
    timer = scheduler.setTimeout(() => {
      timer = null;
      kick();
    }, Math.max(0, at - clock.now()));
  }

  function requeue(paths: readonly [string, number][]): void {
    for (const [p, firstAt] of paths) {
      const cur = pending.get(p);
      pending.set(p, cur === undefined ? firstAt : Math.min(cur, firstAt));
    }
  }

  function kick(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    loopDone = (async () => {
      try {
        do {
          again = false;
          await step();
        } while (again && !closed);
      } catch (e) {
        // step() handles its own failures; this is a bug, and it must not wedge the committer.
        logger.log('error', 'committer step failed unexpectedly', { error: (e as Error).message });
      } finally {
        running = false;
        const ws = idleWaiters;
        idleWaiters = [];
        for (const w of ws) w();
      }
    })();
  }

  function wait(sentence: string, at: number): void {
    if (waiting !== sentence) logger.log('info', 'commit waiting', { waiting: sentence, queued: pending.size });
    waiting = sentence;
    arm(at);
  }

  /** One pass: either find a reason to wait (and arm the timer for it) or commit one batch. */
  async function step(): Promise<void> {
    disarm();
    if (journal !== null && !(await settleJournal())) {
      // The last commit landed but the person's index could not be updated yet (their git holds
      // index.lock): no new commit until it is, or its journal would be lost.
      return wait(waitingSentence.indexSync(), clock.now() + RECHECK_MS);
    }
    if (pending.size === 0) {
      waiting = null;
      return;
    }
    const now = clock.now();
    try {
      if (await deps.isPaused().catch(() => false)) return wait(waitingSentence.paused(), now + RECHECK_MS);
      const b = breakerAt(breaker, now);
      if (b.phase === 'open' && b.until !== null) return wait(waitingSentence.breakerOpen(b.until, b.lastError), b.until);
      if (retryAt !== null && now < retryAt) return wait(waitingSentence.retrying(retryAt, breaker.lastError), retryAt);
      const block = await git.blocked();
      if (block) return wait(blockedSentence(block), now + RECHECK_MS);
      if (!(await fs.stat(root))) return wait(waitingSentence.rootGone(root), now + RECHECK_MS);
      const lock = join(git.gitDir, 'index.lock');
      // Someone else's git is working. Never delete their lock: wait for it to go.
      if (await fs.stat(lock)) return wait(waitingSentence.indexLock(lock), now + RECHECK_MS);
      const free = await fs.freeBytes(root).catch(() => Number.POSITIVE_INFINITY);
      if (free < config.health.minFreeBytes) return wait(waitingSentence.lowDisk(free, config.health.minFreeBytes), now + RECHECK_MS);
      const next = nextAllowedAt(rate, now);
      if (next > now) return wait(waitingSentence.rateLimited(next), next);
    } catch (e) {
      return failed(e, []);
    }
    waiting = null;
    await commitBatch();
  }

  /** What HEAD was when a batch was prepared, and its entries for the batch's paths (plumbing only). */
  interface HeadFacts {
    head: { commit: string; tree: string } | null;
    entries: Map<string, Entry>;
  }

  async function out(steps: GitStep[]): Promise<string> {
    if (steps.length === 0) return '';
    return (await git.run(steps)).map((r) => r.stdout).join('');
  }

  /**
   * HEAD's commit read from the ref file (a loose ref written by rename, so never torn), or null to
   * ask git (packed refs, reftable, a linked worktree, an unborn branch). Saves a spawn per commit.
   */
  async function headFromFiles(): Promise<string | null> {
    const text = await fs.readFile(join(git.gitDir, 'HEAD')).then((b) => b.toString('utf8'), () => '');
    const ref = /^ref: (refs\/heads\/[^\n]+)\n?$/.exec(text)?.[1];
    if (!ref || ref.split('/').includes('..')) return null;
    const sha = await fs.readFile(join(git.gitDir, ref)).then((b) => b.toString('utf8').trim(), () => '');
    return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(sha) ? sha : null;
  }

  async function readHead(paths: readonly string[]): Promise<HeadFacts> {
    let head: HeadFacts['head'];
    const fromFiles = await headFromFiles();
    if (fromFiles !== null && fromFiles === privateHead && privateTree !== null) {
      head = { commit: fromFiles, tree: privateTree };
    } else {
      try {
        head = parseHead(await out([headStep()]));
      } catch (e) {
        // An unborn branch has no HEAD to parse; anything else is a real failure.
        if ((await git.headSha()) !== null) throw e;
        head = null;
      }
    }
    const entries = head ? parseLsTree(await out(lsTreeSteps(head.commit, paths)), new Set(paths)) : new Map<string, Entry>();
    return { head, entries };
  }

  /** Stats, secret guard and mass-deletion guard for `paths`; returns the plan for what is left. */
  async function prepare(paths: string[], via: Via): Promise<{ plan: CommitPlan; head: HeadFacts | null }> {
    // Plumbing commits HEAD + these paths, so "tracked" means "in HEAD"; porcelain's `commit --only`
    // needs the path in the person's index.
    const [stats, headFacts] = await Promise.all([
      Promise.all(paths.map((p) => fs.stat(join(root, p)))),
      via === 'plumbing' ? readHead(paths) : Promise.resolve(null),
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
      planCommit({ paths: ps, facts, messageTemplate: config.commit.message, hooks: config.commit.hooks, hooksDir });
    let plan = planFor(candidates);
    if (plan.deletions.length) {
      // Judge the work tree, not the batch: an `rm -rf` can arrive as several small batches.
      const counts = parseWorktreeCounts(await out([worktreeCountsStep()]));
      const why = massDeletion({ deletions: plan.deletions.length, trackedCount: counts.tracked, missing: counts.missing, rootExists: true });
      if (why) {
        for (const p of plan.deletions) hold(p, why);
        const keep = new Set(plan.deletions);
        plan = planFor(candidates.filter((p) => !keep.has(p)));
      }
    }
    return { plan, head: headFacts };
  }

  function hold(path: string, reason: string): void {
    if (held.get(path) !== reason) logger.log('warn', 'held back', { path, reason });
    held.set(path, reason);
  }

  // ------------------------------------------------------------------ the private index path

  /** HEAD the private index equals; undefined when unknown (start, or a step failed half way). */
  let privateHead: string | null | undefined;
  /** The tree of `privateHead`, when known (it spares a rev-parse per commit). */
  let privateTree: string | null = null;
  /** The commit journal: undefined until read at start; null when there is none. */
  let journal: CommitJournal | null | undefined;

  /** Rebuilds the private index from `head`, and drops the shared index half it no longer uses. */
  async function rebuildPrivate(head: string | null, tree: string | null): Promise<void> {
    privateHead = undefined;
    const sharedOf = async (index: string | null) => (await out([sharedIndexStep(index)]).catch(() => '')).trim();
    const before = await sharedOf(indexFile);
    // Only this daemon (it holds daemon.lock) uses the private index: a lock left there belongs to
    // a git this process started and lost (a timeout's SIGKILL, a crash), never to the person.
    await fs.remove(`${indexFile}.lock`);
    try {
      await git.run([readTreeStep(indexFile, head)]);
    } catch (e) {
      throw new PrivateIndexError(failureInfo(e).stderr.trim().split('\n')[0] || String(e));
    }
    privateHead = head;
    privateTree = tree;
    await chmod(indexFile, 0o600).catch(() => undefined);
    if (before) {
      const [after, theirs] = await Promise.all([sharedOf(indexFile), sharedOf(null)]);
      if (before !== after && before !== theirs) await fs.remove(before).catch(() => undefined);
    }
  }

  /** Thrown when HEAD moved between reading it and the compare-and-swap: plan again from the new HEAD. */
  class HeadMoved extends Error {}
  /** The private index cannot be built: this batch goes through `git commit --only` instead. */
  class PrivateIndexError extends Error {}

  /**
   * One commit through the private index. Returns the new commit (HEAD now points at it and the
   * journal is written) or null when the tree equals HEAD's (nothing to commit).
   */
  async function commitPlumbing(plan: CommitPlan, facts: HeadFacts): Promise<CommitJournal | null> {
    const old = facts.head?.commit ?? null;
    if (privateHead !== old) await rebuildPrivate(old, facts.head?.tree ?? null);
    faultPoint('before-add');
    privateHead = undefined;
    await git.run([updatePrivateStep(indexFile, plan.paths)]);
    faultPoint('after-add');
    const tree = (await out([writeTreeStep(indexFile)])).trim();
    // git rewrites the index (update-index, then write-tree's cache-tree) with the umask's mode;
    // it lists the workspace's files, so it is kept 0600 like every state file.
    await chmod(indexFile, 0o600).catch(() => undefined);
    if (tree === facts.head?.tree || (!facts.head && EMPTY_TREES.has(tree))) {
      privateHead = old;
      privateTree = facts.head?.tree ?? null;
      return null;
    }
    const sha = (await out([commitTreeStep(tree, old, plan.message)])).trim();
    const j: CommitJournal = { version: 1, old, new: sha, paths: plan.paths };
    await fs.writeFileAtomic(journalFile, formatJournal(j));
    journal = j;
    faultPoint('during-commit');
    try {
      await git.run([updateRefStep(sha, old, plan.message.startsWith('winnow') ? plan.message : `winnow: ${plan.message}`)]);
    } catch (e) {
      const now = await git.headSha().catch(() => undefined);
      if (now !== sha) {
        await dropJournal();
        if (now !== undefined && now !== old) throw new HeadMoved(`HEAD moved from ${old ?? '(unborn)'} to ${now ?? '(unborn)'}`);
        throw e;
      }
      // The ref did move (the failure came after): carry on as committed.
    }
    privateHead = sha;
    privateTree = tree;
    faultPoint('after-ref-update');
    return j;
  }

  async function dropJournal(): Promise<void> {
    await fs.remove(journalFile);
    journal = null;
  }

  /**
   * Brings the person's index up to date with `j` for its paths, where it still holds the old HEAD
   * entry, so `git status` shows no staged reversal of winnow's commit. What they staged by hand stays.
   */
  async function syncRealIndex(j: CommitJournal, oldEntries?: Map<string, Entry>): Promise<void> {
    const want = new Set(j.paths);
    const [oldE, newE, realE] = await Promise.all([
      oldEntries ?? (j.old ? out(lsTreeSteps(j.old, j.paths)).then((o) => parseLsTree(o, want)) : new Map<string, Entry>()),
      out(lsTreeSteps(j.new, j.paths)).then((o) => parseLsTree(o, want)),
      out(lsFilesSteps(j.paths)).then((o) => parseLsFiles(o, want)),
    ]);
    const u = realIndexUpdate(j.paths, oldE, newE, realE);
    if (u.stdin) await git.run([indexInfoStep(u.stdin)]);
    if (u.kept.length) logger.log('info', 'index entries staged by hand left as they are', { paths: u.kept });
    await dropJournal();
  }

  /**
   * Settles a journal left by the last commit (at start: by a crash). HEAD at `new`: finish the
   * person's index. HEAD at `old`: the ref never moved; the paths are still pending upstream.
   * Returns false when the index update must be tried again later (someone holds index.lock).
   */
  async function settleJournal(): Promise<boolean> {
    if (journal === undefined) {
      const text = await fs.readFile(journalFile).then((b) => b.toString('utf8'), () => null);
      journal = text === null ? null : parseJournal(text);
      if (text !== null && journal === null) {
        logger.log('warn', 'commit journal unreadable; dropped', { file: journalFile });
        await fs.remove(journalFile);
      }
    }
    const j = journal;
    if (!j) return true;
    try {
      const head = await git.headSha();
      if (head === j.new) {
        await syncRealIndex(j);
        logger.log('info', 'commit journal: index brought up to date', { sha: j.new, paths: j.paths.length });
      } else {
        logger.log(head === j.old ? 'info' : 'warn', 'commit journal dropped', {
          sha: j.new,
          reason: head === j.old ? 'HEAD never moved to the new commit' : 'HEAD moved elsewhere since',
        });
        await dropJournal();
      }
      return true;
    } catch (e) {
      const info = failureInfo(e);
      logger.log('warn', 'commit journal: index update failed; will retry', { error: info.stderr.trim().split('\n')[0] ?? '' });
      return false;
    }
  }

  type Via = 'plumbing' | 'porcelain';

  async function commitBatch(): Promise<void> {
    const batch = [...pending.entries()];
    pending.clear();
    inFlight = batch.map(([p]) => p);
    let plan: CommitPlan | null = null;
    let via: Via = strategy;
    try {
      // Replan once for a vanished path, a few times without each path git refused by name, and
      // a few times when HEAD moved under a plumbing commit.
      let replans = 0;
      let refusals = 0;
      let moves = 0;
      let landed: CommitJournal | null = null;
      let oldEntries: Map<string, Entry> | undefined;
      for (;;) {
        const prepared = await prepare(inFlight, via);
        plan = prepared.plan;
        if (plan.dropped.length) deps.onDiscarded?.({ paths: plan.dropped, reason: 'vanished' });
        if (plan.steps.length === 0) {
          if (pending.size) again = true;
          return;
        }
        try {
          if (via === 'plumbing') {
            landed = await commitPlumbing(plan, prepared.head!);
            if (!landed) {
              deps.onDiscarded?.({ paths: plan.paths, reason: 'unchanged' });
              succeeded(null, plan, via);
              return;
            }
            oldEntries = prepared.head!.entries;
            break;
          }
          const add = plan.steps.length > 1 ? plan.steps.slice(0, -1) : [];
          const commit = plan.steps.slice(-1);
          faultPoint('before-add');
          if (add.length) await git.run(add);
          faultPoint('after-add');
          faultPoint('during-commit');
          await git.run(commit);
          faultPoint('after-ref-update');
          break;
        } catch (e) {
          if (e instanceof HeadMoved && moves++ < 3) {
            logger.log('info', 'commit replanned', { reason: e.message });
            continue;
          }
          if (e instanceof PrivateIndexError && via === 'plumbing') {
            logger.log('warn', 'index plumbing failed (the private index cannot be built); committing this batch with git commit --only', {
              error: e.message,
              index: indexFile,
            });
            via = 'porcelain';
            continue;
          }
          const info = failureInfo(e);
          const c = classifyGitFailure(info);
          if (c.action === 'noop') {
            deps.onDiscarded?.({ paths: plan.paths, reason: 'unchanged' });
            succeeded(null, plan, via);
            return;
          }
          const bad = offendingPaths(info.stderr).filter((o) => plan!.paths.includes(o.path));
          if (bad.length && refusals < 3) {
            refusals++;
            for (const o of bad) hold(o.path, o.reason);
            const gone = new Set(bad.map((o) => o.path));
            inFlight = inFlight.filter((p) => !gone.has(p));
            continue;
          }
          if (c.action === 'replan' && replans++ === 0) {
            logger.log('info', 'commit replanned', { reason: c.reason });
            continue;
          }
          if (via === 'plumbing' && c.action === 'abort') {
            // Something plumbing did not expect (a file turned into a directory, an odd index):
            // `git commit --only` knows every case git knows. The private index is rebuilt next time.
            logger.log('warn', 'index plumbing failed; committing this batch with git commit --only', {
              error: info.stderr.trim().split('\n')[0] ?? String(e),
            });
            via = 'porcelain';
            continue;
          }
          throw e;
        }
      }
      if (landed) {
        // The commit is in: bring the person's index up to date first, then record it, so that
        // nobody (status, a test, the person's `git status`) sees winnow's commit as a staged
        // reversal. A failure here (their git holds index.lock) does not undo the commit: the
        // journal stays and the next pass finishes it.
        try {
          await syncRealIndex(landed, oldEntries);
        } catch (e) {
          logger.log('warn', 'commit landed; index update deferred', { error: failureInfo(e).stderr.trim().split('\n')[0] ?? '' });
        }
        succeeded(landed.new, plan, via);
        return;
      }
      const sha = await git.headSha().catch(() => null);
      succeeded(sha ?? 'unknown', plan, via);
    } catch (e) {
      // Held paths wait for a new submit (a changed file), not for the retry.
      requeue(batch.filter(([p]) => !held.has(p)));
      failed(e, plan?.paths ?? inFlight);
    } finally {
      inFlight = [];
    }
  }

  function succeeded(sha: string | null, plan: CommitPlan, via: Via): void {
    breaker = breakerSuccess(breaker);
    failures = 0;
    retryAt = null;
    if (pending.size) again = true; // what arrived meanwhile is the catch-up batch
    if (sha === null) return;
    // The commit is in git; nothing has recorded it yet (log line, pending.json via onCommitted).
    faultPoint('before-state-write');
    const atMs = clock.now();
    rate = consume(rate, atMs);
    lastCommits.unshift({ sha, at: atMs, paths: plan.paths, message: plan.message });
    lastCommits.length = Math.min(lastCommits.length, LAST_COMMITS);
    logger.log('info', 'commit', { sha, paths: plan.paths, atMs, via });
    deps.onCommitted?.({ sha, paths: plan.paths, atMs, message: plan.message });
  }

  function failed(e: unknown, paths: string[]): void {
    const info = failureInfo(e);
    const c = classifyGitFailure(info);
    const now = clock.now();
    const detail = info.stderr.trim().split('\n')[0] ?? '';
    const lastError = c.kind === 'fatal' ? c.reason : `${c.reason}${detail ? `: ${detail}` : ''}`;
    breaker = breakerFailure(
      breaker,
      { attempts: config.retry.attempts, cooldownMs: config.retry.breakerCooldownMs },
      now,
      lastError,
      c.action === 'abort',
    );
    failures += 1;
    const fields: Record<string, unknown> = { paths, kind: c.kind, action: c.action, error: lastError, failures };
    if (breaker.phase === 'open' && breaker.until !== null) {
      retryAt = null;
      fields.breakerUntil = breaker.until;
      logger.log('warn', 'commit failed; breaker open', fields);
      waiting = waitingSentence.breakerOpen(breaker.until, lastError);
      arm(breaker.until);
      return;
    }
    retryAt = now + backoffMs(failures, config.retry, random());
    fields.retryAt = retryAt;
    logger.log('warn', 'commit failed; will retry', fields);
    waiting = waitingSentence.retrying(retryAt, lastError);
    arm(retryAt);
  }

  // At start, settle what a crash may have left half way (the commit journal).
  kick();

  return {
    submit(paths) {
      const now = clock.now();
      for (const p of paths) {
        if (!pending.has(p)) pending.set(p, now);
        // Submitted again means changed again: judge it afresh (a secret may have been removed).
        held.delete(p);
      }
      if (paths.length) kick();
    },
    kick,
    onIdle() {
      if (!running) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
    status(): CommitterStatus {
      const now = clock.now();
      const b = breakerAt(breaker, now);
      const next = nextAllowedAt(rate, now);
      const busy = pending.size > 0 || inFlight.length > 0;
      return {
        queued: [...pending.keys()],
        inFlight: [...inFlight],
        waiting: busy ? waiting : null,
        rateLimit: {
          maxPerHour: config.rateLimit.maxPerHour,
          maxPerDay: config.rateLimit.maxPerDay,
          hourTokens: Math.round(tokensAt(rate, now) * 100) / 100,
          today: commitsToday(rate, now),
          nextAt: next > now ? next : null,
        },
        breaker: {
          open: b.phase === 'open',
          until: b.phase === 'open' ? b.until : null,
          failures: b.failures,
          lastError: b.lastError,
        },
        held: [...held].map(([path, reason]) => ({ path, reason })),
        lastCommits: lastCommits.map((c) => ({ ...c, paths: [...c.paths] })),
      };
    },
    async close() {
      closed = true;
      disarm();
      await loopDone;
      disarm();
    },
  };
}
