/**
 * Process lineage from the kernel's process-events connector, through Debian's `forkstat`
 * (`forkstat -l -e fork,exec,exit`; root or CAP_NET_ADMIN, like fanotify needs root). Every fork
 * is reported as it happens, with parent and child PIDs, so a writer that fanotify names after it
 * has exited and been reaped (an agent's `sh -c 'printf … > file'`) is still resolved to its
 * ancestors. The map is bounded (lru-cache): a PID forgotten, or never seen, is unknown.
 *
 * Output lines (after a `Time     Event   PID Info   Duration Process` header, repeated):
 *   `08:26:34 fork  10152 parent          /usr/bin/node …`   then, at once,
 *   `08:26:34 fork  10318 child           /usr/bin/node …`
 *   `08:26:34 exec  10318                 git update-ref …`
 *   `08:26:34 exit  10318      0   0.017s git update-ref …`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket, type SocketConstructorOpts } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { LRUCache } from 'lru-cache';
import { growingBound } from '../util/lru.js';
import type { Logger } from '../ports/index.js';
import { findExecutable } from '../util/which.js';
import { readStat } from './procfs.js';

export interface LineageEntry {
  ppid: number;
  /** Command line at the last exec (or the parent's, inherited at fork). */
  cmd: string;
  exited: boolean;
}

export interface Lineage {
  start(): Promise<{ active: true } | { active: false; reason: string }>;
  active(): boolean;
  /** Parent chain of `pid`, nearest first, from the recorded forks; [] when unknown. */
  ancestorsOf(pid: number): number[];
  /** What is recorded of `pid`, if anything. */
  entry(pid: number): LineageEntry | undefined;
  /** Feeds one line of forkstat output (exposed for tests). */
  feed(line: string): void;
  /** Reads what forkstat has written and is still waiting in the pipe (before a decision looks up writers). */
  drain(): Promise<void>;
  /** Reads of forkstat's output and lines fed so far (what idle costs is the reads). */
  counts(): { reads: number; lines: number };
  stop(): Promise<void>;
}

const LINE = /^\S+\s+(fork|exec|exit|clone)\s+(\d+)\s+(parent|child|thread)?\s*(.*)$/;
/** PIDs remembered: a busy machine forks thousands of processes a minute. */
const MAX = 65_536;
/**
 * How often start() forks a probe until forkstat reports one. forkstat listens 50–150 ms after it
 * is spawned (load 9); at 200 ms the third probe was the first seen and start-up waited ~450 ms.
 */
const PROBE_EVERY_MS = 40;
const READY_WAIT_MS = 3_000;
/**
 * After a read of forkstat's output, the pipe is left unread this long. forkstat writes a line at
 * a time, and every wakeup of the daemon to read one cost ~0.2 ms of CPU on the measured machine:
 * with other sessions forking test suites (30–170 reads a second) that was all of the idle
 * daemon's 0.6–2.8% at 100k files. Batched, a busy machine wakes it at most 1000/BATCH_MS times a
 * second and a quiet one never (no timer is armed without output); a decision first reads what is
 * waiting (drain()). The kernel's pipe holds 64 KiB, ~700 lines: 2,800 forks a second.
 */
export const BATCH_MS = 250;

/**
 * A FIFO whose reading end can be paused for real: a child's stdout pipe keeps being read into
 * the stream's buffer while paused, a socket made with `onread` stops reading (readStop). The FIFO
 * is unlinked once both ends are open. Null when it cannot be made (no mkfifo): the plain pipe.
 */
async function openFifo(): Promise<{ read: number; write: number } | null> {
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'winnow-lineage-'));
    const path = join(dir, 'forkstat');
    const made = await new Promise<boolean>((resolve) => {
      const c = spawn('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
      c.once('error', () => resolve(false));
      c.once('exit', (code) => resolve(code === 0));
    });
    if (!made) return null;
    const read = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(path, constants.O_WRONLY);
    return { read, write };
  } catch {
    return null;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

export function parseForkstatLine(line: string): { event: string; pid: number; role: string | null; rest: string } | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { event: m[1]!, pid: Number(m[2]), role: m[3] ?? null, rest: m[4]!.trim() };
}

function findForkstat(): string | null {
  return findExecutable('forkstat', ['/usr/bin/forkstat', '/usr/sbin/forkstat']);
}

/** The parent from /proc (the one /proc module parses stat); null when gone. */
function procParent(pid: number): number | null {
  return readStat(pid)?.ppid ?? null;
}

/** Lines from a FIFO's reading end, read at most once per BATCH_MS while output keeps coming. */
class BatchedLines {
  reads = 0;
  lines = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly sock: Socket;

  constructor(fd: number, feed: (line: string) => void) {
    const decoder = new StringDecoder('utf8');
    let partial = '';
    // `onread` is read by the Socket constructor (node's lib/net.js) though @types/node lists it for connect() only.
    this.sock = new Socket({
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(64 * 1024),
        callback: (n: number, buf: Uint8Array) => {
          const lines = (partial + decoder.write(Buffer.from(buf.buffer, buf.byteOffset, n))).split('\n');
          partial = lines.pop()!;
          this.reads++;
          this.lines += lines.length;
          for (const line of lines) feed(line);
          this.rest();
          return true;
        },
      },
    } as SocketConstructorOpts);
    this.sock.on('error', () => undefined);
  }

  /** Lets the pipe fill for a while: the next read takes everything written meanwhile. */
  private rest(): void {
    if (this.timer !== null || this.closed) return;
    this.sock.pause();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sock.resume();
    }, BATCH_MS);
    this.timer.unref();
  }

  /** Reads what waits in the pipe now. */
  async drain(): Promise<void> {
    if (this.timer === null || this.closed) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.sock.resume();
    // The pipe is polled in the next turn of the event loop; the second check phase comes after it.
    for (let i = 0; i < 2; i++) await new Promise<void>((r) => setImmediate(r));
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sock.destroy();
  }
}

