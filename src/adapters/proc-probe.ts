/**
 * Layer-2 probes of one process. Linux: `/proc/PID/fd` links and `/proc/PID/io`. Elsewhere, open
 * files come from `lsof -p PID` (best effort: slow, ~tens of ms, and absent on some systems) and
 * the write counter is unknown (null), so temporal correlation is off there.
 */
import { readlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import type { ProcProbe } from '../ports/index.js';
import { normalisePath } from '../core/event.js';
import { startedAtMs } from './procfs.js';
import { readStat } from '../util/procfs.js';

const IS_LINUX = process.platform === 'linux';

export function createProcProbe(root: string): ProcProbe {
  let realRoot = root;
  try {
    realRoot = realpathSync(root);
  } catch {
    // Keep the given root; paths under it still normalise.
  }
  const toRel = (abs: string): string | null => {
    const rel = normalisePath(realRoot, abs) ?? (realRoot !== root ? normalisePath(root, abs) : null);
    if (rel === null || rel === '.git' || rel.startsWith('.git/')) return null;
    return rel;
  };
  /** Per PID: its I/O counters when its handles were last listed, and what it held open for writing. */
  const held = new Map<number, HeldFiles>();
  return {
    async openFiles(pid) {
      if (!IS_LINUX) return lsofOpenFiles(pid, toRel);
      return linuxOpenFiles(pid, toRel, held);
    },
    async workingDir(pid) {
      if (!IS_LINUX) return null;
      try {
        return await readlink(`/proc/${pid}/cwd`);
      } catch {
        return null;
      }
    },
    parentOf(pid) {
      return IS_LINUX ? (readStat(pid)?.ppid ?? null) : null;
    },
    async startedAt(pid) {
      return IS_LINUX ? startedAtMs(pid) : null;
    },
    async writeCounter(pid) {
      if (!IS_LINUX) return null;
      try {
        // Read synchronously (procfs is kernel memory, a few µs): the caller's clock reading just
        // before the call then dates the value, which temporal correlation compares with mtimes.
        const io = readFileSync(`/proc/${pid}/io`, 'utf8');
        // write_bytes (pages dirtied towards storage) rather than wchar: wchar also counts writes
        // to pipes, terminals and sockets, so an agent printing to stdout would look like it is
        // writing files. write_bytes is page-granular; core/classify/ownership.ts rounds sizes
        // to pages to match.
        const m = /^write_bytes:\s*(\d+)/m.exec(io);
        return m ? Number(m[1]) : null;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ESRCH' ? 'gone' : null;
      }
    },
  };
}

/** A process's workspace files open for writing, with the I/O counters they were listed under. */
interface HeldFiles {
  io: string;
  /** fd number → link target, for the files in `files`. */
  fds: [fd: string, target: string][];
  files: string[];
}

/** Cached listings kept at most (an entry whose process is gone is dropped when this is reached). */
const HELD_MAX = 256;

/**
 * `rchar wchar syscr syscw` of `/proc/PID/io`: they move with every read or write system call the
 * process (any of its threads) makes, on files, pipes or sockets. null when unreadable.
 */
function ioKey(pid: number): string | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'latin1');
    const end = io.indexOf('\nread_bytes');
    return end > 0 ? io.slice(0, end) : io;
  } catch {
    return null;
  }
}

function linkOf(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/**
 * The workspace files `pid` holds open for writing, from `/proc/PID/fd`, read synchronously
 * (procfs is kernel memory: a readlink costs a few µs, where a promise per fd through the thread
 * pool cost ~15 ms for ten processes of 50 files on a loaded machine). Layer 2 asks on every
 * decision, for every autonomous process, so a listing is reused while the process's I/O counters
 * have not moved since and every fd it listed still points where it did: a process that made no
 * read or write system call since cannot have written a file through a new handle. What this
 * misses, by design: a file opened for writing and then written only through a memory map.
 * Writability comes from the fd link's mode (the kernel sets S_IWUSR for FMODE_WRITE), so
 * fdinfo is never read.
 */
function linuxOpenFiles(pid: number, toRel: (abs: string) => string | null, held: Map<number, HeldFiles>): string[] | null {
  const io = ioKey(pid);
  const last = held.get(pid);
  if (io !== null && last && last.io === io && last.fds.every(([fd, target]) => linkOf(`/proc/${pid}/fd/${fd}`) === target)) {
    return last.files;
  }
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    held.delete(pid);
    return null; // gone, or another user's process without privileges
  }
  const out: HeldFiles = { io: io ?? '', fds: [], files: [] };
  for (const fd of fds) {
    const link = `/proc/${pid}/fd/${fd}`;
    const target = linkOf(link);
    if (target === null || !target.startsWith('/')) continue; // closed since; pipe:[…], socket:[…], anon_inode:…
    const rel = toRel(target.endsWith(' (deleted)') ? target.slice(0, -10) : target);
    if (rel === null) continue;
    try {
      if ((lstatSync(link).mode & 0o200) === 0) continue; // open for reading only
    } catch {
      continue;
    }
    out.fds.push([fd, target]);
    out.files.push(rel);
  }
  if (io !== null) {
    if (held.size >= HELD_MAX) for (const p of held.keys()) if (ioKey(p) === null) held.delete(p);
    if (held.size < HELD_MAX) held.set(pid, out);
  } else held.delete(pid);
  return out.files;
}

function lsofOpenFiles(pid: number, toRel: (abs: string) => string | null): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('lsof', ['-n', '-P', '-Fan', '-p', String(pid)], { timeout: 5_000 }, (err, stdout) => {
      if (err && !stdout) return resolve(null);
      const out: string[] = [];
      let mode = '';
      for (const line of String(stdout).split('\n')) {
        if (line.startsWith('a')) mode = line.slice(1);
        if (line.startsWith('f')) mode = '';
        // Access mode r/w/u: only handles open for writing count.
        if (!line.startsWith('n/') || (mode !== 'w' && mode !== 'u')) continue;
        const rel = toRel(line.slice(1));
        if (rel !== null) out.push(rel);
      }
      resolve(out);
    });
  });
}
