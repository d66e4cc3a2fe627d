/**
 * The single-flight committer (SPEC "Committer", STYLE.md habit 8): one commit at a time; paths
 * that arrive meanwhile form the next batch; one commit per batch, holding only those paths.
 *
 * All timing policy is pure (core/commit/*); this shell owns one timer at a time on the injected
 * scheduler and never sleeps. Nothing submitted is dropped: a batch that cannot be committed now
 * (paused, rate limited, blocked, failing) goes back to the queue with its first-seen time.
 *
 * Its parts: waits.ts (why due paths wait), prepare.ts (guards → plan), attempt.ts (one batch's
 * way into git: plumbing through private-index.ts, `git commit --only` with hooks or as the
 * fallback, replans), staged.ts (paths the person staged by hand), ledger.ts (rate limit,
 * breaker, last commits).
 */
import { join } from 'node:path';
import type { Clock, Fs, Git, Logger, MessageCommand, Scheduler } from '../../ports/index.js';
import type { Decision } from '../../core/decision.js';
import { commitMessage, startCommitNote, writeCommitNote } from '../history/commit-extras.js';
import type { Config } from '../../core/config/defaults.js';
import type { CommitPlan } from '../../core/commit/plan.js';
import { waitingSentence } from '../../core/commit/guards.js';
import { breakerOpen } from '../../core/retry.js';
import { faultPoint } from '../../util/fault.js';
import { failureInfo } from './failure.js';
import { prepareBatch, type Via } from './prepare.js';
import { PrivateIndex } from './private-index.js';
import { attemptCommit, type Attempt, type InFlight } from './attempt.js';
import { CommitLedger, type LedgerStatus } from './ledger.js';
import { StagedByHand } from './staged.js';
import { reasonToWait, RECHECK_MS } from './waits.js';

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

export interface CommitterStatus extends LedgerStatus {
  queued: string[];
  inFlight: string[];
  waiting: string | null;
  held: { path: string; reason: string }[];
}

export interface Committer {
  /** Settled, accepted paths; they join the next batch. */
  submit(paths: string[]): void;
  /** Re-check now (pause dropped, HEAD state changed). */
  kick(): void;
  /** Reads HEAD and sets up the private git dir while nothing is due (asked once `ready`). */
  warm(): void;
  /** Resolves when nothing is in flight and nothing is runnable right now. */
  onIdle(): Promise<void>;
  status(): CommitterStatus;
  /** Finishes the batch in flight, then stops; later submits are kept queued. */
  close(): Promise<void>;
}

export { RECHECK_MS } from './waits.js';
export { RATE_LIMIT_FILE } from '../../core/commit/rate-limit.js';

export function createCommitter(deps: CommitterDeps): Committer {
  const c = new SingleFlightCommitter(deps);
  // At start, settle what a crash may have left half way (the commit journal).
  c.kick();
  return {
    submit: (paths) => c.submit(paths),
    kick: () => c.kick(),
    warm: () => c.warm(),
    onIdle: () => c.onIdle(),
    status: () => c.status(),
    close: () => c.close(),
  };
}

class SingleFlightCommitter {
  private readonly hooksDir: string;
  private readonly strategy: Via;
  private readonly index: PrivateIndex;
  private readonly ledger: CommitLedger;
  private readonly staged: StagedByHand;

  /** Queued paths → first time they were submitted (kept across failed attempts). */
  private readonly pending = new Map<string, number>();
  private inFlight: InFlight | null = null;
  private readonly held = new Map<string, string>();
  private waiting: string | null = null;

