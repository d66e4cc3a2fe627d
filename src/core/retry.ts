/**
 * Retry policy shared by the committer and the syncer (STYLE.md habits 2, 6, 7): which failures
 * are which (a table per caller, matched by one function), how long to back off, and the circuit
 * breaker. Pure: time and randomness are arguments.
 */

/** One row of a failure table: the first row whose `re` (and `and`, when given) matches wins. */
export interface FailureRule<T> {
  re: RegExp;
  /** A second pattern the text must also match (e.g. a rejected push that names a permission). */
  and?: RegExp;
  value: T;
}

/**
 * The value of the first row of `table` that matches `text`, or null.
 *
 * @example matchFailure('fatal: Could not resolve host: example.com', [{ re: /could not resolve host/i, value: 'unreachable' }])
 *   // 'unreachable'
 */
export function matchFailure<T>(text: string, table: readonly FailureRule<T>[]): T | null {
  for (const r of table) if (r.re.test(text) && (!r.and || r.and.test(text))) return r.value;
  return null;
}

export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" — half fixed, half random — so that several winnow instances (or winnow and the
 * person's own git, or several workspaces behind one dead remote) do not retry in lock step, while
 * a retry never comes sooner than half the step.
 *
 * @param random a number in [0, 1) (Math.random in production, fixed in tests)
 */
export function backoffMs(attempt: number, cfg: BackoffConfig, random: number): number {
  const exp = Math.min(cfg.maxMs, cfg.baseMs * 2 ** Math.max(0, attempt - 1));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}

export interface BreakerConfig extends BackoffConfig {
  /** Consecutive failures that open the breaker (`retry.attempts`). */
  attempts: number;
  cooldownMs: number;
}

/**
 * Consecutive failures, the earliest next attempt, and whether the breaker is open. An open
 * breaker whose cooldown has passed is half-open: one trial may run, and its failure opens it
 * again at once.
 */
export interface BreakerState {
  readonly failures: number;
  /** While set and in the future, the breaker is open. */
  readonly openUntil: number | null;
  /** Earliest next attempt after a failure (the backoff, or the end of the cooldown), or null. */
  readonly retryAt: number | null;
  /** For `status`; absent in sync state saved by older versions. */
  readonly lastError?: string | null;
}

export const CLOSED: BreakerState = Object.freeze({ failures: 0, openUntil: null, retryAt: null, lastError: null });

export type BreakerPhase = 'closed' | 'open' | 'half-open';

export function breakerPhase(b: BreakerState, now: number): BreakerPhase {
  if (b.openUntil === null) return 'closed';
  return now < b.openUntil ? 'open' : 'half-open';
}

export function breakerOpen(b: BreakerState, now: number): boolean {
  return breakerPhase(b, now) === 'open';
}

/**
 * The breaker after a failure at `now`. It opens for `cooldownMs` after `attempts` consecutive
 * failures, at once on a failed half-open trial, and at once when `force` (retrying cannot help
 * until a person acts: a refused commit hook, rejected credentials). Otherwise the next attempt
 * waits for the backoff.
 */
export function breakerFailure(
  b: BreakerState,
  cfg: BreakerConfig,
  now: number,
  random: number,
  error: string | null = null,
  force = false,
): BreakerState {
  const failures = (b.failures ?? 0) + 1;
  const lastError = error ?? b.lastError ?? null;
  if (force || breakerPhase(b, now) === 'half-open' || failures >= cfg.attempts) {
    const until = now + cfg.cooldownMs;
    return { failures, openUntil: until, retryAt: until, lastError };
  }
  return { failures, openUntil: null, retryAt: now + backoffMs(failures, cfg, random), lastError };
}

/** A success closes the breaker and forgets the failures (the last error stays for `status`). */
export function breakerSuccess(b: BreakerState): BreakerState {
  return { ...CLOSED, lastError: b.lastError ?? null };
}
