/**
 * Syncs and someone else's pause (SPEC: while a pause signal is up, commits and syncs wait). A
 * sync asked for during a person's `winnow pause` waits, and runs with the priority it was asked
 * with once the pause is gone. The syncer's own pause (this PID) is not someone else's.
 */
import type { SyncPriority, QueuedSync } from '../../core/sync/index.js';
import { morePressing } from '../../core/sync/index.js';
import type { PauseSignal } from '../lifecycle/pause.js';

export class PauseWait {
  private waiting: { reason: string; priority: SyncPriority } | null = null;

  constructor(
    /** The active pause signal, or null. */
    private readonly read: () => Promise<PauseSignal | null>,
    private readonly pid: number,
  ) {}

  /** Someone else's unexpired pause. */
  async foreign(): Promise<PauseSignal | null> {
    const p = await this.read().catch(() => null);
    return p && p.pid !== this.pid ? p : null;
  }

  /** The pause `run` must wait for, remembered so it runs when the pause goes; null: go ahead. */
  async holds(run: QueuedSync): Promise<PauseSignal | null> {
    if (run.force) return null;
    const p = await this.foreign();
    if (!p) return null;
    const reason = run.reasons.join(', ');
    this.waiting = { reason, priority: this.waiting ? morePressing(this.waiting.priority, run.priority) : run.priority };
    return p;
  }

  /** The pause changed: the sync that waited, to request now that it is gone (null: nothing to do). */
  async lifted(): Promise<{ reason: string; priority: SyncPriority } | null> {
    const w = this.waiting;
    if (w === null || (await this.foreign())) return null;
    if (this.waiting !== w) return null;
    this.waiting = null;
    return { reason: `${w.reason} (pause lifted)`, priority: w.priority };
  }
}

export function pausedMessage(p: PauseSignal): string {
  const until = new Date(p.expiresAt).toISOString();
  return `deferred: paused by pid ${p.pid} (${p.reason}) until ${until}; \`winnow resume\` ends the pause, \`winnow sync --force\` syncs anyway`;
}
