import { lstat, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { Fs } from '../../ports/index.js';

/**
 * The pause signal `<state>/pause`: lines PID, ISO time, reason. Anyone may write it (winnow pause,
 * the syncer, another tool); while present and unexpired, commits and syncs wait.
 */
export interface PauseSignal {
  pid: number;
  at: number;
  reason: string;
  /** When it stops counting: its time + pause.maxMs, or an explicit `--for` end. */
  expiresAt: number;
}

export function pauseFile(stateDir: string): string {
  return join(stateDir, 'pause');
}

/** Pure: parses the file text. Malformed files still pause (someone wanted a pause) from `mtime`. */
export function parsePause(text: string, mtimeMs: number, maxMs: number): PauseSignal {
  const [pidLine = '', atLine = '', ...rest] = text.split('\n');
  const pid = Number.parseInt(pidLine, 10);
  const parsedAt = Date.parse(atLine.trim());
  const at = Number.isFinite(parsedAt) ? parsedAt : mtimeMs;
  let reason = rest.join('\n').trim();
  let expiresAt = at + maxMs;
  // Optional explicit end: a line `until ISO` written by `winnow pause --for`.
  const m = /^until (\S+)$/m.exec(reason);
  if (m) {
    const until = Date.parse(m[1]!);
    if (Number.isFinite(until)) expiresAt = until;
    reason = reason.replace(m[0], '').trim();
  }
  return { pid: Number.isFinite(pid) ? pid : -1, at, reason: reason || 'no reason given', expiresAt };
}

export function formatPause(p: { pid: number; at: number; reason: string; until?: number }): string {
  return `${p.pid}\n${new Date(p.at).toISOString()}\n${p.reason}${p.until ? `\nuntil ${new Date(p.until).toISOString()}` : ''}\n`;
}

type PauseReader = Pick<Fs, 'stat' | 'readFile'>;

/** The real disk, for callers without an `Fs` port (the CLI, the syncer). */
const disk: PauseReader = {
  stat: async (abs) => {
    const st = await lstat(abs).catch(() => null);
    return st && { size: st.size, mtimeMs: st.mtimeMs, isFile: st.isFile(), isDirectory: st.isDirectory(), isSymlink: st.isSymbolicLink(), isSpecial: false };
  },
  readFile: (abs) => readFile(abs),
};

/**
 * The active pause, or null when absent or expired. Read through the `Fs` port: the daemon passes
 * its own, so a component test's fake clock and fake disk see the same pause.
 */
export async function readPause(stateDir: string, now: number, maxMs: number, fs: PauseReader = disk): Promise<PauseSignal | null> {
  const file = pauseFile(stateDir);
  let text: string;
  let mtimeMs: number;
  try {
    const st = await fs.stat(file);
    if (!st) return null;
    mtimeMs = st.mtimeMs;
    text = (await fs.readFile(file)).toString('utf8');
  } catch {
    return null;
  }
  const p = parsePause(text, mtimeMs, maxMs);
  return now < p.expiresAt ? p : null;
}

export async function raisePause(stateDir: string, p: { pid: number; at: number; reason: string; until?: number }): Promise<void> {
  await writeFileAtomic(pauseFile(stateDir), formatPause(p));
}

/** Drops the pause. With `onlyPid`, only a pause raised by that PID (the syncer drops its own). */
export async function dropPause(stateDir: string, onlyPid?: number): Promise<boolean> {
  const file = pauseFile(stateDir);
  if (onlyPid !== undefined) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) return false;
    if (parsePause(text, 0, 0).pid !== onlyPid) return false;
  }
  try {
    await unlink(file);
    return true;
  } catch {
    return false;
  }
}
