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
 * The daemon reads both into one bounded store, `TracedWrites`.
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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { constants as fsConstants, openSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { appendFile, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join, isAbsolute, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { LRUCache } from 'lru-cache';
import type { Clock, Logger, ProcessTracer } from '../ports/index.js';
import { findExecutable } from '../util/which.js';

/** System calls that create, replace, truncate, rename or remove files (x86_64 and arm64 names). */
export const TRACED_CALLS = [
  'open', 'openat', 'openat2', 'creat', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat',
  'truncate', 'ftruncate', 'link', 'linkat', 'symlink', 'symlinkat', 'mkdir', 'mkdirat', 'rmdir',
] as const;

/** One write a traced (hence autonomous) process made. Paths are absolute. */
export interface TracedWrite {
  pid: number;
  /** Epoch ms. */
  at: number;
  /** The system call, or `declared` for a write declared through `winnow hook`. */
  call: string;
  paths: string[];
  /** Who declared it (declared writes only). */
  source?: string;
}

/** The strace arguments shared by both producers, up to (not including) `-p …` or `-- CMD`. */
export function straceArgs(out: string, opts: { seccomp: boolean }): string[] {
  return [
    '-f', // follow every child: short-lived `sh -c`, xargs, find -exec
    ...(opts.seccomp ? ['--seccomp-bpf'] : []), // only the traced calls stop the process
    '-qq', // no attach/exit chatter
    '-ttt', // epoch timestamps
    '-y', // file descriptors (and AT_FDCWD) decoded to paths
    '-z', // successful calls only
    '-s', '4096', // whole paths
    '-e', `trace=${TRACED_CALLS.join(',')}`,
    '-e', 'signal=none',
    '-o', out,
  ];
}

const HEAD = /^(\d+)\s+(\d+\.\d+) (.*)$/;
const CALL = /^([a-z0-9_]+)\((.*)\) += (-?\d+)(?:<(.*)>)?/s;
const UNFINISHED = ' <unfinished ...>';
const RESUMED = /^<\.\.\. ([a-z0-9_]+) resumed>(.*)$/s;

/** Parses strace's string literal at `s[i] === '"'`; returns the text and the index after it. */
function readQuoted(s: string, i: number): [string, number] {
  let out = '';
  let j = i + 1;
  const bytes: number[] = [];
  const flush = () => {
    if (bytes.length) out += Buffer.from(bytes.splice(0)).toString('utf8');
  };
  while (j < s.length && s[j] !== '"') {
    if (s[j] === '\\') {
      const c = s[j + 1]!;
      if (c === 'x') {
        bytes.push(parseInt(s.slice(j + 2, j + 4), 16));
        j += 4;
        continue;
      }
      if (c >= '0' && c <= '7') {
        let k = j + 1;
        let oct = '';
        while (k < s.length && oct.length < 3 && s[k]! >= '0' && s[k]! <= '7') oct += s[k++];
        bytes.push(parseInt(oct, 8));
        j = k;
        continue;
      }
      flush();
      out += c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c === 'v' ? '\v' : c === 'f' ? '\f' : c;
      j += 2;
      continue;
    }
    flush();
    out += s[j];
    j++;
  }
  flush();
  // strace marks a truncated string with `...` after the quote; -s 4096 keeps paths whole.
  return [out, j + 1];
}

interface Arg {
  /** A string literal. */
  str?: string;
  /** The path of a decoded file descriptor (`3</a/b>`, `AT_FDCWD</a>`). */
  fdPath?: string;
  raw: string;
}

/** Splits the top-level arguments of a call. */
function splitArgs(s: string): Arg[] {
  const args: Arg[] = [];
  let cur: Arg = { raw: '' };
  let depth = 0;
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '"') {
      const [text, next] = readQuoted(s, i);
      cur.str ??= text;
      cur.raw += s.slice(i, next);
      i = next;
      continue;
    }
    if (c === '<' && depth === 0 && cur.fdPath === undefined && /(?:\d|AT_FDCWD)$/.test(cur.raw.trim())) {
      const end = s.indexOf('>', i);
      if (end > 0) {
        cur.fdPath = s.slice(i + 1, end);
        cur.raw += s.slice(i, end + 1);
        i = end + 1;
        continue;
      }
    }
    if (c === '{' || c === '[' || c === '(') depth++;
    if (c === '}' || c === ']' || c === ')') depth--;
    if (c === ',' && depth === 0) {
      args.push(cur);
      cur = { raw: '' };
      i++;
      while (s[i] === ' ') i++;
      continue;
    }
    cur.raw += c;
    i++;
  }
  if (cur.raw.length) args.push(cur);
  return args;
}

