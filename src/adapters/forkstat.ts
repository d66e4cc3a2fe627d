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
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../ports/index.js';
import { findExecutable } from '../util/which.js';

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
  stop(): Promise<void>;
}

const LINE = /^\S+\s+(fork|exec|exit|clone)\s+(\d+)\s+(parent|child|thread)?\s*(.*)$/;
/** PIDs remembered: a busy machine forks thousands of processes a minute. */
const MAX = 65_536;
const READY_WAIT_MS = 3_000;

export function parseForkstatLine(line: string): { event: string; pid: number; role: string | null; rest: string } | null {
  const m = LINE.exec(line);
  if (!m) return null;
  return { event: m[1]!, pid: Number(m[2]), role: m[3] ?? null, rest: m[4]!.trim() };
}

function findForkstat(): string | null {
  return findExecutable('forkstat', ['/usr/bin/forkstat', '/usr/sbin/forkstat']);
}

function procParent(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isFinite(ppid) ? ppid : null;
  } catch {
    return null;
  }
}

export function createLineage(opts: { logger: Logger; bin?: string }): Lineage {
  const map = new LRUCache<number, LineageEntry>({ max: MAX });
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

  return {
    async start() {
      const bin = opts.bin ?? findForkstat();
      if (!bin) return { active: false, reason: 'forkstat is not installed (apt install forkstat)' };
      if (process.getuid?.() !== 0) return { active: false, reason: 'the process-events connector needs root' };
      stopping = false;
      const c = spawn(bin, ['-l', '-e', 'fork,exec,exit'], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let err = '';
      c.stderr!.setEncoding('utf8');
      c.stderr!.on('data', (d: string) => {
        err = (err + d).slice(-1000);
      });
      createInterface({ input: c.stdout!, crlfDelay: Infinity }).on('line', feed);
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
      const probe = spawn('true', [], { stdio: 'ignore' });
      probe.on('error', () => undefined);
      const early = await Promise.race([seen, exited.then((why) => why)]);
      if (early === true) {
        ok = true;
        return { active: true };
      }
      c.kill('SIGTERM');
      child = null;
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
    async stop() {
      stopping = true;
      ok = false;
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
}
