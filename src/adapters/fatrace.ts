/**
 * Exact writer attribution through fanotify, by running Debian's `fatrace` as a child process
 * (`fatrace -tt -c -f 'W<>D'`: epoch timestamps; writes, and renames and deletions in
 * directories) and reading which PID wrote which path. Needs root or CAP_SYS_ADMIN.
 *
 * A rename or an unlink is reported on the directory, without the file's name
 * (`… mv(42): <>  /ws/docs`). An atomic save (write a temp file, rename it over the target)
 * therefore leaves no write event on the target: the process that moved something into the
 * target's directory is its writer (see `writersOf`).
 *
 * Output lines look like `1795314613.916015 bash(2760): CWO /tmp/x.txt`: epoch seconds with
 * microseconds, comm(pid), event types padded to three columns, then the path (may hold spaces;
 * deleted files end in ` (deleted)`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LRUCache } from 'lru-cache';
import type { Clock, Logger, TraceState, WriteRecord, WriterTrace } from '../ports/index.js';
import type { Lineage } from './forkstat.js';
import { readStat, selfHasCapSysAdmin } from './procfs.js';
import { findExecutable } from '../util/which.js';

export interface FatraceOptions {
  root: string;
  stateDir: string;
  mode: 'auto' | 'on' | 'off';
  logger: Logger;
  clock: Clock;
  /** Writers to ignore besides winnow itself and its children (always ignored). */
  ignorePid?: (pid: number) => boolean;
  /** The fatrace binary (default: `fatrace` on PATH, then /usr/sbin/fatrace). */
  bin?: string;
  /**
   * Ignore writes by this process and its descendants (winnow's git children). Default true;
   * tests that play the person from the test process itself turn it off.
   */
  ignoreOwnTree?: boolean;
  /**
   * Process lineage (forkstat): resolves a writer that exited before its parent chain could be
   * read from /proc. Without it such a writer is unknown (never taken for a person).
   */
  lineage?: Lineage;
}

/** grep on PATH or in /usr/bin, /bin; null when absent (the trace then reads every line itself). */
function grepBin(): string | null {
  return findExecutable('grep', ['/usr/bin/grep', '/bin/grep']);
}

/** The trace is required (`autonomous.fanotify: "on"`) and cannot run: the CLI exits 1. */
export class TraceUnavailableError extends Error {
  override name = 'TraceUnavailableError';
}

const LINE = /^(\d+(?:\.\d+)?) (.+?)\((\d+)\): ([RWOCD+<>]{1,6}) +(\/.*)$/;
const PATHS_MAX = 10_000;
/** Directories whose recent renames/unlinks are kept (one record per run of a process). */
const DIRS_MAX = 2_000;
const PER_PATH = 8;
const KEEP_MS = 60_000;
const READY_WAIT_MS = 5_000;
const RESTARTS_MAX = 5;
/** A run that lasted this long resets the restart budget. */
const HEALTHY_RUN_MS = 60_000;

/** Parses one fatrace line; null for anything else (headers, lines without a path). */
export function parseFatraceLine(line: string): { at: number; comm: string; pid: number; types: string; path: string } | null {
  const m = LINE.exec(line);
  if (!m) return null;
  let path = m[5]!;
  if (path.endsWith(' (deleted)')) path = path.slice(0, -' (deleted)'.length);
  return { at: Math.round(Number(m[1]) * 1000), comm: m[2]!, pid: Number(m[3]), types: m[4]!, path };
}

function findBinary(explicit?: string): string | null {
  return findExecutable('fatrace', ['/usr/sbin/fatrace', '/usr/bin/fatrace'], explicit);
}

/** True when this process may use fanotify: root, or CAP_SYS_ADMIN (bit 21) in its effective set. */
function fanotifyPermitted(): boolean {
  if (process.getuid?.() === 0) return true;
  return selfHasCapSysAdmin();
}

function parentOf(pid: number): number | null {
  return readStat(pid)?.ppid ?? null;
}

