/**
 * The one reader of Linux `/proc` process facts: stat (parent, name, start time), command line,
 * owner, boot time, and the effective capabilities. Used by the process adapters, the locks and
 * registries (a PID's start time tells a reused PID apart), fanotify and doctor.
 *
 * Small and synchronous: procfs is served from kernel memory, so a synchronous read costs a few
 * microseconds and never waits on a disk; the promise machinery would cost more than the read.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

export const HAS_PROC = process.platform === 'linux';

/** Shared by every read below (synchronous, so never in use twice at once); grown for a long command line. */
let buf = Buffer.allocUnsafe(4096);

/**
 * The text of a procfs file: open, read until end of file into one shared buffer, close. procfs
 * reports a size of 0, so `readFileSync` reads it through a fresh 64 KiB buffer each time, which
 * cost 40–65 µs per file here against 15–20 µs this way; layer 2 reads such files on every
 * decision. Throws as `readFileSync` does (ENOENT, ESRCH, EACCES).
 */
export function readProcText(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string {
  const fd = openSync(path, 'r');
  try {
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, len);
        buf = bigger;
      }
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    const text = buf.toString(encoding, 0, len);
    if (buf.length > 65_536) buf = Buffer.allocUnsafe(4096); // an outsized command line is not kept
    return text;
  } finally {
    closeSync(fd);
  }
}

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

/**
 * Fields of a `/proc/PID/stat` line, or null when it does not parse.
 *
 * @example parseStat('42 (my (odd) name) S 1 42 42 0 -1 4194560 ' + '0 '.repeat(12) + '987 0') // { state: 'S', ppid: 1, comm: 'my (odd) name', startTicks: 987 }
 */
export function parseStat(text: string): ProcStat | null {
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

/** Fields of `/proc/PID/stat`, or null when the process is gone or unreadable. */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readProcText(`/proc/${pid}/stat`));
  } catch {
    return null;
  }
}

/**
 * A process's start time as recorded in locks and registries (`/proc/PID/stat` field 22, clock
 * ticks since boot, as text), or null when unknown (not Linux, no access, gone). Together with the
 * PID it names one process: a PID reused later has another start time.
 */
export function processStartTime(pid: number): string | null {
  const st = readStat(pid);
  return st ? String(st.startTicks) : null;
}

/** Bit of CAP_SYS_ADMIN in the capability sets (linux/capability.h). */
const CAP_SYS_ADMIN_BIT = 21n;

/** Whether CAP_SYS_ADMIN is effective, from the text of `/proc/PID/status` (CapEff, hex); null when absent. */
export function hasCapSysAdmin(statusText: string): boolean | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (!m) return null;
  return ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN_BIT) & 1n) === 1n;
}

/** Whether this process has CAP_SYS_ADMIN effective (false when it cannot be read). */
export function selfHasCapSysAdmin(): boolean {
  try {
    return hasCapSysAdmin(readProcText('/proc/self/status')) === true;
  } catch {
    return false;
  }
}

/**
 * Boot time in epoch milliseconds: now minus `/proc/uptime` (10 ms resolution, the clock that
 * process start times count in). `btime` of `/proc/stat` would be whole seconds, and drifts from
 * the wall clock as NTP corrects it; this is read again on every call.
 */
export function bootTimeMs(): number | null {
  try {
    const up = Number(readProcText('/proc/uptime').split(' ')[0]);
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
    const raw = readProcText(`/proc/${pid}/cmdline`);
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

/**
 * The PID most recently allocated on the machine (the last field of `/proc/loadavg`, in this
 * process's PID namespace), or null when unknown. Unchanged since an earlier reading: no process
 * (or thread) was created in between, short of a whole wrap of the PID space.
 */
export function lastPid(): number | null {
  try {
    const text = readProcText('/proc/loadavg');
    const n = Number(text.slice(text.lastIndexOf(' ') + 1));
    return Number.isInteger(n) ? n : null;
  } catch {
    return null;
  }
}
