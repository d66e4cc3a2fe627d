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
import type { ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Logger, TraceState, WriterTrace } from '../ports/index.js';
import type { Lineage } from './forkstat.js';
import { createCookies, spawnFatrace } from './fatrace-child.js';
import { createWriteLog } from './fatrace-records.js';
import { selfHasCapSysAdmin } from './procfs.js';
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

/** The trace is required (`autonomous.fanotify: "on"`) and cannot run: the CLI exits 1. */
export class TraceUnavailableError extends Error {
  override name = 'TraceUnavailableError';
}

const LINE = /^(\d+(?:\.\d+)?) (.+?)\((\d+)\): ([RWOCD+<>]{1,6}) +(\/.*)$/;
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
  const log = createWriteLog();
  const cookies = createCookies(cookieDir);
  let st: TraceState =
    opts.mode === 'off' ? { mode: 'off', reason: 'autonomous.fanotify is "off"' } : { mode: 'unavailable', reason: 'not started' };
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | null = null;

  const onLine = (line: string) => {
    // Cheap prefilter before the regex: most lines on a shared mount are about other trees.
    if (!line.includes(root) && !line.includes(cookieDirReal) && !line.includes(cookieDir)) return;
    const r = parseFatraceLine(line);
    if (!r) return;
    if (r.path.startsWith(cookieDirReal + '/') || r.path.startsWith(cookieDir + '/')) {
      cookies.seen(r.path.slice(r.path.lastIndexOf('/') + 1));
      return;
    }
    const dirEvent = /[<>D]/.test(r.types);
    if (!(r.path.startsWith(rootSlash) || (dirEvent && r.path === root)) || r.path.startsWith(gitPrefix) || r.path === rootSlash + '.git') return;
    const ownTree = opts.ignoreOwnTree !== false;
    if (ownTree && r.pid === process.pid) return;
    const ancestors = log.ancestorsOf(r.pid);
    // winnow's own children (its git processes) never count as writers.
    if ((ownTree && ancestors.includes(process.pid)) || opts.ignorePid?.(r.pid)) return;
    const rel = r.path === root ? '' : r.path.slice(rootSlash.length);
    log.record({ pid: r.pid, command: r.comm, path: rel, at: r.at, ancestors }, r.types, dirEvent);
  };

  const launch = async (bin: string): Promise<TraceState> => {
    const names = [rootSlash, ' ' + root, cookieDir + '/', cookieDirReal + '/'];
    const { child: c, stderr } = spawnFatrace(bin, root, names, onLine);
    child = c;
    const startedAt = Date.now();
    const exited = new Promise<string>((resolve) => {
      c.once('error', (e) => resolve(e.message));
      c.once('exit', (code, sig) => resolve(`fatrace exited (${sig ?? `code ${code}`})${stderr().trim() ? `: ${stderr().trim().split('\n').pop()}` : ''}`));
    });
    // Ready once the trace sees a cookie we wrote: fanotify marks are in place.
    const deadline = Date.now() + READY_WAIT_MS;
    let ready = false;
    let early: string | null = null;
    void exited.then((why) => {
      early = why;
    });
    while (!ready && early === null && Date.now() < deadline) ready = await cookies.write(250);
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
    writersOf: (path, since) => log.writersOf(path, since, opts.clock.now(), opts.lineage),
    async flush(maxWaitMs) {
      if (st.mode !== 'active' || !child) return;
      // The lineage reads forkstat's output in batches: what is waiting is read before writers are
      // looked up, after the cookie, so a fork line forkstat wrote while fatrace caught up is in.
      await cookies.write(maxWaitMs);
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
