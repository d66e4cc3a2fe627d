/**
 * The single-flight committer (SPEC "Committer", STYLE.md habit 8): one commit at a time; paths
 * that arrive meanwhile form the next batch; one commit per batch, holding only those paths.
 *
 * All timing policy is pure (core/commit/*); this shell owns one timer at a time on the injected
 * scheduler and never sleeps. Nothing submitted is dropped: a batch that cannot be committed now
 * (paused, rate limited, blocked, failing) goes back to the queue with its first-seen time.
 *
 * prepare.ts judges a batch (secrets, ignored, mass deletion); private-index.ts commits it with
 * plumbing; `git commit --only` (porcelain) runs with hooks or as the fallback.
 */
import { join } from 'node:path';
import type { Clock, Fs, Git, Logger, MessageCommand, Scheduler } from '../../ports/index.js';
import type { Decision } from '../../core/decision.js';
import { commitMessage, writeCommitNote } from '../history/commit-extras.js';
import type { Config } from '../../core/config/defaults.js';
import type { CommitPlan } from '../../core/commit/plan.js';
import { blockedSentence, waitingSentence } from '../../core/commit/guards.js';
import { nextAllowedAt, consume, tokensAt, commitsToday, restoreRateLimit, saveRateLimit, RATE_LIMIT_FILE, type RateLimitState } from '../../core/commit/rate-limit.js';
import { classifyCommitFailure, offendingPaths } from '../../core/commit/retry-policy.js';
import { breakerFailure, breakerOpen, breakerSuccess, CLOSED, type BreakerState } from '../../core/retry.js';
import type { CommitJournal, Entry } from '../../core/commit/plumbing.js';
import { faultPoint } from '../../util/fault.js';
import { failureInfo } from './failure.js';
import { prepareBatch, type Via } from './prepare.js';
import { HeadMoved, PrivateIndex, PrivateIndexError } from './private-index.js';

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
  /**
   * Called each time a pass ends with nothing in flight (after `inFlight` is cleared), so a
   * caller waiting for the whole pipeline to be idle hears that the committer is.
   */
  onPassEnd?(): void;
  random?: () => number; // jitter; default Math.random
  /**
   * How a commit is made. `plumbing` (the default): a private index kept equal to HEAD, then
   * write-tree, commit-tree and a compare-and-swap update-ref (core/commit/plumbing.ts).
   * `porcelain`: `git commit --only`; always used when `commit.hooks` is true, because plumbing
   * runs no hooks, and as the fallback when plumbing fails unexpectedly.
   */
  strategy?: 'plumbing' | 'porcelain';
  /** Runs `commit.messageCommand`; without it the template (and body) is always used. */
  messageCommand?: MessageCommand;
  /** The decision that accepted `path` (its evidence goes into the commit's note). */
  decisionFor?(path: string): (Decision & { at?: number }) | undefined;
  /**
   * A git command of the person's running in this repository (a `git commit` whose editor or
   * pre-commit hook is open holds no index.lock, and dies if HEAD moves under it), or null.
   */
  personGit?(): Promise<{ pid: number; command: string } | null>;
  /** The rate limit's counters saved before a restart (`rate-limit.json` as parsed), if any. */
  savedRateLimit?: unknown;
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
const LAST_COMMITS = 10;
export { RATE_LIMIT_FILE } from '../../core/commit/rate-limit.js';

export function createCommitter(deps: CommitterDeps): Committer {
  const c = new SingleFlightCommitter(deps);
  // At start, settle what a crash may have left half way (the commit journal).
  c.kick();
  return {
    submit: (paths) => c.submit(paths),
    kick: () => c.kick(),
    onIdle: () => c.onIdle(),
    status: () => c.status(),
    close: () => c.close(),
  };
}

class SingleFlightCommitter {
  private readonly random: () => number;
  private readonly hooksDir: string;
  private readonly strategy: Via;
  private readonly index: PrivateIndex;