/** Whether open flags ask to write (or create or truncate). */
function writesFlags(flags: string): boolean {
  return /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(flags);
}

/** `dirfd, "path"` → absolute path, or null when the directory is unknown. */
function atPath(dir: Arg | undefined, p: Arg | undefined, cwd: string | null): string | null {
  if (!p || p.str === undefined) return null;
  if (isAbsolute(p.str)) return p.str;
  const base = dir?.fdPath ?? cwd;
  return base ? resolvePath(base, p.str) : null;
}

/**
 * The paths one call wrote, resolved to absolute paths; `cwdOf` gives a process's working
 * directory for the old calls that take no directory descriptor (`rename`, `mkdir`). Null for a
 * call that wrote nothing (a read-only open) or that cannot be resolved.
 */
export function writtenPaths(call: string, argText: string, ret: number, retPath: string | undefined, cwd: string | null): string[] | null {
  if (ret < 0) return null;
  const a = splitArgs(argText);
  const rel = (i: number) => atPath(undefined, a[i], cwd);
  const at = (d: number, p: number) => atPath(a[d], a[p], cwd);
  const keep = (...ps: (string | null)[]) => {
    const out = ps.filter((p): p is string => p !== null);
    return out.length ? out : null;
  };
  switch (call) {
    case 'open':
      return writesFlags(a[1]?.raw ?? '') ? keep(retPath ?? rel(0)) : null;
    case 'openat':
      return writesFlags(a[2]?.raw ?? '') ? keep(retPath ?? at(0, 1)) : null;
    case 'openat2':
      return writesFlags(a[2]?.raw ?? '') ? keep(retPath ?? at(0, 1)) : null;
    case 'creat':
      return keep(retPath ?? rel(0));
    case 'rename':
    case 'link':
      return keep(rel(0), rel(1));
    case 'renameat':
    case 'renameat2':
    case 'linkat':
      return keep(at(0, 1), at(2, 3));
    case 'symlink':
      return keep(rel(1));
    case 'symlinkat':
      return keep(atPath(a[1], a[2], cwd));
    case 'unlink':
    case 'rmdir':
    case 'mkdir':
    case 'truncate':
      return keep(rel(0));
    case 'unlinkat':
    case 'mkdirat':
      return keep(at(0, 1));
    case 'ftruncate':
      return keep(a[0]?.fdPath ?? null);
    default:
      return null;
  }
}

/**
 * A stateful parser of one strace output stream: joins `<unfinished ...>` with its
 * `<... resumed>` line, remembers each PID's working directory from its `AT_FDCWD</dir>`
 * decorations, and turns lines into `TracedWrite`s.
 *
 * @example
 * const p = createStraceParser(() => null);
 * p('6996  1796199822.280323 openat(AT_FDCWD</w>, "a.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</w/a.txt>')
 * // → {pid: 6996, at: 1796199822280, call: 'openat', paths: ['/w/a.txt']}
 */
export function createStraceParser(procCwd: (pid: number) => string | null): (line: string) => TracedWrite | null {
  const pending = new Map<number, string>();
  const cwds = new LRUCache<number, string>({ max: 4096 });
  return (line) => {
    const h = HEAD.exec(line);
    if (!h) return null;
    const pid = Number(h[1]);
    const at = Math.round(Number(h[2]) * 1000);
    let body = h[3]!;
    if (body.endsWith(UNFINISHED)) {
      pending.set(pid, body.slice(0, -UNFINISHED.length));
      return null;
    }
    const r = RESUMED.exec(body);
    if (r) {
      const head = pending.get(pid);
      pending.delete(pid);
      if (head === undefined) return null;
      body = head + r[2]!;
    }
    const m = CALL.exec(body);
    if (!m) return null;
    const call = m[1]!;
    const argText = m[2]!;
    const fdcwd = /AT_FDCWD<([^>]*)>/.exec(argText);
    if (fdcwd) cwds.set(pid, fdcwd[1]!);
    const cwd = cwds.get(pid) ?? procCwd(pid);
    const paths = writtenPaths(call, argText, Number(m[3]), m[4], cwd);
    return paths ? { pid, at, call, paths } : null;
  };
}