  private timer: unknown = null;
  private running = false;
  /** warm() was asked for: the next pass with nothing due reads what a first commit needs. */
  private warmWanted = false;
  private again = false;
  private closed = false;
  private loopDone: Promise<void> = Promise.resolve();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: CommitterDeps) {
    this.hooksDir = join(deps.stateDir, 'hooks-empty');
    this.strategy = deps.config.commit.hooks ? 'porcelain' : (deps.strategy ?? 'plumbing');
    this.index = new PrivateIndex({ git: deps.git, fs: deps.fs, logger: deps.logger, stateDir: deps.stateDir });
    this.ledger = new CommitLedger(deps);
    this.staged = new StagedByHand({ fs: deps.fs, logger: deps.logger, git: deps.git, prepareDry: (paths) => this.prepare(paths, 'porcelain', true) });
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
    await this.ledger.saved();
  }

  status(): CommitterStatus {
    const now = this.deps.clock.now();
    const inFlight = this.inFlight?.paths ?? [];
    const busy = this.pending.size > 0 || inFlight.length > 0;
    return {
      queued: [...this.pending.keys()],
      inFlight: [...inFlight],
      waiting: busy ? this.waiting : null,
      ...this.ledger.status(now),
      held: [...this.held, ...this.staged.entries()].map(([path, reason]) => ({ path, reason })),
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

  warm(): void {
    if (this.strategy !== 'plumbing') return;
    this.warmWanted = true;
    this.kick();
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
    if (this.pending.size === 0 && this.staged.size) {
      const back = await this.staged.recheck();
      const now = clock.now();
      for (const p of back) if (!this.pending.has(p)) this.pending.set(p, now);
    }
    const warm = this.warmWanted;
    this.warmWanted = false;
    if (this.pending.size === 0) {
      if (warm) await this.index.warm();
      this.waiting = null;
      // Staged paths are looked at again when the person's index changes (they commit, or unstage).
      if (this.staged.size) this.arm(clock.now() + RECHECK_MS);
      return;
    }
    const now = clock.now();
    try {
      const why = await reasonToWait(this.deps, this.ledger, now, [...this.pending.keys()]);
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
    const work: InFlight = (this.inFlight = { paths: batch.map(([p]) => p), plan: null });
    faultPoint('batch-taken');
    try {
      const done = await attemptCommit(
        {
          git,
          logger,
          index: this.index,
          prepare: (paths, via) => this.prepare(paths, via),
          hold: (p, r) => this.hold(p, r),
          leaveToPerson: (staged) => this.staged.leave(staged),
          discard: (paths, reason) => this.deps.onDiscarded?.({ paths, reason }),
          message: (old, tree, template) => commitMessage(git, this.deps, old, tree, template),
          note: (paths) => (this.deps.config.commit.notes ? startCommitNote(git, paths, (p) => this.deps.decisionFor?.(p), this.deps.clock.now()) : undefined),
        },
        work,
        this.strategy,
      );
      await this.record(done);
    } catch (e) {
      // Held paths wait for a new submit (a changed file), not for the retry.
      this.requeue(batch.filter(([p]) => !this.held.has(p)));
      this.failed(e, work.plan?.paths ?? work.paths);
    } finally {
      this.inFlight = null;
    }
  }

  /** What a batch's attempt came to: the commit (noted, announced), or no commit needed. */
  private async record(done: Attempt): Promise<void> {
    const { git, logger } = this.deps;
    if (done.outcome === 'empty') {
      if (this.pending.size) this.again = true;
      return;
    }
    const { plan, via } = done;
    if (done.outcome === 'unchanged') {
      this.deps.onDiscarded?.({ paths: plan.paths, reason: 'unchanged' });
      this.succeeded(null, plan, via);
      return;
    }
    if (done.outcome === 'landed') {
      // In git since update-ref: its time (`atMs`); `followMs` is what the index and note took after.
      const landedAt = this.deps.clock.now();
      // The person's index first, then record it: nobody sees a staged reversal. A failure (their git holds index.lock) keeps the journal for the next pass.
      const sync = this.index.syncRealIndex(done.landed, done.oldEntries).catch((e: unknown) => {
        logger.log('warn', 'commit landed; index update deferred', { error: failureInfo(e).stderr.trim().split('\n')[0] ?? '' });
      });
      await Promise.all([sync, done.landed.noted || this.note(done.landed.new, plan.paths)]); // different files: side by side
      if (done.same.length) this.deps.onDiscarded?.({ paths: done.same, reason: 'unchanged' });
      this.succeeded(done.landed.new, plan, via, landedAt);
      return;
    }
    const sha = await git.headSha().catch(() => null);
    if (sha) await this.note(sha, plan.paths);
    this.succeeded(sha ?? 'unknown', plan, via);
  }

  /** The commit's evidence per path in refs/notes/winnow (commit.notes); written before the commit is announced, so a sync pushes it. */
  private async note(sha: string, paths: string[]): Promise<void> {
    const { config, git, logger, clock } = this.deps;
    if (!config.commit.notes) return;
    await writeCommitNote(git, logger, sha, paths, (p) => this.deps.decisionFor?.(p), clock.now());
  }

  private succeeded(sha: string | null, plan: CommitPlan, via: Via, landedAt?: number): void {
    this.ledger.succeeded();
    if (this.pending.size) this.again = true; // what arrived meanwhile is the catch-up batch
    if (sha === null) return;
    // The commit is in git; nothing has recorded it yet (log line, pending.json via onCommitted).
    faultPoint('before-state-write');
    const now = this.deps.clock.now();
    const atMs = landedAt ?? now;
    this.ledger.committed({ sha, atMs, paths: plan.paths, message: plan.message });
    this.deps.logger.log('info', 'commit', { sha, paths: plan.paths, atMs, via, ...(landedAt === undefined ? {} : { followMs: now - landedAt }) });
    this.deps.onCommitted?.({ sha, paths: plan.paths, atMs, message: plan.message });
  }

  private failed(e: unknown, paths: string[]): void {
    const { logger } = this.deps;
    const now = this.deps.clock.now();
    const { classified: c, lastError, breaker: b } = this.ledger.failed(e, now);
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
