/**
 * What the committer remembers between batches: the rate limit's counters (saved to
 * `rate-limit.json` after each commit, so a restart does not reset `maxPerDay`), the breaker
 * (consecutive failures, backoff, cooldown: core/retry.ts) and the last commits for `status`.
 */
import { join } from 'node:path';
import type { Clock, Fs, Logger } from '../../ports/index.js';
import type { Config } from '../../core/config/defaults.js';
import { nextAllowedAt, consume, tokensAt, commitsToday, restoreRateLimit, saveRateLimit, RATE_LIMIT_FILE, type RateLimitState } from '../../core/commit/rate-limit.js';
import { classifyCommitFailure, type Classified } from '../../core/commit/retry-policy.js';
import { breakerFailure, breakerOpen, breakerSuccess, CLOSED, type BreakerState } from '../../core/retry.js';
import { failureInfo } from './failure.js';

const LAST_COMMITS = 10;

export interface LedgerDeps {
  config: Config;
  clock: Clock;
  fs: Fs;
  logger: Logger;
  stateDir: string;
  /** The rate limit's counters saved before a restart (`rate-limit.json` as parsed), if any. */
  savedRateLimit?: unknown;
  random?: () => number; // jitter; default Math.random
}

export interface LedgerStatus {
  rateLimit: { maxPerHour: number; maxPerDay: number; hourTokens: number; today: number; nextAt: number | null };
  breaker: { open: boolean; until: number | null; failures: number; lastError: string | null };
  lastCommits: { sha: string; at: number; paths: string[]; message: string }[];
}

export class CommitLedger {
  private readonly random: () => number;
  private rate: RateLimitState;
  /** Saves of the counters, in order; saved() waits for the last. */
  private rateSaved: Promise<void> = Promise.resolve();
  /** Consecutive failures, the next attempt's time and the breaker (core/retry.ts). */
  private breakerState: BreakerState = CLOSED;
  private readonly lastCommits: LedgerStatus['lastCommits'] = [];

  constructor(private readonly deps: LedgerDeps) {
    this.random = deps.random ?? Math.random;
    // A restart does not reset the rate limit (issue 11 case 15): a crash loop stays within maxPerDay.
    this.rate = restoreRateLimit(deps.config.rateLimit, deps.savedRateLimit ?? null, deps.clock.now());
  }

  get breaker(): BreakerState {
    return this.breakerState;
  }

  nextAllowedAt(now: number): number {
    return nextAllowedAt(this.rate, now);
  }

  /** The counters are on disk (close() waits for this). */
  saved(): Promise<void> {
    return this.rateSaved;
  }

  /** A batch needed no retry: the breaker closes. */
  succeeded(): void {
    this.breakerState = breakerSuccess(this.breakerState);
  }

  /** A commit landed at `atMs`: it uses a token, and `status` lists it by its subject. */
  committed(c: { sha: string; atMs: number; paths: string[]; message: string }): void {
    this.rate = consume(this.rate, c.atMs);
    this.saveRate();
    // status lists each commit by its subject; the body (line counts) is in git.
    this.lastCommits.unshift({ sha: c.sha, at: c.atMs, paths: c.paths, message: c.message.split('\n')[0]! });
    this.lastCommits.length = Math.min(this.lastCommits.length, LAST_COMMITS);
  }

  /** A batch failed: one more failure on the breaker (an `abort` opens it at once). */
  failed(e: unknown, now: number): { classified: Classified; lastError: string; breaker: BreakerState } {
    const { config } = this.deps;
    const info = failureInfo(e);
    const c = classifyCommitFailure(info);
    const detail = info.stderr.trim().split('\n')[0] ?? '';
    const lastError = c.kind === 'fatal' ? c.reason : `${c.reason}${detail ? `: ${detail}` : ''}`;
    // An `abort` (retrying the same command cannot help) opens the breaker at once.
    const r = config.retry;
    const cfg = { attempts: r.attempts, cooldownMs: r.breakerCooldownMs, baseMs: r.baseMs, maxMs: r.maxMs };
    const b = (this.breakerState = breakerFailure(this.breakerState, cfg, now, this.random(), lastError, c.action === 'abort'));
    return { classified: c, lastError, breaker: b };
  }

  status(now: number): LedgerStatus {
    const { config } = this.deps;
    const b = this.breakerState;
    const open = breakerOpen(b, now);
    const next = nextAllowedAt(this.rate, now);
    return {
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
      lastCommits: this.lastCommits.map((c) => ({ ...c, paths: [...c.paths] })),
    };
  }

  private saveRate(): void {
    const { fs, stateDir, logger } = this.deps;
    const text = JSON.stringify(saveRateLimit(this.rate)) + '\n';
    this.rateSaved = this.rateSaved.then(() =>
      fs.writeFileAtomic(join(stateDir, RATE_LIMIT_FILE), text).catch((e: Error) => logger.log('warn', 'rate limit counters not saved', { error: e.message })),
    );
  }
}