export function createFatraceTrace(opts: FatraceOptions): WriterTrace {
  let root = opts.root;
  try {
    root = realpathSync(opts.root);
  } catch {
    // keep as given
  }
  const rootSlash = root.endsWith('/') ? root : root + '/';
  const cookieDir = join(opts.stateDir, 'cookies');
  let cookieDirReal = cookieDir;
  const gitPrefix = rootSlash + '.git/';
  const writes = new LRUCache<string, WriteRecord[]>({ max: PATHS_MAX });
  // Renames into a directory ('>') and removals from it ('<', 'D'), by workspace-relative dir.
  const movedIn = new LRUCache<string, WriteRecord[]>({ max: DIRS_MAX });
  const removed = new LRUCache<string, WriteRecord[]>({ max: DIRS_MAX });
  // A PID's parent chain rarely changes while it lives; cache it briefly so a write storm does
  // not read /proc ten times per line.
  const ancestry = new LRUCache<number, number[]>({ max: 4096, ttl: 10_000 });
  const cookies = new Map<string, () => void>();
  let st: TraceState =
    opts.mode === 'off' ? { mode: 'off', reason: 'autonomous.fanotify is "off"' } : { mode: 'unavailable', reason: 'not started' };
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let cookieSeq = 0;
  let lastStderr = '';

  const ancestorsOf = (pid: number): number[] => {
    const hit = ancestry.get(pid);
    if (hit) return hit;
    const chain: number[] = [];
    let p: number | null = pid;
    for (let i = 0; i < 64 && p !== null && p > 1; i++) {
      p = parentOf(p);
      if (p !== null && p > 0) chain.push(p);
    }
    ancestry.set(pid, chain);
    return chain;
  };

  const onLine = (line: string) => {
    // Cheap prefilter before the regex: most lines on a shared mount are about other trees.
    if (!line.includes(root) && !line.includes(cookieDirReal) && !line.includes(cookieDir)) return;
    const r = parseFatraceLine(line);
    if (!r) return;
    if (r.path.startsWith(cookieDirReal + '/') || r.path.startsWith(cookieDir + '/')) {
      const done = cookies.get(r.path.slice(r.path.lastIndexOf('/') + 1));
      done?.();
      return;
    }
    const dirEvent = /[<>D]/.test(r.types);
    if (!(r.path.startsWith(rootSlash) || (dirEvent && r.path === root)) || r.path.startsWith(gitPrefix) || r.path === rootSlash + '.git') return;
    const ownTree = opts.ignoreOwnTree !== false;
    if (ownTree && r.pid === process.pid) return;
    const ancestors = ancestorsOf(r.pid);
    // winnow's own children (its git processes) never count as writers.
    if ((ownTree && ancestors.includes(process.pid)) || opts.ignorePid?.(r.pid)) return;
    const rel = r.path === root ? '' : r.path.slice(rootSlash.length);
    const rec = { pid: r.pid, command: r.comm, path: rel, at: r.at, ancestors };
    if (dirEvent) {
      if (r.types.includes('>')) remember(movedIn, rel, rec);
      if (r.types.includes('<') || r.types.includes('D')) remember(removed, rel, rec);
    }
    if (r.types.includes('W')) remember(writes, rel, rec);
  };

  /** One record per run of a process: a save is several events (W, then CW on close). */
  const remember = (map: LRUCache<string, WriteRecord[]>, key: string, rec: WriteRecord) => {
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    const last = list[list.length - 1];
    if (last && last.pid === rec.pid) last.at = rec.at;
    else list.push(rec);
    if (list.length > PER_PATH) list.splice(0, list.length - PER_PATH);
  };

  /** Writes a cookie file and resolves true when the trace reports it, false after `ms`. */
  const cookie = async (ms: number): Promise<boolean> => {
    const name = `${process.pid}-${++cookieSeq}`;
    const file = join(cookieDir, name);
    let timer: NodeJS.Timeout | undefined;
    const seen = new Promise<boolean>((resolve) => {
      cookies.set(name, () => resolve(true));
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    });
    try {
      await writeFile(file, '', { mode: 0o600 });
    } catch {
      cookies.delete(name);
      clearTimeout(timer);
      return false;
    }
    const ok = await seen;
    clearTimeout(timer);
    cookies.delete(name);
    await unlink(file).catch(() => undefined);
    return ok;
  };

  const spawnChild = (bin: string): ChildProcess => {
    // `-c` with the workspace as cwd marks only the workspace's mount: writes elsewhere on the
    // machine never reach this process (on a busy machine they cost the daemon CPU per line).
    // The cookie dir lives in the same repository, so it is on that mount too unless the git
    // dir is elsewhere, where flush() then falls back to its time bound.
    const c = spawn(bin, ['-tt', '-c', '-f', 'W<>D'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    lastStderr = '';
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => {
      lastStderr = (lastStderr + d).slice(-2000);
    });
    // When the workspace shares its mount with the rest of the machine (a home on /), fatrace
    // prints every write anywhere on it, one pipe write per line. Read by node, each line woke the
    // daemon (~3% CPU on an idle workspace of a busy machine, against 0.1% without the trace). A
    // `grep -F` between them passes on only the lines naming the workspace or the cookie dir (the
    // prefilter onLine applied): the daemon sleeps through the rest; grep costs µs per line.
    const grep = grepBin();
    const filter = grep
      ? spawn(grep, ['--line-buffered', '-F', '-e', rootSlash, '-e', ' ' + root, '-e', cookieDir + '/', '-e', cookieDirReal + '/'], {
          stdio: [c.stdout!, 'pipe', 'ignore'],
          env: { ...process.env, LC_ALL: 'C' },
        })
      : null;
    filter?.on('error', () => c.kill('SIGTERM'));
    // grep may exit before fatrace (killed, or failed): fatrace then dies of SIGPIPE on its next
    // line and the restart logic runs; once fatrace exits, grep sees end of input and exits too.
    filter?.once('exit', () => {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    });
    createInterface({ input: filter ? filter.stdout! : c.stdout!, crlfDelay: Infinity }).on('line', onLine);
    return c;
  };

  const launch = async (bin: string): Promise<TraceState> => {
    const c = spawnChild(bin);
    child = c;
    const startedAt = Date.now();
    const exited = new Promise<string>((resolve) => {
      c.once('error', (e) => resolve(e.message));
      c.once('exit', (code, sig) => resolve(`fatrace exited (${sig ?? `code ${code}`})${lastStderr.trim() ? `: ${lastStderr.trim().split('\n').pop()}` : ''}`));
    });
    // Ready once the trace sees a cookie we wrote: fanotify marks are in place.
    const deadline = Date.now() + READY_WAIT_MS;
    let ready = false;
    let early: string | null = null;
    void exited.then((why) => {
      early = why;
    });
    while (!ready && early === null && Date.now() < deadline) ready = await cookie(250);
    if (!ready) {
      if (early === null) c.kill('SIGTERM');
      child = null;
      return { mode: 'unavailable', reason: early ?? 'fatrace started but reported no events within 5 s' };
    }
    void exited.then((why) => {
      if (child !== c || stopping) return;
      child = null;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) restarts = 0;
      if (restarts >= RESTARTS_MAX) {
        st = { mode: 'unavailable', reason: `${why}; gave up after ${RESTARTS_MAX} restarts` };
        opts.logger.log('error', 'fanotify trace stopped for good; layer 2 falls back to open handles and temporal correlation', { reason: why });
        return;
      }
      const delay = Math.min(30_000, 1_000 * 2 ** restarts++);
      st = { mode: 'restarting', reason: `${why}; restarting in ${delay} ms` };
      opts.logger.log('warn', 'fanotify trace died; restarting', { reason: why, delayMs: delay, attempt: restarts });
      restartTimer = setTimeout(() => {
        restartTimer = null;
        if (stopping) return;
        void launch(bin).then((s) => {
          if (stopping) return;
          st = s;
          if (s.mode === 'active') opts.logger.log('info', 'fanotify trace restarted', {});
          else opts.logger.log('warn', 'fanotify trace could not restart', { reason: s.mode === 'unavailable' ? s.reason : '' });
        });
      }, delay);
      restartTimer.unref();
    });
    return { mode: 'active' };
  };

  return {
    async start() {
      if (opts.mode === 'off') return st;
      stopping = false;
      const fail = (reason: string): TraceState => {
        st = { mode: 'unavailable', reason };
        if (opts.mode === 'on') {
          throw new TraceUnavailableError(
            `autonomous.fanotify is "on" but the fanotify trace cannot run: ${reason}. Run winnow as root (or grant CAP_SYS_ADMIN), install fatrace (apt install fatrace), or set "autonomous.fanotify" to "auto" or "off" in .winnow.json.`,
          );
        }
        opts.logger.log('info', 'fanotify trace unavailable; layer 2 uses open handles and temporal correlation', { reason });
        return st;
      };
      if (process.platform !== 'linux') return fail('fanotify exists only on Linux');
      const bin = findBinary(opts.bin);
      if (!bin) return fail('fatrace is not installed');
      if (!fanotifyPermitted()) return fail('fanotify needs root or CAP_SYS_ADMIN');
      await mkdir(cookieDir, { recursive: true, mode: 0o700 });
      try {
        cookieDirReal = realpathSync(cookieDir);
      } catch {
        // keep
      }
      const s = await launch(bin);
      if (s.mode !== 'active') return fail(s.reason);
      st = s;
      return st;
    },
    state: () => st,
    writersOf(path, since) {
      const floor = Math.max(since, opts.clock.now() - KEEP_MS);
      const recent = (l: WriteRecord[] | undefined) => (l ?? []).filter((w) => w.at >= floor).map((w) => ({ ...w, path }));
      let out = recent(writes.get(path));
      if (!out.length) {
        // No write to the path itself: it was renamed into place (an atomic save) or removed.
        // Whoever moved something into its directory wrote it; failing that, whoever removed
        // something from there. Only then, so a deletion nearby never outweighs a rename.
        const slash = path.lastIndexOf('/');
        const dir = slash < 0 ? '' : path.slice(0, slash);
        const moved = recent(movedIn.get(dir));
        out = moved.length ? moved : recent(removed.get(dir));
      }
      const lin = opts.lineage;
      if (lin?.active()) {
        // A writer reaped before /proc could be read: its fork was recorded by the lineage
        // (read now, as forkstat's line may have come after fatrace's).
        for (const w of out) {
          if (w.ancestors?.length) continue;
          const chain = lin.ancestorsOf(w.pid);
          if (!chain.length) continue;
          w.ancestors = chain;
          w.ancestorCommands = chain.map((p) => lin.entry(p)?.cmd ?? '');
          const own = lin.entry(w.pid);
          if (own?.cmd) w.command = own.cmd;
        }
      }
      return out;
    },
    async flush(maxWaitMs) {
      if (st.mode !== 'active' || !child) return;
      // The lineage reads forkstat's output in batches: what is waiting is read before writers are
      // looked up, after the cookie, so a fork line forkstat wrote while fatrace caught up is in.
      await cookie(maxWaitMs);
      if (opts.lineage?.active()) await opts.lineage.drain();
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = null;
      const c = child;
      child = null;
      if (opts.mode !== 'off') st = { mode: 'off', reason: 'stopped' };
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
}