function procCwd(pid: number): string | null {
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

/** Declared writes (`winnow hook`), in the trace directory, as `TracedWrite`s with `call: 'declared'`. */
export const DECLARED_FILE = 'declared.jsonl';

/**
 * Makes a FIFO at `path` (mode 0600) and opens its reading end without blocking, as a stream;
 * null when it cannot. strace opens the writing end with `-o PATH`.
 */
function openFifo(path: string): net.Socket | null {
  rmSync(path, { force: true });
  if (spawnSync('mkfifo', ['-m', '600', path]).status !== 0) return null;
  try {
    return new net.Socket({ fd: openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK), readable: true, writable: false });
  } catch {
    rmSync(path, { force: true });
    return null;
  }
}

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

export interface AttachResult {
  /** PIDs now traced by an attacher of this store. */
  attached: number[];
  /** Why attaching failed, when it did. */
  error?: string;
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
/** How long an attacher may take to report that it is tracing before it is counted as failed. */
const ATTACH_WAIT_MS = 2_000;

export function createTracedWrites(opts: TracedWritesOptions): TracedWrites {
  const rootSlash = opts.root.endsWith('/') ? opts.root : opts.root + '/';
  const dir = traceDir(opts.stateDir);
  const writes = new LRUCache<string, TracedWrite[]>({ max: PATHS_MAX });
  const offsets = new Map<string, { offset: number; partial: string }>();
  const attachers = new Map<number, ChildProcess>();
  const attachedAtMs = new Map<number, number>();
  let stopped = false;
  let attachSeq = 0;

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
    isOurTracer: (pid) => attachers.has(pid),
    attachedAt: (pid) => attachedAtMs.get(pid),
    async attach(pids) {
      if (stopped || !pids.length) return { attached: [] };
      const bin = findStrace(opts.bin);
      if (!bin) return { attached: [], error: 'strace is not installed (apt install strace)' };
      await mkdir(dir, { recursive: true, mode: 0o700 }).catch(() => undefined);
      // The trace goes through a FIFO (`-o`): on stderr strace would print `[pid N]` prefixes, and
      // none at all for the first process, instead of the `PID  ` column of `-o` output.
      const fifo = join(dir, `attach-${process.pid}-${++attachSeq}.fifo`);
      const input = openFifo(fifo);
      if (!input) return { attached: [], error: `cannot make a FIFO in ${dir}` };
      const c = spawn(bin, [...straceArgs(fifo, { seccomp: false }), ...pids.flatMap((p) => ['-p', String(p)])], { stdio: ['ignore', 'ignore', 'pipe'] });
      const parse = createStraceParser(procCwd);
      let stderr = '';
      c.stderr!.setEncoding('utf8');
      c.stderr!.on('data', (d: string) => {
        stderr = (stderr + d).slice(-2000);
      });
      createInterface({ input, crlfDelay: Infinity }).on('line', (line) => {
        const w = parse(line);
        if (w) file(w);
      });
      c.once('exit', () => rmSync(fifo, { force: true }));
      c.once('error', () => {
        input.destroy();
        rmSync(fifo, { force: true });
      });
      const exited = new Promise<string>((resolve) => {
        c.once('error', (e) => resolve(e.message));
        c.once('exit', (code, sig) => resolve(`strace exited (${sig ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`));
      });
      void exited.then(() => {
        if (c.pid !== undefined) attachers.delete(c.pid);
      });
      if (c.pid === undefined) return { attached: [], error: await exited };
      attachers.set(c.pid, c);
      // Attached once the kernel says so (TracerPid), so a write right after this is traced.
      const deadline = Date.now() + ATTACH_WAIT_MS;
      let early: string | null = null;
      void exited.then((why) => {
        early = why;
      });
      const done = new Set<number>();
      while (early === null && Date.now() < deadline) {
        for (const p of pids) if (!done.has(p) && tracerOf(p) === c.pid) done.add(p);
        if (done.size === pids.filter((p) => alive(p)).length && done.size > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const now = opts.clock.now();
      for (const p of done) attachedAtMs.set(p, now);
      if (!done.size) {
        c.kill('SIGTERM');
        return { attached: [], error: early ?? `strace did not attach within ${ATTACH_WAIT_MS} ms${stderr ? `: ${stderr.trim()}` : ''}` };
      }
      opts.logger.log('info', 'tracing autonomous processes', { pids: [...done], tracer: c.pid });
      return { attached: [...done] };
    },
    async stop() {
      stopped = true;
      await Promise.all(
        [...attachers.values()].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGTERM'); // strace detaches and lets the tracees run on
            }),
        ),
      );
      attachers.clear();
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
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
