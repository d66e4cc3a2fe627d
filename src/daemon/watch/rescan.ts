/**
 * Rescans: `git status` is the truth the watcher may have missed. One runs at start (catch-up),
 * after a burst, after watcher activity (core/watch/rescan-schedule.ts), every `rescanMs`, and on
 * request. Paths already accepted, staged by hand, blocked by a rule, or judged before and
 * unchanged are not classified again.
 */
import type { WatchEvent } from '../../core/event.js';
import { BURST_QUIET_MS, reconcileDelayMs, type RescanHistory } from '../../core/watch/rescan-schedule.js';
import type { Clock, Git, Logger, Scheduler } from '../../ports/index.js';
import type { KnownDecisions } from '../classify/known-decisions.js';

/** Porcelain v1 code of a change that is staged and not modified since in the work tree. */
export function isStagedOnly(code: string): boolean {
  const x = code[0] ?? ' ';
  const y = code[1] ?? ' ';
  return y === ' ' && x !== ' ' && x !== '?' && x !== '!';
}

export interface RescannerDeps {
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  git: Pick<Git, 'status'>;
  known: KnownDecisions;
  /** Period of the timer rescan (0: none). */
  rescanMs: number;
  /** Accepted and not yet committed: no need to look again. */
  isAccepted(path: string): boolean;
  /** A rule blocks it: judged again it is blocked again, whatever changed. */
  blockedByRule(path: string): boolean;
  /** The file's identity now (size:mtime), for "unchanged since it was judged". */
  identity(path: string): Promise<string>;
  /** Classifies `events`; resolves when they have been. */
  classify(events: WatchEvent[]): Promise<void>;
  /** After each rescan of the periodic timer (the watcher snapshots are written then). */
  afterPeriodic(): void;
  /** A rescan finished (idle may have been reached). */
  onDone(): void;
}

export class Rescanner {
  private running: Promise<void> | null = null;
  private periodic: unknown = null;
  private burst: unknown = null;
  private reconcile: unknown = null;
  private history: RescanHistory = { lastAt: 0, lastCostMs: 0 };
  private stopped = false;
  /** ISO time of the last rescan, for `status`. */
  lastRescan: string | null = null;

  constructor(private readonly deps: RescannerDeps) {}

  /** One rescan at a time: a call while one runs joins it. */
  rescan(reason: string, source: 'rescan' | 'catchup' = 'rescan', extra: WatchEvent[] = []): Promise<void> {
    if (this.running) return this.running;
    this.running = this.run(reason, source, extra).finally(() => {
      this.running = null;
      this.deps.onDone();
    });
    return this.running;
  }

  busy(): boolean {
    return this.running !== null;
  }

  /** (Re)arms the periodic rescan. */
  armPeriodic(): void {
    if (this.periodic) this.deps.scheduler.clearTimeout(this.periodic);
    this.periodic = null;
    if (!this.deps.rescanMs || this.stopped) return;
    this.periodic = this.deps.scheduler.setTimeout(() => {
      this.periodic = null;
      void this.rescan('timer').finally(() => {
        this.deps.afterPeriodic();
        this.armPeriodic();
      });
    }, this.deps.rescanMs);
  }

  /** A rescan once things are quiet for BURST_QUIET_MS (a burst, a watcher error, a failed classify). */
  scheduleBurst(): void {
    if (this.burst) this.deps.scheduler.clearTimeout(this.burst);
    this.burst = this.deps.scheduler.setTimeout(() => {
      this.burst = null;
      void this.rescan('after a burst of events');
    }, BURST_QUIET_MS);
  }

  /** A reconciling rescan after watcher activity, on the schedule of core/watch/rescan-schedule.ts. */
  scheduleReconcile(): void {
    if (this.stopped) return;
    if (this.reconcile) this.deps.scheduler.clearTimeout(this.reconcile);
    this.reconcile = this.deps.scheduler.setTimeout(() => {
      this.reconcile = null;
      void this.rescan('reconcile after watcher activity');
    }, reconcileDelayMs(this.history, this.deps.clock.now()));
  }

  stop(): void {
    this.stopped = true;
    for (const t of [this.periodic, this.burst, this.reconcile]) if (t) this.deps.scheduler.clearTimeout(t);
    this.periodic = this.burst = this.reconcile = null;
  }

  private async run(reason: string, source: 'rescan' | 'catchup', extra: WatchEvent[]): Promise<void> {
    const { clock, known } = this.deps;
    const now = clock.now();
    this.history = { ...this.history, lastAt: now };
    let entries;
    try {
      entries = await this.deps.git.status();
      this.history = { ...this.history, lastCostMs: clock.now() - now };
    } catch (e) {
      this.deps.logger.log('warn', 'rescan failed', { reason, error: (e as Error).message });
      return;
    }
    const candidates = new Set<string>(extra.map((e) => e.path));
    const stagedByHand = new Set<string>();
    for (const en of entries) {
      // Staged by the person and untouched since (`A `, `M `, `D `): they are composing a commit
      // by hand; a rescan leaves it to them. A later edit of the file arrives as a watch event.
      if (isStagedOnly(en.code)) {
        stagedByHand.add(en.path);
        continue;
      }
      candidates.add(en.path);
      if (en.from) candidates.add(en.from);
    }
    const events: WatchEvent[] = [];
    for (const path of candidates) {
      // A storm's 20k rule-blocked files are listed by `git status` when no .gitignore covers them:
      // each would cost a stat and a decision that can only say BLOCK again.
      if (this.deps.isAccepted(path) || stagedByHand.has(path) || this.deps.blockedByRule(path)) continue;
      if (await known.unchanged(path, () => this.deps.identity(path))) continue;
      events.push({ path, kind: 'update', stream: 'rescan', priority: 'normal', at: now, source });
    }
    known.forgetClean(new Set(entries.map((e) => e.path)));
    this.lastRescan = new Date(now).toISOString();
    this.deps.logger.log('debug', 'rescan', { reason, changed: entries.length, classified: events.length });
    if (events.length) await this.deps.classify(events);
  }
}
