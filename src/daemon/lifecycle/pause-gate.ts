/**
 * The pause signal as the daemon sees it: the last one read (for `status`), and whether it holds
 * commits now. The syncer raises its own pause (this PID) to hold commits while it moves the
 * branch, then asks for what is pending to be committed first: that commit must not wait for its
 * own pause (issue 11 case 14); anyone else's pause still holds it. Every pause read is shown to
 * the acknowledgment (pause-ack.ts), which answers it once no commit is under way.
 */
import type { Clock, Fs, Logger } from '../../ports/index.js';
import { readPause, type PauseSignal } from './pause.js';
import { PauseAck } from './pause-ack.js';

export { HELD_LOCK_FIELDS } from './pause-ack.js';

export interface PauseGateDeps {
  stateDir: string;
  clock: Clock;
  fs: Fs;
  /** pause.maxMs */
  maxMs: number;
  /** This process's PID: its own pause does not hold the commits a sync asked for. */
  pid: number;
  /** With both, pauses are acknowledged in held.json once `settled` (the committer's onIdle) resolves. */
  logger?: Logger;
  settled?(): Promise<void>;
}

export class PauseGate {
  private cache: PauseSignal | null = null;
  /** Commits the syncer asked for (commitPendingNow) in progress. */
  private syncFlushes = 0;
  private readonly ack: PauseAck | null;

  constructor(private readonly deps: PauseGateDeps) {
    const { stateDir, fs, clock, logger, pid, settled } = deps;
    this.ack = logger && settled ? new PauseAck({ stateDir, fs, clock, logger, pid, settled }) : null;
  }

  /** The signal as last read. */
  get current(): PauseSignal | null {
    return this.cache;
  }

  /** Reads the signal again (a missing or unreadable one is no pause). */
  async refresh(): Promise<PauseSignal | null> {
    const { stateDir, clock, fs, maxMs } = this.deps;
    this.cache = await readPause(stateDir, clock.now(), maxMs, fs).catch(() => null);
    this.ack?.seen(this.cache);
    return this.cache;
  }

  /** Whether commits wait now. */
  async holdsCommits(): Promise<boolean> {
    const p = await this.refresh();
    if (p === null) return false;
    return !(this.syncFlushes > 0 && p.pid === this.deps.pid);
  }

  /** Runs `commit` (the commits a sync asked for) past this process's own pause. */
  async forSync<T>(commit: () => Promise<T>): Promise<T> {
    this.syncFlushes++;
    try {
      return await commit();
    } finally {
      this.syncFlushes--;
    }
  }
}
