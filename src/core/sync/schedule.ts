/**
 * When to sync, as functions of `now` (STYLE.md habit 2): the shell owns the one timer and asks
 * these what to do.
 */
import { breakerFailure, breakerOpen, type BreakerState } from '../retry.js';
import { needsAPerson } from './errors.js';
import type { SyncPriority } from './queue.js';


/** Unpushed commits beyond which a sync is due even before `minIntervalMs` has passed. */
export const AHEAD_THRESHOLD = 50;

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
  breakerCooldownMs: number;
}

/**
 * The breaker after a failed attempt (core/retry.ts): backoff, and open for the cooldown after
 * `attempts` failures — or at once when the failure needs a person (`needsAPerson`: an auth
 * failure is not retried like a network blip).
 */
export function onFailure(b: BreakerState, p: RetryPolicy, now: number, random: number, failure?: string, error?: string): BreakerState {
  const cfg = { attempts: p.attempts, cooldownMs: p.breakerCooldownMs, baseMs: p.baseMs, maxMs: p.maxMs };
  return breakerFailure(b, cfg, now, random, error ?? null, needsAPerson(failure));
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
