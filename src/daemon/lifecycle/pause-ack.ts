/**
 * The daemon's answer to a pause: `<state>/held.json` names the pause (its PID and time) once no
 * commit of the daemon's is under way, its update of the person's index included. `winnow restore`
 * and `squash` raise the pause and wait for this answer (cli/daemon-hold.ts): a commit already in
 * flight when they raise it moves HEAD first and the person's index a moment later, and in between
 * restore took the daemon's commit for the person's staged work. Syncs need no answer: whoever
 * waits for one holds sync.lock.
 *
 * Not named `pause…`: the daemon reads the pause again on any state-dir event whose name starts so.
 */
import { join } from 'node:path';
import type { Clock, Fs, Logger } from '../../ports/index.js';
import type { PauseSignal } from './pause.js';

export const HELD_FILE = 'held.json';

/**
 * Extra daemon.lock fields: this daemon answers pauses. A daemon started by an older winnow
 * never does, and the CLI need not wait for it.
 */
export const HELD_LOCK_FIELDS = { held: HELD_FILE };

/** What held.json says: the pause it answers, which daemon, and when. */
export interface HeldAck {
  pause: { pid: number; at: number };
  daemon: number;
  at: number;
}

export function heldFile(stateDir: string): string {
  return join(stateDir, HELD_FILE);
}

export function parseHeld(text: string): HeldAck | null {
  try {
    const v = JSON.parse(text) as HeldAck;
    return typeof v?.pause?.pid === 'number' && typeof v.pause.at === 'number' && typeof v.daemon === 'number' ? v : null;
  } catch {
    return null;
  }
}

/** True when `ack` answers `pause` itself, not an earlier pause. */
export function answers(ack: HeldAck | null, pause: { pid: number; at: number }): boolean {
  return ack !== null && ack.pause.pid === pause.pid && ack.pause.at === pause.at;
}

function key(p: { pid: number; at: number }): string {
  return `${p.pid}@${p.at}`;
}

export interface PauseAckDeps {
  stateDir: string;
  fs: Pick<Fs, 'writeFileAtomic'>;
  clock: Clock;
  logger: Logger;
  /** This process's PID: its own pause (a sync's) lets the sync's commits through, so it is never answered. */
  pid: number;
  /** Resolves once the committer's pass in flight (if any) has ended: the committer's `onIdle`. */
  settled(): Promise<void>;
}

export class PauseAck {
  /** The last pause answered, and the one whose answer waits for the committer. */
  private answered: string | null = null;
  private waiting: string | null = null;
  /** Answers are written one after the other, so held.json ends with the latest pause's. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: PauseAckDeps) {}

  /**
   * A pause was read. It is answered once the committer's pass in flight ends: a pass that starts
   * later reads the pause before it commits, and waits.
   */
  seen(p: PauseSignal | null): void {
    const { deps } = this;
    if (p === null || p.pid === deps.pid) return;
    const k = key(p);
    if (k === this.answered || k === this.waiting) return;
    this.waiting = k;
    const write = async () => {
      const ack: HeldAck = { pause: { pid: p.pid, at: p.at }, daemon: deps.pid, at: deps.clock.now() };
      // Never made again if the workspace vanished: a state file does not recreate the state dir.
      await deps.fs.writeFileAtomic(heldFile(deps.stateDir), JSON.stringify(ack) + '\n', { createDir: false });
      this.answered = k;
      deps.logger.log('info', 'pause acknowledged', { pausedBy: p.pid, pausedAt: new Date(p.at).toISOString() });
    };
    const settled = deps.settled();
    this.writing = this.writing
      .then(() => settled)
      .then(write)
      .catch((e: Error) => deps.logger.log('warn', 'pause not acknowledged', { error: e.message }))
      .finally(() => {
        if (this.waiting === k) this.waiting = null;
      });
  }
}
