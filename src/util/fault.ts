/**
 * Test-only crash points for the fault-injection suite (test/fault/).
 *
 * The committer calls `faultPoint('before-add')`, `faultPoint('after-add')`,
 * `faultPoint('during-commit')`, `faultPoint('after-ref-update')` and
 * `faultPoint('before-state-write')` at the steps where a crash matters. When the daemon was
 * started with `WINNOW_FAULT=<step>`, reaching that step writes one JSON marker line to stderr and
 * kills the process with SIGKILL — no cleanup, no `finally`, exactly like a power cut or the OOM
 * killer — so the suite can restart it and prove nothing was lost.
 *
 * Production cost: the variable is read once, when this module loads; without it every call is a
 * comparison against `undefined`. A leaf utility: imports nothing of winnow's, usable from any layer.
 *
 * @example
 *   faultPoint('before-add');   // no-op unless WINNOW_FAULT=before-add
 */
import { writeSync } from 'node:fs';

/** The steps the suite knows; any other string is accepted so new points need no change here. */
export type FaultStep = 'batch-taken' | 'after-scan' | 'before-add' | 'after-add' | 'during-commit' | 'after-ref-update' | 'before-state-write';

const raw: string | undefined = process.env.WINNOW_FAULT || undefined;
/**
 * `stop:<step>` stops the process (SIGSTOP) the first time it reaches the step instead of killing
 * it: the suite acts while the daemon is frozen between two steps (a file rewritten between the
 * secret scan and the commit), then sends SIGCONT.
 */
const stopMode = raw?.startsWith('stop:') ?? false;
const armed: string | undefined = stopMode ? raw!.slice(5) : raw;
let stopped = false;

export function faultPoint(step: FaultStep | (string & {})): void {
  if (armed === undefined || armed !== step) return;
  if (stopMode) {
    if (stopped) return;
    stopped = true;
    try {
      writeSync(2, JSON.stringify({ t: new Date().toISOString(), level: 'warn', msg: 'fault', step, pid: process.pid, stop: true }) + '\n');
    } catch {
      // stderr closed: nothing to tell.
    }
    process.kill(process.pid, 'SIGSTOP');
    return;
  }
  // Synchronous write to fd 2: an async stream write would be lost with the process.
  try {
    writeSync(2, JSON.stringify({ t: new Date().toISOString(), level: 'warn', msg: 'fault', step, pid: process.pid }) + '\n');
  } catch {
    // stderr closed: the kill below still proves the point.
  }
  process.kill(process.pid, 'SIGKILL');
}
