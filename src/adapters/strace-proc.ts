/**
 * What strace's producers and attachers ask the system: the strace binary, a process's working
 * directory, whether ptrace may attach (Yama), who traces a process, whether it is alive, and a
 * FIFO for strace's `-o` output.
 */
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { constants as fsConstants, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { findExecutable } from '../util/which.js';

export function procCwd(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

/** The strace binary, or null when it is not installed. */
export function findStrace(explicit?: string): string | null {
  return findExecutable('strace', ['/usr/bin/strace'], explicit);
}

/**
 * Whether this process may attach to its user's processes with ptrace: Yama absent or
 * `ptrace_scope` 0, or root (scope 1 allows only descendants, which `winnow exec` is; 2 needs
 * CAP_SYS_PTRACE; 3 forbids it). Returns the reason when not.
 */
export function ptraceAttachPermitted(): { ok: true } | { ok: false; reason: string } {
  let scope = 0;
  try {
    scope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    scope = 0; // no Yama: classic same-user rules
  }
  if (scope === 0) return { ok: true };
  if (scope < 3 && process.getuid?.() === 0) return { ok: true };
  return { ok: false, reason: `Yama ptrace_scope is ${scope}: attaching to running processes is not permitted (agents started with \`winnow exec\` are still traced)` };
}

/** The PID tracing `pid` (`TracerPid` of /proc/PID/status), 0 when none, null when gone (or a zombie) or unreadable. */
export function tracerOf(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    // A zombie has no tracer any more, and writes nothing: it is gone.
    if (/^State:\s*Z/m.test(text)) return null;
    const m = /^TracerPid:\s*(\d+)/m.exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Makes a FIFO at `path` (mode 0600) and opens its reading end without blocking, as a stream;
 * null when it cannot. strace opens the writing end with `-o PATH`.
 */
export function openFifo(path: string): net.Socket | null {
  rmSync(path, { force: true });
  if (spawnSync('mkfifo', ['-m', '600', path]).status !== 0) return null;
  try {
    return new net.Socket({ fd: openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK), readable: true, writable: false });
  } catch {
    rmSync(path, { force: true });
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
