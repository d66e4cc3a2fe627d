/**
 * The settle stage: accepted paths wait for their quiet window (core/settle/settle.ts), then are
 * handed to the committer. This shell owns the one settle timer; the policy is pure.
 *
 * `accepted` is what must never be lost: every path accepted and not yet committed, with the
 * time it was first accepted (persisted as pending.json and replayed on start).
 */
import type { Config } from '../../core/config/defaults.js';
import { createSettle, addChange, restorePending, takeDue, nextWake, type SettleState } from '../../core/settle/settle.js';
import type { Clock, Scheduler } from '../../ports/index.js';
import { movePartners, movesToHold } from '../../core/settle/moves.js';

export interface SettlerDeps {
  clock: Clock;
  scheduler: Scheduler;
  debounce: Config['debounce'];
  /** Paths whose window closed (may be empty: the timer fired for a window that moved). */
  onDue(paths: string[]): void;
  /**
   * Whether a path exists on disk now. Given, a due path takes its pending move partner along
   * (core/settle/moves.ts), so a renamed directory lands in one commit.
   */
  present?(path: string): boolean;
}

export interface PendingPath {
  path: string;
  firstAt: number;
  dueAt: number | null;
}

export class Settler {
  /** Accepted and not yet committed: path → first accepted time. */
  private readonly accepted = new Map<string, number>();
  /** Accepted paths whose every acceptance had no writer known. */
  private readonly unproven = new Set<string>();
  private readonly state: SettleState;
  private timer: unknown = null;
  private timerAt: number | null = null;
  private stopped = false;

  constructor(private readonly deps: SettlerDeps) {
    this.state = createSettle(deps.debounce);
  }

  /**
   * An accepted change of `path` at `now`; `writtenAt` (its mtime) starts the quiet window.
   * `unproven`: accepted with no writer known (a change found at start-up, one seen before the
   * tracer attached); a person's save later makes the path proven.
   */
  accept(path: string, now: number, opts: { heat: boolean; writtenAt: number; unproven?: boolean }): void {
    if (!this.accepted.has(path)) {
      this.accepted.set(path, now);
      if (opts.unproven) this.unproven.add(path);
    } else if (!opts.unproven) this.unproven.delete(path);
    addChange(this.state, path, now, opts);
  }

  /**
   * An autonomous process wrote `path` (exact evidence). When it waits on an unproven acceptance
   * only, that was most likely the same process's earlier write: it is no longer accepted (true).
   * A path a person was seen saving rides along instead (`rideAlong`).
   */
  dropUnproven(path: string): boolean {
    if (!this.unproven.has(path)) return false;
    this.forget(path);
    return true;
  }

  /**
   * A change of `path` that was not accepted: when the path is already accepted and waiting, it
   * rides along (the person's accepted change is not dropped) and its window moves.
   */
  rideAlong(path: string, now: number): void {
    if (this.accepted.has(path) && this.state.pending.has(path)) addChange(this.state, path, now);
  }

  /** A path accepted before a restart (pending.json). `settle` false: remembered, never due (dry run). */
  restore(path: string, firstAt: number, now: number, settle: boolean): void {
    this.accepted.set(path, firstAt);
    if (settle) restorePending(this.state, path, firstAt, now);
  }

  /** No longer accepted at all (the current rules block a change accepted before a restart). */
  forget(path: string): void {
    this.accepted.delete(path);
    this.unproven.delete(path);
    this.state.pending.delete(path);
  }

  isAccepted(path: string): boolean {
    return this.accepted.has(path);
  }

  /** True while some path waits for its window. */
  waiting(): boolean {
    return this.state.pending.size > 0;
  }

  /** Committed or discarded: no longer accepted, unless it changed again meanwhile (then it waits again). */
  done(paths: readonly string[]): void {
    for (const p of paths) {
      if (this.state.pending.has(p)) continue;
      this.accepted.delete(p);
      this.unproven.delete(p);
    }
  }

  /** Takes every waiting path now, windows or not (sync, commit on request). */
  takeAll(): string[] {
    const all = [...this.state.pending.keys()];
    for (const p of all) this.state.pending.delete(p);
    this.arm();
    return all;
  }

  /** Accepted paths, oldest first, with when each is due (null: handed over, or never due). */
  pendingList(): PendingPath[] {
    const out: PendingPath[] = [];
    for (const [path, firstAt] of this.accepted) out.push({ path, firstAt, dueAt: this.state.pending.get(path)?.dueAt ?? null });
    return out.sort((a, b) => a.firstAt - b.firstAt);
  }

  /** (Re)arms the settle timer for the next window to close. */
  arm(): void {
    if (this.stopped) return;
    const at = nextWake(this.state);
    if (at === this.timerAt) return;
    if (this.timer) this.deps.scheduler.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = at;
    if (at === null) return;
    this.timer = this.deps.scheduler.setTimeout(() => this.fire(), Math.max(0, at - this.deps.clock.now()));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.deps.scheduler.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = null;
    const taken = takeDue(this.state, this.deps.clock.now());
    let due = taken.map((p) => p.path);
    if (due.length && this.deps.present && this.state.pending.size) {
      // A moved file waits for its partner still settling (core/settle/moves.ts).
      const hold = movesToHold(due, this.state.pending, this.deps.present);
      for (const e of taken) {
        const until = hold.get(e.path);
        if (until !== undefined) this.state.pending.set(e.path, { ...e, dueAt: until });
      }
      due = due.filter((p) => !hold.has(p));
      const partners = movePartners(due, [...this.state.pending.keys()], this.deps.present);
      for (const p of partners) this.state.pending.delete(p);
      due.push(...partners);
    }
    this.arm();
    this.deps.onDue(due);
  }
}
