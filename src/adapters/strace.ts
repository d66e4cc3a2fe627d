/**
 * Process tracing without root (SPEC "Layer 2", rung 2): the autonomous process trees are traced
 * with ptrace through Debian's `strace`, which reports every open-for-write, rename, unlink and
 * truncate with the PID and the path. Every process strace follows descends from an autonomous
 * one (`-f`), so every write it reports is an autonomous write.
 *
 * Two producers, one format:
 * - `winnow exec -- CMD` starts CMD under `strace -f --seccomp-bpf` (only the traced system calls
 *   stop the process) and appends the workspace's writes to `<stateDir>/trace/<pid>.jsonl`;
 * - the daemon attaches (`strace -f -p PID…`) to running processes of the autonomous set where
 *   ptrace is permitted (no Yama or `ptrace_scope` 0, same user, or root).
 * The daemon reads both into one bounded store, `TracedWrites`. Its parts: strace-parse.ts (the
 * arguments and the line parser), strace-attach.ts (the daemon's attachers), strace-proc.ts
 * (the binary, Yama, TracerPid, the FIFOs).
 *
 * strace lines (`-ttt -y -z -qq`) look like
 * `6996  1796199822.280323 openat(AT_FDCWD</tmp/ws>, "a.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</tmp/ws/a.txt>`:
 * PID, epoch seconds with microseconds, the call with `-y` decoding file descriptors (and
 * AT_FDCWD) to paths, the result (`-z`: successful calls only). A call interrupted by another
 * process's line is split into `… <unfinished ...>` and `<... openat resumed>…) = 3</path>`.
 *
 * What tracing cannot follow (those processes stay on a lower rung, visibly): setuid programs
 * (the kernel drops the tracer at exec), processes of another user (without root), processes
 * already traced by someone else (a debugger), and agents in their own sandbox or user
 * namespace (bubblewrap, containers), whose paths are not this workspace's paths.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { appendFile, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LRUCache } from 'lru-cache';
import { growingBound } from '../util/lru.js';
import type { Clock, Logger, ProcessTracer } from '../ports/index.js';
import { createStraceParser, straceArgs, type TracedWrite } from './strace-parse.js';
import { alive, findStrace, openFifo, procCwd, ptraceAttachPermitted, tracerOf } from './strace-proc.js';
import { StraceAttachers, type AttachResult } from './strace-attach.js';

export { TRACED_CALLS, createStraceParser, straceArgs, writtenPaths, type TracedWrite } from './strace-parse.js';
export { findStrace, ptraceAttachPermitted, tracerOf } from './strace-proc.js';
export type { AttachResult } from './strace-attach.js';

/** Declared writes (`winnow hook`), in the trace directory, as `TracedWrite`s with `call: 'declared'`. */
export const DECLARED_FILE = 'declared.jsonl';

export function traceDir(stateDir: string): string {
  return join(stateDir, 'trace');
}

/** One record of a `<stateDir>/trace/<pid>.jsonl` file. */
type FileRecord = TracedWrite;

/**
 * Runs `argv` (from `winnow exec`) under strace, appending the writes under `root` to
 * `<stateDir>/trace/<execPid>.jsonl`. Returns the child (strace, whose child is CMD) and a
 * promise that resolves when every line strace wrote has been filed.
 */
export function spawnTraced(opts: {
  bin: string;
  argv: string[];
  root: string;
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}): { child: ChildProcess; drained: Promise<void> } | null {
  const rootSlash = opts.root.endsWith('/') ? opts.root : opts.root + '/';
  // strace writes its trace into a FIFO that only this process reads: the agent's own stdout and
  // stderr stay its own, and nothing else inherits the trace. (Node's 'pipe' stdio is a socket
  // pair, which strace cannot reopen through /dev/fd.)
  const fifo = opts.file.replace(/\.jsonl$/, '') + '.fifo';
  const input = openFifo(fifo);
  if (!input) return null;
  const child = spawn(opts.bin, [...straceArgs(fifo, { seccomp: true }), '--', ...opts.argv], {
    stdio: 'inherit',
    cwd: opts.cwd,
    env: opts.env,
  });
  const parse = createStraceParser(procCwd);
  // Records wait in `buf` while one append is in flight: a burst of writes costs a few appends,
  // not one each (the traced agent waits on strace, which waits on this reader).
  let buf = '';
  let writing: Promise<void> | null = null;
  const pump = (): Promise<void> => {
    if (writing) return writing;
    if (!buf) return Promise.resolve();
    const data = buf;
    buf = '';
    writing = appendFile(opts.file, data, { mode: 0o600 })
      .catch(() => undefined)
      .then(() => {
        writing = null;
        return pump();
      });
    return writing;
  };
  const drained = new Promise<void>((resolveDrained) => {
    const rl = createInterface({ input, crlfDelay: Infinity });
    rl.on('line', (line) => {
      const w = parse(line);
      if (!w) return;
      const inside = w.paths.filter((p) => p === opts.root || p.startsWith(rootSlash));
      if (!inside.length) return;
      const rec: FileRecord = { ...w, paths: inside };
      buf += JSON.stringify(rec) + '\n';
      void pump();
    });
    const end = () => {
      rmSync(fifo, { force: true });
      void pump().then(resolveDrained);
    };
    rl.once('close', end);
    // strace that never started never opens the FIFO: nothing will close it for us.
    child.once('error', () => input.destroy());
  });
  return { child, drained };
}

