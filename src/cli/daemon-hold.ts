/**
 * After restore or squash raise the pause, the running daemon's answer (daemon/lifecycle/pause-ack.ts):
 * a commit it already had under way moves HEAD first and the person's index a moment later, and
 * only once both are done may the command look at either. A short poll of one small file: this
 * is a command that runs for a moment, not a daemon.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { runningDaemon } from './daemon-info.js';
import { messages } from './messages.js';
import { answers, heldFile, parseHeld, HELD_FILE } from '../daemon/lifecycle/pause-ack.js';
import type { Config } from '../core/config/defaults.js';

/** held.json is read this often: the answer usually comes within a few ms of the pause. */
const POLL_MS = 20;

/**
 * How long a commit in flight may take before the command goes on without the answer: well under
 * 2 s even at 100k files (the private index's read-tree, 1–1.6 s, is its slowest step), with room
 * for a loaded machine. A daemon that takes longer is hung, and the person wants their restore.
 */
const COMMIT_MS = 5_000;

/** A person notices half a second: from then on they are told what the command waits for. */
const NOTE_AFTER_MS = 500;

/** The wait's bound: a message command writes the commit's message within its own timeout. */
export function holdBoundMs(config: Config): number {
  return COMMIT_MS + (config.commit.messageCommand ? config.commit.messageTimeoutMs : 0);
}

export type HoldOutcome = 'held' | 'no-daemon' | 'old-daemon' | 'timed-out';

/**
 * Waits until the daemon running on the workspace (if any) answers `pause` in held.json. Without
 * an answer in `boundMs` it goes on as winnow did before there was one, and says so: restore and
 * squash move the branch with a compare-and-swap, so the worst left is a path refused as staged
 * (nothing changed), which a person can retry; a command that refused to run would leave them
 * with no restore while their daemon is stuck.
 */
export async function awaitDaemonHeld(
  stateDir: string,
  pause: { pid: number; at: number },
  opts: { boundMs: number; noteAfterMs?: number; say(line: string): void },
): Promise<HoldOutcome> {
  const daemon = await runningDaemon(stateDir);
  if (!daemon) return 'no-daemon';
  if (daemon.held !== HELD_FILE) {
    opts.say(messages.daemonTooOldToHold(daemon.pid));
    return 'old-daemon';
  }
  const start = Date.now();
  let noted = false;
  for (;;) {
    const ack = parseHeld(await readFile(heldFile(stateDir), 'utf8').catch(() => ''));
    if (answers(ack, pause)) return 'held';
    const waited = Date.now() - start;
    if (waited >= opts.boundMs) {
      opts.say(messages.daemonNotHeld(daemon.pid, opts.boundMs));
      return 'timed-out';
    }
    if (!noted && waited >= (opts.noteAfterMs ?? NOTE_AFTER_MS)) {
      noted = true;
      opts.say(messages.waitingForDaemon(daemon.pid));
    }
    await sleep(POLL_MS);
    // Stopped meanwhile (SIGTERM finishes the commit in flight first): nobody is left to answer.
    if ((await runningDaemon(stateDir))?.pid !== daemon.pid) return 'no-daemon';
  }
}
