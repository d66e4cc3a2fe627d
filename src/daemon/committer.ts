/**
 * The single-flight committer (SPEC "Committer", STYLE.md habit 8): one commit at a time; paths
 * that arrive meanwhile form the next batch; one commit per batch, holding only those paths.
 *
 * All timing policy is pure (core/commit/*); this shell owns one timer at a time on the injected
 * scheduler and never sleeps. Nothing submitted is dropped: a batch that cannot be committed now
 * (paused, rate limited, blocked, failing) goes back to the queue with its first-seen time.
 */
import { join } from 'node:path';
import type { Clock, Fs, Git, Logger, Scheduler } from '../ports/index.js';
import type { Config } from '../core/config/defaults.js';
import { planCommit, type CommitPlan, type PathFacts } from '../core/commit/plan.js';
import { scanForSecrets } from '../core/commit/secrets.js';
import { massDeletion, blockedSentence, waitingSentence } from '../core/commit/guards.js';
import {
  initialRateLimit,
  nextAllowedAt,
  consume,
  tokensAt,
  commitsToday,
  type RateLimitState,
} from '../core/commit/rate-limit.js';
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
} from '../core/commit/retry-policy.js';
import { faultPoint } from '../util/fault.js';

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

  /** Stats, secret guard and mass-deletion guard for `paths`; returns the plan for what is left. */
  async function prepare(paths: string[]): Promise<CommitPlan> {
    const [stats, tracked] = await Promise.all([Promise.all(paths.map((p) => fs.stat(join(root, p)))), git.tracked(paths)]);
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
    let plan = planCommit({ paths: candidates, facts, messageTemplate: config.commit.message, hooks: config.commit.hooks, hooksDir });
    if (plan.deletions.length) {
      const why = massDeletion({ deletions: plan.deletions.length, trackedCount: await git.trackedCount(), rootExists: true });
      if (why) {
        for (const p of plan.deletions) hold(p, why);
        const keep = new Set(plan.deletions);
        plan = planCommit({
          paths: candidates.filter((p) => !keep.has(p)),
          facts,
          messageTemplate: config.commit.message,
          hooks: config.commit.hooks,
          hooksDir,
        });
      }
    }
    return plan;
  }

  function hold(path: string, reason: string): void {
    if (held.get(path) !== reason) logger.log('warn', 'held back', { path, reason });
    held.set(path, reason);
  }

  async function commitBatch(): Promise<void> {
    const batch = [...pending.entries()];
    pending.clear();
    inFlight = batch.map(([p]) => p);
    let plan: CommitPlan | null = null;
    try {
      // Replan once for a vanished path, and (a few times) without each path git refused by name.
      let replans = 0;
      let refusals = 0;
      for (;;) {
        plan = await prepare(inFlight);
        if (plan.dropped.length) deps.onDiscarded?.({ paths: plan.dropped, reason: 'vanished' });
        if (plan.steps.length === 0) {
          if (pending.size) again = true;
          return;
        }
        try {
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
          const info = failureInfo(e);
          const c = classifyGitFailure(info);
          if (c.action === 'noop') {
            deps.onDiscarded?.({ paths: plan.paths, reason: 'unchanged' });
            succeeded(null, plan);
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
          throw e;
        }
      }
      const sha = await git.headSha().catch(() => null);
      succeeded(sha ?? 'unknown', plan);
    } catch (e) {
      // Held paths wait for a new submit (a changed file), not for the retry.
      requeue(batch.filter(([p]) => !held.has(p)));
      failed(e, plan?.paths ?? inFlight);
    } finally {
      inFlight = [];
    }
  }

  function succeeded(sha: string | null, plan: CommitPlan): void {
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
    logger.log('info', 'commit', { sha, paths: plan.paths, atMs });
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
