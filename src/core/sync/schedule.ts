/**
 * When to sync, as functions of `now` (STYLE.md habit 2): the shell owns the one timer and asks
 * these what to do.
 */
import type { SyncPriority } from './queue.js';

/** Unpushed commits beyond which a sync is due even before `minIntervalMs` has passed. */
export const AHEAD_THRESHOLD = 50;

export interface BreakerState {
  /** Consecutive failed attempts. */
  failures: number;
  /** While set and in the future, scheduled syncs wait. */
  openUntil: number | null;
  /** Earliest next attempt after a failure (backoff), or null. */
  retryAt: number | null;
}

export const CLOSED_BREAKER: BreakerState = { failures: 0, openUntil: null, retryAt: null };

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  breakerCooldownMs: number;
}

/**
 * Backoff before attempt `failures + 1`: exponential from `baseMs`, capped at `maxMs`, with
 * "equal jitter" (half fixed, half random) so that several workspaces behind one dead remote do
 * not retry in step. `random` in [0, 1).
 */
export function backoffMs(failures: number, p: RetryPolicy, random: number): number {
  const exp = Math.min(p.maxMs, p.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp / 2 + (exp / 2) * random);
}

/** The breaker after a failed attempt: backoff, and open for the cooldown after `attempts` failures. */
export function onFailure(b: BreakerState, p: RetryPolicy, now: number, random: number): BreakerState {
  const failures = b.failures + 1;
  if (failures >= p.attempts) {
    return { failures, openUntil: now + p.breakerCooldownMs, retryAt: now + p.breakerCooldownMs };
  }
  return { failures, openUntil: null, retryAt: now + backoffMs(failures, p, random) };
}

export function onSuccess(): BreakerState {
  return CLOSED_BREAKER;
}

export function breakerOpen(b: BreakerState, now: number): boolean {
  return b.openUntil !== null && now < b.openUntil;
}

export interface GateInput {
  priority: SyncPriority;
  force: boolean;
  now: number;
  /** End of the last attempt (ok or not), or null when none yet. */
  lastAttemptAt: number | null;
  minIntervalMs: number;
  breaker: BreakerState;
  /** Why syncing is stopped (unresolved conflicts), or null. */
  stopped: string | null;
  /** Unpushed commits known now. */
  ahead: number;
}

export type GateDecision = { action: 'run' } | { action: 'wait'; until: number; why: string } | { action: 'refuse'; why: string };

/**
 * May a sync of this priority run now?
 * - manual: always (a person asked; a success closes the breaker), except while stopped on
 *   conflicts, where it runs only to check whether they are resolved — the caller does that.
 * - lifecycle (start, exit): not held by `minIntervalMs`; held by an open breaker unless forced.
 * - scheduled: waits for `minIntervalMs` after the last successful attempt (sooner past
 *   AHEAD_THRESHOLD); after a failure, for the backoff instead; and for the breaker; refused while stopped.
 */
export function gate(i: GateInput): GateDecision {
  if (i.force || i.priority === 'manual') return { action: 'run' };
  if (i.stopped) return { action: 'refuse', why: `syncing is stopped: ${i.stopped}` };
  if (breakerOpen(i.breaker, i.now)) {
    return { action: 'wait', until: i.breaker.openUntil!, why: 'breaker open after repeated failures' };
  }
  if (i.breaker.retryAt !== null && i.now < i.breaker.retryAt && i.priority === 'scheduled') {
    return { action: 'wait', until: i.breaker.retryAt, why: 'backing off after a failed sync' };
  }
  if (i.priority === 'lifecycle') return { action: 'run' };
  // After a failure the backoff, not minIntervalMs, spaces the attempts.
  if (i.lastAttemptAt !== null && i.ahead < AHEAD_THRESHOLD && i.breaker.failures === 0) {
    const due = i.lastAttemptAt + i.minIntervalMs;
    if (i.now < due) return { action: 'wait', until: due, why: 'minIntervalMs since the last sync' };
  }
  return { action: 'run' };
}

/** When the scheduled sync after a commit should run: `minIntervalMs` after the last attempt. */
export function nextAfterCommit(lastAttemptAt: number | null, minIntervalMs: number, breaker: BreakerState, now: number): number {
  let at = lastAttemptAt === null ? now : Math.max(now, lastAttemptAt + minIntervalMs);
  if (breaker.retryAt !== null) at = Math.max(at, breaker.retryAt);
  if (breaker.openUntil !== null) at = Math.max(at, breaker.openUntil);
  return at;
}