  /** Queued paths → first time they were submitted (kept across failed attempts). */
  private readonly pending = new Map<string, number>();
  private inFlight: string[] = [];
  private readonly held = new Map<string, string>();
  /** Paths the person staged by hand (content different from HEAD): theirs until their index matches HEAD again. */
  private readonly staged = new Map<string, string>();
  /** The person's index file when `staged` was last looked at (ino:size:mtime), so an unchanged index costs no git call. */
  private stagedIndexKey = '';
  private readonly lastCommits: CommitterStatus['lastCommits'] = [];
  private rate: RateLimitState;
  /** Saves of the counters, in order; close() waits for the last. */
  private rateSaved: Promise<void> = Promise.resolve();
  /** Consecutive failures, the next attempt's time and the breaker (core/retry.ts). */
  private breaker: BreakerState = CLOSED;
  private waiting: string | null = null;

  private timer: unknown = null;
  private running = false;
  private again = false;
  private closed = false;
  private loopDone: Promise<void> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: CommitterDeps) {
    this.random = deps.random ?? Math.random;
    this.hooksDir = join(deps.stateDir, 'hooks-empty');
    this.strategy = deps.config.commit.hooks ? 'porcelain' : (deps.strategy ?? 'plumbing');
    this.index = new PrivateIndex({ git: deps.git, fs: deps.fs, logger: deps.logger, stateDir: deps.stateDir });
    // A restart does not reset the rate limit (issue 11 case 15): a crash loop stays within maxPerDay.
    this.rate = restoreRateLimit(deps.config.rateLimit, deps.savedRateLimit ?? null, deps.clock.now());
  }

  private saveRate(): void {
    const { fs, stateDir, logger } = this.deps;
    const text = JSON.stringify(saveRateLimit(this.rate)) + '\n';
    this.rateSaved = this.rateSaved.then(() =>
      fs.writeFileAtomic(join(stateDir, RATE_LIMIT_FILE), text).catch((e: Error) => logger.log('warn', 'rate limit counters not saved', { error: e.message })),
    );
  }

  submit(paths: string[]): void {
    const now = this.deps.clock.now();
    for (const p of paths) {
      if (!this.pending.has(p)) this.pending.set(p, now);
      // Submitted again means changed again: judge it afresh (a secret may have been removed).
      this.held.delete(p);
      this.staged.delete(p);
    }
    if (paths.length) this.kick();
  }

  onIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    await this.loopDone;
    this.disarm();
    await this.rateSaved;
  }

  status(): CommitterStatus {
    const { config, clock } = this.deps;
    const now = clock.now();
    const b = this.breaker;
    const open = breakerOpen(b, now);
    const next = nextAllowedAt(this.rate, now);
    const busy = this.pending.size > 0 || this.inFlight.length > 0;
    return {
      queued: [...this.pending.keys()],
      inFlight: [...this.inFlight],
      waiting: busy ? this.waiting : null,
      rateLimit: {
        maxPerHour: config.rateLimit.maxPerHour,
        maxPerDay: config.rateLimit.maxPerDay,
        hourTokens: Math.round(tokensAt(this.rate, now) * 100) / 100,
        today: commitsToday(this.rate, now),
        nextAt: next > now ? next : null,
      },
      breaker: {
        open,
        until: open ? b.openUntil : null,
        failures: b.failures,
        lastError: b.lastError ?? null,
      },
      held: [...this.held, ...this.staged].map(([path, reason]) => ({ path, reason })),
      lastCommits: this.lastCommits.map((c) => ({ ...c, paths: [...c.paths] })),
    };
  }

  private disarm(): void {
    if (this.timer !== null) this.deps.scheduler.clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(at: number): void {
    this.disarm();
    if (this.closed) return;
    this.timer = this.deps.scheduler.setTimeout(() => {
      this.timer = null;
      this.kick();
    }, Math.max(0, at - this.deps.clock.now()));
  }

  private requeue(paths: readonly [string, number][]): void {
    for (const [p, firstAt] of paths) {
      const cur = this.pending.get(p);
      this.pending.set(p, cur === undefined ? firstAt : Math.min(cur, firstAt));
    }
  }

  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.loopDone = (async () => {
      try {
        do {
          this.again = false;
          await this.step();
        } while (this.again && !this.closed);
        // Paths staged by hand wait for the person's index to change, and no event says when: a
        // pass that ends with them (after a commit, or a batch that was all theirs) looks again.
        if (!this.closed && this.timer === null && this.pending.size === 0 && this.staged.size) this.arm(this.deps.clock.now() + RECHECK_MS);
      } catch (e) {
        // step() handles its own failures; this is a bug, and it must not wedge the committer.
        this.deps.logger.log('error', 'committer step failed unexpectedly', { error: (e as Error).message });
      } finally {
        this.running = false;
        const ws = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of ws) w();
        this.deps.onPassEnd?.();
      }
    })();
  }

  private wait(sentence: string, at: number): void {
    if (this.waiting !== sentence) this.deps.logger.log('info', 'commit waiting', { waiting: sentence, queued: this.pending.size });
    this.waiting = sentence;
    this.arm(at);
  }

  /** One pass: either find a reason to wait (and arm the timer for it) or commit one batch. */
  private async step(): Promise<void> {
    const { clock } = this.deps;
    this.disarm();
    if (this.index.journalPending() && !(await this.index.settleJournal())) {
      // The last commit landed but the person's index could not be updated yet (their git holds
      // index.lock): no new commit until it is, or its journal would be lost.
      return this.wait(waitingSentence.indexSync(), clock.now() + RECHECK_MS);
    }
    if (this.pending.size === 0 && this.staged.size) await this.recheckStaged();
    if (this.pending.size === 0) {
      this.waiting = null;
      // Staged paths are looked at again when the person's index changes (they commit, or unstage).
      if (this.staged.size) this.arm(clock.now() + RECHECK_MS);
      return;
    }
    const now = clock.now();
    try {
      const why = await this.reasonToWait(now);
      if (why) return this.wait(why.sentence, why.until);
    } catch (e) {
      return this.failed(e, []);
    }
    this.waiting = null;
    await this.commitBatch();
    // A batch that left paths to the person (staged by hand) and committed the rest ends the pass
    // with nothing pending: their index is looked at again on the timer, as after an idle pass.
    if (this.pending.size === 0 && this.staged.size && this.timer === null) this.arm(clock.now() + RECHECK_MS);
  }

  /** Why due paths must wait now, and until when to look again; null when a commit may run. */
  private async reasonToWait(now: number): Promise<{ sentence: string; until: number } | null> {
    const { git, fs, config, root } = this.deps;
    if (await this.deps.isPaused().catch(() => false)) return { sentence: waitingSentence.paused(), until: now + RECHECK_MS };
    const b = this.breaker;
    if (breakerOpen(b, now)) return { sentence: waitingSentence.breakerOpen(b.openUntil!, b.lastError ?? null), until: b.openUntil! };
    if (b.retryAt !== null && now < b.retryAt) {
      return { sentence: waitingSentence.retrying(b.retryAt, b.lastError ?? null), until: b.retryAt };
    }
    const block = await git.blocked();
    if (block) return { sentence: blockedSentence(block), until: now + RECHECK_MS };
    if (!(await fs.stat(root))) return { sentence: waitingSentence.rootGone(root), until: now + RECHECK_MS };
    const lock = join(git.gitDir, 'index.lock');
    // Someone else's git is working. Never delete their lock: wait for it to go.
    if (await fs.stat(lock)) return { sentence: waitingSentence.indexLock(lock), until: now + RECHECK_MS };
    const theirs = await this.deps.personGit?.().catch(() => null);
    if (theirs) return { sentence: waitingSentence.personGit(theirs.pid, theirs.command), until: now + RECHECK_MS };
    const free = await fs.freeBytes(root).catch(() => Number.POSITIVE_INFINITY);
    if (free < config.health.minFreeBytes) return { sentence: waitingSentence.lowDisk(free, config.health.minFreeBytes), until: now + RECHECK_MS };
    const next = nextAllowedAt(this.rate, now);
    if (next > now) return { sentence: waitingSentence.rateLimited(next), until: next };
    return null;
  }

  /**
   * Staged paths whose index entry is HEAD's again (the person committed them, or unstaged them)
   * go back to the queue: what is left in the work tree is winnow's to commit.
   */
  private async recheckStaged(): Promise<void> {
    const { fs, git } = this.deps;
    const st = await fs.stat(join(git.gitDir, 'index')).catch(() => null);
    const key = st ? `${st.size}:${st.mtimeMs}` : 'none';
    if (key === this.stagedIndexKey) return;
    this.stagedIndexKey = key;
    const paths = [...this.staged.keys()];
    try {
      const { staged } = await this.prepare(paths, 'porcelain', true);
      const still = new Set(staged.map((s) => s.path));
      const back = paths.filter((p) => !still.has(p));
      for (const p of back) this.staged.delete(p);
      if (back.length) {
        this.deps.logger.log('info', 'no longer staged by hand; committing what is left', { paths: back });
        const now = this.deps.clock.now();
        for (const p of back) if (!this.pending.has(p)) this.pending.set(p, now);
      }
    } catch {
      this.stagedIndexKey = '';
    }
  }

  private hold(path: string, reason: string): void {
    if (this.held.get(path) !== reason) this.deps.logger.log('warn', 'held back', { path, reason });
    this.held.set(path, reason);
  }

  private prepare(paths: string[], via: Via, dryRun = false) {
    const { git, fs, config, root } = this.deps;
    return prepareBatch(
      {
        git,
        fs,
        config: dryRun ? { ...config, secrets: { ...config.secrets, enabled: false } } : config,
        root,
        hooksDir: this.hooksDir,
        readHead: (ps) => this.index.readHead(ps),
        hold: dryRun ? () => undefined : (p, r) => this.hold(p, r),
      },
      paths,
      via,
    );
  }

  private async commitBatch(): Promise<void> {
    const { git, logger } = this.deps;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    this.inFlight = batch.map(([p]) => p);
    faultPoint('batch-taken');
    let plan: CommitPlan | null = null;
    let via: Via = this.strategy;
    /** The message the commit got (the template's subject with a body, or messageCommand's). */
    let message: string | null = null;
    try {
      // Replan once for a vanished path, a few times without each path git refused by name, and
      // a few times when HEAD moved under a plumbing commit.
      let replans = 0;
      let refusals = 0;
      let moves = 0;
      let landed: CommitJournal | null = null;
      let oldEntries: Map<string, Entry> | undefined;
      for (;;) {
        const prepared = await this.prepare(this.inFlight, via);
        faultPoint('after-scan');
        for (const s of prepared.staged) {
          if (!this.staged.has(s.path)) logger.log('info', 'staged by hand; left to the person', { path: s.path, reason: s.reason });
          this.staged.set(s.path, s.reason);
        }
        if (prepared.staged.length) this.stagedIndexKey = '';
        if (prepared.hidden.length) {
          logger.log('info', 'skip-worktree or assume-unchanged in the index (sparse checkout): not a change; left alone', { paths: prepared.hidden });
          this.deps.onDiscarded?.({ paths: prepared.hidden, reason: 'unchanged' });
        }
        plan = prepared.plan;
        if (plan.dropped.length) this.deps.onDiscarded?.({ paths: plan.dropped, reason: 'vanished' });
        if (plan.steps.length === 0) {
          if (this.pending.size) this.again = true;
          return;
        }
        try {
          if (via === 'plumbing') {
            const template = plan.message;
            landed = await this.index.commit(plan, prepared.head!, prepared.scanned, (p, r) => this.hold(p, r), async (old, tree) => {
              message = await commitMessage(git, this.deps, old, tree, template);
              return message;
            });
            if (!landed) {
              this.deps.onDiscarded?.({ paths: plan.paths, reason: 'unchanged' });
              this.succeeded(null, plan, via);
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
              index: this.index.indexFile,
            });
            via = 'porcelain';
            continue;
          }
          const info = failureInfo(e);
          const c = classifyCommitFailure(info);
          if (c.action === 'noop') {
            this.deps.onDiscarded?.({ paths: plan.paths, reason: 'unchanged' });
            this.succeeded(null, plan, via);
            return;
          }
          const bad = offendingPaths(info.stderr).filter((o) => plan!.paths.includes(o.path));
          if (bad.length && refusals < 3) {
            refusals++;
            for (const o of bad) this.hold(o.path, o.reason);
            const gone = new Set(bad.map((o) => o.path));
            this.inFlight = this.inFlight.filter((p) => !gone.has(p));
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
          await this.index.syncRealIndex(landed, oldEntries);
        } catch (e) {
          logger.log('warn', 'commit landed; index update deferred', { error: failureInfo(e).stderr.trim().split('\n')[0] ?? '' });
        }
        await this.note(landed.new, plan.paths);
        this.succeeded(landed.new, message ? { ...plan, message } : plan, via);
        return;
      }
      const sha = await git.headSha().catch(() => null);
      if (sha) await this.note(sha, plan.paths);
      this.succeeded(sha ?? 'unknown', plan, via);
    } catch (e) {
      // Held paths wait for a new submit (a changed file), not for the retry.
      this.requeue(batch.filter(([p]) => !this.held.has(p)));
      this.failed(e, plan?.paths ?? this.inFlight);
    } finally {
      this.inFlight = [];
    }
  }

  /** The commit's evidence per path in refs/notes/winnow (commit.notes); written before the commit is announced, so a sync pushes it. */
  private async note(sha: string, paths: string[]): Promise<void> {
    const { config, git, logger, clock } = this.deps;
    if (!config.commit.notes) return;
    await writeCommitNote(git, logger, sha, paths, (p) => this.deps.decisionFor?.(p), clock.now());
  }

  private succeeded(sha: string | null, plan: CommitPlan, via: Via): void {
    this.breaker = breakerSuccess(this.breaker);
    if (this.pending.size) this.again = true; // what arrived meanwhile is the catch-up batch
    if (sha === null) return;
    // The commit is in git; nothing has recorded it yet (log line, pending.json via onCommitted).
    faultPoint('before-state-write');
    const atMs = this.deps.clock.now();
    this.rate = consume(this.rate, atMs);
    this.saveRate();
    // status lists each commit by its subject; the body (line counts) is in git.
    this.lastCommits.unshift({ sha, at: atMs, paths: plan.paths, message: plan.message.split('\n')[0]! });
    this.lastCommits.length = Math.min(this.lastCommits.length, LAST_COMMITS);
    this.deps.logger.log('info', 'commit', { sha, paths: plan.paths, atMs, via });
    this.deps.onCommitted?.({ sha, paths: plan.paths, atMs, message: plan.message });
  }

  private failed(e: unknown, paths: string[]): void {
    const { config, logger } = this.deps;
    const info = failureInfo(e);
    const c = classifyCommitFailure(info);
    const now = this.deps.clock.now();
    const detail = info.stderr.trim().split('\n')[0] ?? '';
    const lastError = c.kind === 'fatal' ? c.reason : `${c.reason}${detail ? `: ${detail}` : ''}`;
    // An `abort` (retrying the same command cannot help) opens the breaker at once.
    const r = config.retry;
    const cfg = { attempts: r.attempts, cooldownMs: r.breakerCooldownMs, baseMs: r.baseMs, maxMs: r.maxMs };
    const b = (this.breaker = breakerFailure(this.breaker, cfg, now, this.random(), lastError, c.action === 'abort'));
    const fields: Record<string, unknown> = { paths, kind: c.kind, action: c.action, error: lastError, failures: b.failures };
    if (breakerOpen(b, now)) {
      fields.breakerUntil = b.openUntil;
      logger.log('warn', 'commit failed; breaker open', fields);
      this.waiting = waitingSentence.breakerOpen(b.openUntil!, lastError);
      this.arm(b.openUntil!);
      return;
    }
    fields.retryAt = b.retryAt;
    logger.log('warn', 'commit failed; will retry', fields);
    this.waiting = waitingSentence.retrying(b.retryAt!, lastError);
    this.arm(b.retryAt!);
  }
}
