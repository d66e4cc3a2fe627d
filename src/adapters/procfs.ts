/**
 * Small synchronous readers of Linux `/proc` for the process adapters. procfs is served from
 * kernel memory, so a synchronous read costs a few microseconds and never waits on a disk; the
 * promise machinery would cost more than the read.
 */
import { readFileSync, statSync } from 'node:fs';

export const HAS_PROC = process.platform === 'linux';

/** USER_HZ: the unit of `/proc/PID/stat` times; 100 on every mainstream Linux architecture. */
const CLOCK_TICKS_PER_S = 100;

export interface ProcStat {
  /** Field 3: `R`, `S`, `D`, `Z` (exited, not yet reaped), …. */
  state: string;
  ppid: number;
  /** `comm`: the executable name, at most 15 characters. */
  comm: string;
  /** Start time in clock ticks after boot (field 22). */
  startTicks: number;
}

/** Fields of `/proc/PID/stat`, or null when the process is gone or unreadable. */
export function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // comm (field 2) is in parentheses and may itself hold spaces and ')': fields resume after the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(startTicks)) return null;
  return { state: rest[0] ?? '', ppid, comm: text.slice(open + 1, close), startTicks };
}

/**
 * Boot time in epoch milliseconds: now minus `/proc/uptime` (10 ms resolution, the clock that
 * process start times count in). `btime` of `/proc/stat` would be whole seconds, and drifts from
 * the wall clock as NTP corrects it; this is read again on every call.
 */
export function bootTimeMs(): number | null {
  try {
    const up = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return Number.isFinite(up) ? Date.now() - up * 1000 : null;
  } catch {
    return null;
  }
}

/** When `pid` started, in epoch milliseconds, or null. */
export function startedAtMs(pid: number): number | null {
  const st = readStat(pid);
  const boot = bootTimeMs();
  if (!st || boot === null) return null;
  return boot + (st.startTicks * 1000) / CLOCK_TICKS_PER_S;
}

/** The full command line, space-joined ('' for kernel threads and zombies), or null when gone. */
export function readCmdline(pid: number): string | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.replace(/\0+$/, '').split('\0').join(' ');
  } catch {
    return null;
  }
}

/** The real owner of `pid` (the uid owning its /proc directory), or null. */
export function ownerUid(pid: number): number | null {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return null;
  }
}
