/**
 * strace's output, parsed (pure): the system calls winnow traces, the strace arguments both
 * producers use, and a stateful line parser that turns `-ttt -y -z -qq` lines into
 * `TracedWrite`s. strace.ts describes the producers and the store.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { LRUCache } from 'lru-cache';
import { growingBound } from '../util/lru.js';

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
  const cwds = new LRUCache<number, string>(growingBound(4096));
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
