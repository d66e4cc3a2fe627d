/**
 * Intake: watcher batches enter here. Low-priority streams are held a moment so their bursts
 * coalesce; the rest goes straight to the classify queue. A large batch (a burst) asks for a
 * reconciling rescan once activity is quiet; ordinary activity asks for the periodic reconcile.
 */
import type { WatchEvent } from '../../core/event.js';
import type { Scheduler } from '../../ports/index.js';

/** Low-priority streams are coalesced for this long before they are classified. */
export const LOW_PRIORITY_COALESCE_MS = 250;
/** A watcher batch this large is a burst: reconcile with `git status` once it is over. */
export const BURST_EVENTS = 500;

export interface IntakeDeps {
  scheduler: Scheduler;
  /** Where events go to be classified. */
  classify(events: WatchEvent[]): void;
  /** A burst: rescan once it is quiet. */
  onBurst(): void;
  /** Watcher activity: reconcile with `git status` later. */
  onActivity(): void;
}

export class Intake {
  private low: WatchEvent[] = [];
  private lowTimer: unknown = null;
  private stopped = false;

  constructor(private readonly deps: IntakeDeps) {}

  ingest(events: WatchEvent[]): void {
    if (!events.length || this.stopped) return;
    const low = events.filter((e) => e.priority === 'low');
    const rest = low.length ? events.filter((e) => e.priority !== 'low') : events;
    if (rest.length) this.deps.classify(rest);
    if (low.length) {
      this.low.push(...low);
      if (!this.lowTimer) {
        this.lowTimer = this.deps.scheduler.setTimeout(() => {
          this.lowTimer = null;
          this.deps.classify(this.low.splice(0));
        }, LOW_PRIORITY_COALESCE_MS);
      }
    }
    if (events.length >= BURST_EVENTS) this.deps.onBurst();
    else if (events.some((e) => e.source === 'watch')) this.deps.onActivity();
  }

  /** True while low-priority events wait to be coalesced. */
  busy(): boolean {
    return this.low.length > 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.lowTimer) this.deps.scheduler.clearTimeout(this.lowTimer);
    this.lowTimer = null;
  }
}