export interface TracedWritesOptions {
  root: string;
  stateDir: string;
  clock: Clock;
  logger: Logger;
  /** The strace binary (default: `strace` on PATH). */
  bin?: string;
}

/**
 * The daemon's view of traced writes: what `winnow exec` producers filed and what its own
 * attachers saw, by workspace-relative path, bounded in paths and in time.
 */
export interface TracedWrites {
  /** Reads what producers filed since the last call. Cheap when nothing was added. */
  sync(): Promise<void>;
  /** Traced writes of `path` (workspace-relative) at or after `since` (epoch ms), oldest first. */
  writesOf(path: string, since: number): TracedWrite[];
  /** PIDs of strace processes whose output reaches this store (attachers; exec tracers via `addTracer`). */
  isOurTracer(pid: number): boolean;
  /** Attaches to `pids` (one strace for them all, following their future children). */
  attach(pids: number[]): Promise<AttachResult>;
  /** When `pid` became traced by one of our attachers (epoch ms), or undefined. */
  attachedAt(pid: number): number | undefined;
  stop(): Promise<void>;
}

const PATHS_MAX = 10_000;
const PER_PATH = 8;
const KEEP_MS = 60_000;

export function createTracedWrites(opts: TracedWritesOptions): TracedWrites {
  const rootSlash = opts.root.endsWith('/') ? opts.root : opts.root + '/';
  const dir = traceDir(opts.stateDir);
  const writes = new LRUCache<string, TracedWrite[]>(growingBound(PATHS_MAX));
  const offsets = new Map<string, { offset: number; partial: string }>();

  const file = (w: TracedWrite) => {
    for (const abs of w.paths) {
      if (abs !== opts.root && !abs.startsWith(rootSlash)) continue;
      const rel = abs.slice(rootSlash.length);
      if (!rel || rel === '.git' || rel.startsWith('.git/')) continue;
      let list = writes.get(rel);
      if (!list) writes.set(rel, (list = []));
      const last = list[list.length - 1];
      if (last && last.pid === w.pid && (last.call === 'declared') === (w.call === 'declared') && last.at <= w.at) last.at = w.at;
      else list.push({ ...w, paths: [abs] });
      if (list.length > PER_PATH) list.splice(0, list.length - PER_PATH);
    }
  };

  async function readFileFrom(name: string): Promise<void> {
    const path = join(dir, name);
    const st = offsets.get(name) ?? { offset: 0, partial: '' };
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      offsets.delete(name);
      return;
    }
    if (size <= st.offset) return;
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(size - st.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, st.offset);
      st.offset += bytesRead;
      const text = st.partial + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split('\n');
      st.partial = lines.pop() ?? '';
      for (const l of lines) {
        if (!l) continue;
        try {
          file(JSON.parse(l) as TracedWrite);
        } catch {
          // a torn line from a producer killed mid-write
        }
      }
    } finally {
      await fh.close();
    }
    offsets.set(name, st);
    // A producer that is gone has nothing more to say: its file is removed once read.
    const pid = Number(name.replace(/\.jsonl$/, ''));
    if (Number.isFinite(pid) && !alive(pid)) {
      await unlink(path).catch(() => undefined);
      offsets.delete(name);
    }
  }

  const attachers = new StraceAttachers({ dir, clock: opts.clock, logger: opts.logger, bin: opts.bin, onWrite: file });

  return {
    async sync() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      await Promise.all(names.filter((n) => n.endsWith('.jsonl')).map((n) => readFileFrom(n).catch(() => undefined)));
    },
    writesOf(path, since) {
      const list = writes.get(path);
      if (!list) return [];
      const floor = Math.max(since, opts.clock.now() - KEEP_MS);
      return list.filter((w) => w.at >= floor);
    },
    isOurTracer: (pid) => attachers.isOurTracer(pid),
    attachedAt: (pid) => attachers.attachedAt(pid),
    attach: (pids) => attachers.attach(pids),
    stop: () => attachers.stop(),
  };
}

/**
 * The `ProcessTracer` port: the store of traced and declared writes, plus attaching. Setting
 * `WINNOW_PTRACE_ATTACH=0` in the daemon's environment refuses attaching as Yama's
 * `ptrace_scope` 1 would (tests and `winnow bench --evidence exec` use it).
 */
export function createProcessTracer(opts: TracedWritesOptions & { env?: NodeJS.ProcessEnv }): ProcessTracer {
  const store = createTracedWrites(opts);
  const env = opts.env ?? process.env;
  return {
    sync: () => store.sync(),
    writesOf: (path, since) => store.writesOf(path, since),
    tracerOf,
    isOurTracer: (pid) => store.isOurTracer(pid),
    otherUser(pid) {
      const me = process.getuid?.();
      if (me === undefined || me === 0) return false;
      try {
        return statSync(`/proc/${pid}`).uid !== me;
      } catch {
        return false;
      }
    },
    available() {
      if (process.platform !== 'linux') return { ok: false, reason: 'process tracing with strace exists only on Linux' };
      return findStrace(opts.bin) ? { ok: true } : { ok: false, reason: 'strace is not installed (apt install strace)' };
    },
    attachPermitted() {
      if (env.WINNOW_PTRACE_ATTACH === '0') return { ok: false, reason: 'attaching is turned off (WINNOW_PTRACE_ATTACH=0)' };
      return ptraceAttachPermitted();
    },
    attach: (pids) => store.attach(pids),
    stop: () => store.stop(),
  };
}
