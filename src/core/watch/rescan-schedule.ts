/**
 * When `git status` reconciles what the watcher may have dropped (SPEC: it loses events silently
 * at batch boundaries). Pure: times are numbers, `now` is an argument; the daemon owns the timer.
 */

/** Quiet time after a burst (or any watcher activity) before the reconciling rescan. */
export const BURST_QUIET_MS = 1_000;
/**
 * After watcher activity, a rescan runs once activity has been quiet for BURST_QUIET_MS, at most
 * every RECONCILE_MIN_MS, and never more often than RECONCILE_COST_FACTOR × the last rescan's own
 * duration, so a big repository spends at most ~2% of a core on it. Nothing runs while the tree
 * is idle.
 */
export const RECONCILE_MIN_MS = 5_000;
export const RECONCILE_COST_FACTOR = 50;

export interface RescanHistory {
  /** When the last rescan started (0: never). */
  lastAt: number;
  /** How long the last successful `git status` took. */
  lastCostMs: number;
}

/**
 * How long to wait, from `now`, before reconciling after watcher activity.
 *
 * @example
 * reconcileDelayMs({ lastAt: 0, lastCostMs: 0 }, 10_000)        // → 1000 (quiet time only)
 * reconcileDelayMs({ lastAt: 10_000, lastCostMs: 0 }, 11_000)   // → 4000 (at most every 5 s)
 * reconcileDelayMs({ lastAt: 10_000, lastCostMs: 400 }, 11_000) // → 19000 (50 × 400 ms)
 */
export function reconcileDelayMs(h: RescanHistory, now: number): number {
  const gap = Math.max(RECONCILE_MIN_MS, h.lastCostMs * RECONCILE_COST_FACTOR);
  return Math.max(BURST_QUIET_MS, h.lastAt + gap - now);
}
