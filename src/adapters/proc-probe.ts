/**
 * Layer-2 probes of one process. Linux: `/proc/PID/fd` links and `/proc/PID/io`. Elsewhere, open
 * files come from `lsof -p PID` (best effort: slow, ~tens of ms, and absent on some systems) and
 * the write counter is unknown (null), so temporal correlation is off there.
 */
import { readlink } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync } from 'node:fs';
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
  const io = IS_LINUX ? new IoReader() : null;
  return {
    async openFiles(pid, only) {
      if (!io) return lsofOpenFiles(pid, toRel);
      return linuxOpenFiles(pid, toRel, held, io, only);
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
      if (!io) return null;
      // Read synchronously (procfs is kernel memory, a few µs): the caller's clock reading just
      // before the call then dates the value, which temporal correlation compares with mtimes.
      const text = io.read(pid);
      if (text === GONE) return 'gone';
      if (text === null) return null;
      // write_bytes (pages dirtied towards storage) rather than wchar: wchar also counts writes
      // to pipes, terminals and sockets, so an agent printing to stdout would look like it is
      // writing files. write_bytes is page-granular; core/classify/ownership.ts rounds sizes
      // to pages to match.
      const m = /^write_bytes:\s*(\d+)/m.exec(text);
      return m ? Number(m[1]) : null;
    },
    round() {
      io?.round();
    },
    close() {
      io?.close();
      held.clear();
    },
  };
}

/** Kept-open `/proc/PID/io` descriptors, at most this many (the autonomous set is rarely a tenth of it). */
const IO_FDS_MAX = 256;

/**
 * `/proc/PID/io` of the processes layer 2 reads on every decision, through a descriptor kept open
 * per process and read with `pread` at offset 0: 5–7 µs a read, where `readFileSync` (open, fstat,
 * two reads, close) cost 60–75 µs on this machine. A descriptor names one process, not a PID: once
 * that process is gone its reads fail with ESRCH, and the PID is opened again (it may have been
 * reused), so the answers are those of a read by path.
 */
class IoReader {
  private readonly fds = new Map<number, number>();
  private readonly buf = Buffer.alloc(1024);
  /** What `read` returned per PID since the round began; null until a caller uses rounds. */
  private inRound: Map<number, string> | null = null;

  round(): void {
    if (this.inRound) this.inRound.clear();
    else this.inRound = new Map();
  }

  /**
   * The counters read already in this round (by `writeCounter`, before any listing of handles that
   * uses them), else read now: a listing compared with counters read before it is never newer
   * than they say.
   */
  readInRound(pid: number): string | null | typeof GONE {
    return this.inRound?.get(pid) ?? this.read(pid);
  }

  /** The text of `/proc/PID/io`; GONE when no such process; null when it cannot be read (another user's). */
  read(pid: number): string | null | typeof GONE {
    const text = this.readNow(pid);
    if (typeof text === 'string') this.inRound?.set(pid, text);
    else this.inRound?.delete(pid);
    return text;
  }

  private readNow(pid: number): string | null | typeof GONE {
    const kept = this.fds.get(pid);
    if (kept !== undefined) {
      const text = this.pread(kept);
      if (typeof text === 'string') return text;
      this.drop(pid); // that process is gone; the PID may name another one now
    }
    let fd: number;
    try {
      fd = openSync(`/proc/${pid}/io`, 'r');
    } catch (e) {
      return gone(e) ? GONE : null;
    }
    const text = this.pread(fd);
    if (typeof text !== 'string') {
      closeSync(fd);
      return text === FAILED ? null : GONE;
    }
    if (this.fds.size >= IO_FDS_MAX) {
      // The oldest kept descriptor goes (Map order: insertion); it is opened again when needed.
      const [oldest] = this.fds.keys();
      if (oldest !== undefined) this.drop(oldest);
    }
    this.fds.set(pid, fd);
    return text;
  }

  close(): void {
    for (const pid of [...this.fds.keys()]) this.drop(pid);
    this.inRound = null;
  }

  /** The file's text, or GONE / FAILED (numbers, so that no text is taken for them). */
  private pread(fd: number): string | typeof GONE | typeof FAILED {
    try {
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch (e) {
      return gone(e) ? GONE : FAILED;
    }
  }

  private drop(pid: number): void {
    const fd = this.fds.get(pid);
    this.fds.delete(pid);
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to release.
    }
  }
}

const GONE = 0;
const FAILED = 1;

function gone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** A process's workspace files open for writing, with the I/O counters they were listed under. */
interface HeldFiles {
  io: string;
  /** The workspace files it held open for writing: fd number, link target, workspace path. */
  fds: [fd: string, target: string, rel: string][];
}

/** Cached listings kept at most (an entry whose process is gone is dropped when this is reached). */
const HELD_MAX = 256;

/**
 * `rchar wchar syscr syscw` of `/proc/PID/io`: they move with every read or write system call the
 * process (any of its threads) makes, on files, pipes or sockets. null when unreadable.
 */
function ioKey(io: IoReader, pid: number): string | null {
  const text = io.readInRound(pid);
  if (typeof text !== 'string') return null;
  const end = text.indexOf('\nread_bytes');
  return end > 0 ? text.slice(0, end) : text;
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
 * have not moved since and the fds it listed still point where they did: a process that made no
 * read or write system call since cannot have written a file through a new handle. With `only`
 * (the paths being decided), a reused listing checks just the fds of those paths, so a quiet
 * agent costs one read of its counters whatever it holds. What this misses, by design: a file
 * opened for writing and then written only through a memory map. Writability comes from the fd
 * link's mode (the kernel sets S_IWUSR for FMODE_WRITE), so fdinfo is never read.
 */
function linuxOpenFiles(
  pid: number,
  toRel: (abs: string) => string | null,
  held: Map<number, HeldFiles>,
  reader: IoReader,
  only: ReadonlySet<string> | undefined,
): string[] | null {
  const io = ioKey(reader, pid);
  const last = held.get(pid);
  if (io !== null && last && last.io === io) {
    const still = (e: [string, string, string]) => linkOf(`/proc/${pid}/fd/${e[0]}`) === e[1];
    const asked = only ? last.fds.filter((e) => only.has(e[2])) : last.fds;
    if (asked.every(still)) return asked.map((e) => e[2]);
  }
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    held.delete(pid);
    return null; // gone, or another user's process without privileges
  }
  const out: HeldFiles = { io: io ?? '', fds: [] };
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
    out.fds.push([fd, target, rel]);
  }
  if (io !== null) {
    if (held.size >= HELD_MAX) for (const p of held.keys()) if (ioKey(reader, p) === null) held.delete(p);
    if (held.size < HELD_MAX) held.set(pid, out);
  } else held.delete(pid);
  const files = out.fds.map((e) => e[2]);
  return only ? files.filter((f) => only.has(f)) : files;
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