export function createLineage(opts: { logger: Logger; bin?: string }): Lineage {
  const map = new LRUCache<number, LineageEntry>(growingBound(MAX));
  let pendingParent: { pid: number; cmd: string } | null = null;
  let child: ChildProcess | null = null;
  let ok = false;
  let stopping = false;
  let firstLine: (() => void) | null = null;

  const feed = (line: string) => {
    const r = parseForkstatLine(line);
    if (!r) return;
    firstLine?.();
    if (r.event === 'fork') {
      if (r.role === 'parent') pendingParent = { pid: r.pid, cmd: r.rest };
      else if (r.role === 'child' && pendingParent) {
        map.set(r.pid, { ppid: pendingParent.pid, cmd: r.rest || pendingParent.cmd, exited: false });
        pendingParent = null;
      }
      return;
    }
    if (r.event === 'exec') {
      const e = map.get(r.pid);
      if (e) e.cmd = r.rest;
      else {
        const ppid = procParent(r.pid);
        if (ppid !== null) map.set(r.pid, { ppid, cmd: r.rest, exited: false });
      }
      return;
    }
    if (r.event === 'exit') {
      const e = map.get(r.pid);
      if (e) e.exited = true;
    }
  };

  /** forkstat's output through the FIFO, read in batches; null while there is none (or the plain pipe). */
  let reader: BatchedLines | null = null;
  /** Lines read through the plain pipe (no FIFO), and its reads. */
  const plain = { reads: 0, lines: 0 };
  const closeReader = () => {
    reader?.close();
    reader = null;
  };

  return {
    async start() {
      const bin = opts.bin ?? findForkstat();
      if (!bin) return { active: false, reason: 'forkstat is not installed (apt install forkstat)' };
      if (process.getuid?.() !== 0) return { active: false, reason: 'the process-events connector needs root' };
      stopping = false;
      const fifo = await openFifo();
      const c = spawn(bin, ['-l', '-e', 'fork,exec,exit'], { stdio: ['ignore', fifo ? fifo.write : 'pipe', 'pipe'] });
      child = c;
      let err = '';
      c.stderr!.setEncoding('utf8');
      c.stderr!.on('data', (d: string) => {
        err = (err + d).slice(-1000);
      });
      if (fifo) {
        closeSync(fifo.write);
        reader = new BatchedLines(fifo.read, feed);
      } else {
        c.stdout!.on('data', () => plain.reads++);
        createInterface({ input: c.stdout!, crlfDelay: Infinity }).on('line', (line) => {
          plain.lines++;
          feed(line);
        });
      }
      const exited = new Promise<string>((resolve) => {
        c.once('error', (e) => resolve(e.message));
        c.once('exit', (code, sig) => resolve(`forkstat exited (${sig ?? `code ${code}`})${err.trim() ? `: ${err.trim().split('\n').pop()}` : ''}`));
      });
      void exited.then((why) => {
        ok = false;
        if (!stopping) opts.logger.log('warn', 'process lineage (forkstat) stopped; writers that exited before they were seen are unknown', { reason: why });
      });
      // Ready once it reports an event: our own probe child guarantees one.
      const seen = new Promise<boolean>((resolve) => {
        firstLine = () => {
          firstLine = null;
          resolve(true);
        };
        setTimeout(() => resolve(false), READY_WAIT_MS).unref();
      });
      // forkstat subscribes to the connector a moment after it starts: a fork before that is never
      // reported, so probe until one is (on a quiet machine nothing else forks).
      const probeOnce = () => spawn('true', [], { stdio: 'ignore' }).on('error', () => undefined);
      probeOnce();
      const prober = setInterval(probeOnce, PROBE_EVERY_MS);
      const early = await Promise.race([seen, exited.then((why) => why)]);
      clearInterval(prober);
      if (early === true) {
        ok = true;
        return { active: true };
      }
      c.kill('SIGTERM');
      child = null;
      closeReader();
      return { active: false, reason: typeof early === 'string' ? early : 'forkstat reported no events within 3 s' };
    },
    active: () => ok,
    ancestorsOf(pid) {
      const chain: number[] = [];
      let p = pid;
      for (let i = 0; i < 64; i++) {
        const e = map.get(p);
        const parent = e ? e.ppid : i === 0 ? null : procParent(p);
        if (parent === null || parent <= 0) break;
        chain.push(parent);
        if (parent === 1) break;
        p = parent;
      }
      return chain;
    },
    entry: (pid) => map.get(pid),
    feed,
    counts: () => (reader ? { reads: reader.reads, lines: reader.lines } : { ...plain }),
    drain: async () => reader?.drain(),
    async stop() {
      stopping = true;
      ok = false;
      const c = child;
      child = null;
      closeReader();
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
}
