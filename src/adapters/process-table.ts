/**
 * The process table through ps-list, cached in an lru-cache with a TTL. Refreshed on demand when a
 * decision asks for it, never polled: an idle daemon spawns no `ps`. Between refreshes, `fresh()`
 * adds the processes started since the snapshot from one `/proc` listing (Linux), so a new agent,
 * or an agent's child that is still running, is not hidden for a whole TTL.
 */
import psList from 'ps-list';
import { LRUCache } from 'lru-cache';
import { readdirSync, readFileSync } from 'node:fs';
import type { Clock, ProcInfo, ProcessTable } from '../ports/index.js';
import { HAS_PROC, lastPid as procLastPid, ownerUid, readCmdline, readStat } from './procfs.js';

export interface ProcessTableOptions {
  /** How long a snapshot is reused (`autonomous.cacheTtlMs`). */
  ttlMs: number;
  clock?: Clock;
  /** For tests: where the snapshot comes from (default ps-list). */
  source?: () => Promise<ProcInfo[]>;
  /** For tests: PIDs alive now (default: the numeric entries of `/proc`; null where there is none). */
  livePids?: () => number[] | null;
  /** For tests: one process by PID (default: read from `/proc`). */
  readOne?: (pid: number) => ProcInfo | null;
  /**
   * For tests: the PID allocated last on the machine, or null when unknown (default: from
   * `/proc/loadavg`). While it has not moved, no process started and `/proc` is not listed again.
   */
  lastPid?: () => number | null;
}

/** uid → user name from /etc/passwd (read once; unknown uids keep only the number). */
function loadUsers(): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 3 && f[0]) m.set(Number(f[2]), f[0]);
    }
  } catch {
    // Not Unix, or unreadable: `autonomous.users` can still name numeric uids.
  }
  return m;
}

async function psSource(): Promise<ProcInfo[]> {
  const users = loadUsers();
  const list = await psList({ all: true });
  return list.map((p) => {
    const info: ProcInfo = { pid: p.pid, ppid: p.ppid, name: p.name, cmd: p.cmd ?? p.name };
    if (p.uid !== undefined) {
      info.uid = p.uid;
      const u = users.get(p.uid);
      if (u !== undefined) info.user = u;
    }
    return info;
  });
}

/** How long a process first read by `fresh()` is read again (its exec may have been pending). */
const YOUNG_MS = 2_000;
/** Exited processes a stale-extended table may keep before it is pruned. */
const PRUNE_AT = 512;

function procLivePids(): number[] | null {
  if (!HAS_PROC) return null;
  try {
    const out: number[] = [];
    for (const n of readdirSync('/proc')) {
      const c = n.charCodeAt(0);
      if (c >= 48 && c <= 57) out.push(Number(n));
    }
    return out;
  } catch {
    return null;
  }
}

function procReadOne(users: () => Map<number, string>): (pid: number) => ProcInfo | null {
  return (pid) => {
    const st = readStat(pid);
    if (!st) return null;
    const cmd = readCmdline(pid);
    const info: ProcInfo = { pid, ppid: st.ppid, name: st.comm, cmd: cmd || st.comm };
    const uid = ownerUid(pid);
    if (uid !== null) {
      info.uid = uid;
      const u = users().get(uid);
      if (u !== undefined) info.user = u;
    }
    return info;
  };
}

export function createProcessTable(opts: ProcessTableOptions): ProcessTable & { readonly refreshes: number } {
  const source = opts.source ?? psSource;
  const clock = opts.clock;
  const cache = new LRUCache<'table', ProcInfo[]>({
    max: 1,
    ttl: Math.max(1, opts.ttlMs),
    // lru-cache reads time through `perf`; the injected clock drives TTLs in tests (read on every
    // get: lru-cache otherwise keeps a read for 1 ms of real time, which a manual clock outruns).
    ...(clock ? { perf: { now: () => clock.now() }, ttlResolution: 0 } : {}),
  });
  let inFlight: Promise<ProcInfo[]> | null = null;
  let refreshes = 0;
  const load = (): Promise<ProcInfo[]> => {
    // Concurrent decisions share one `ps` run.
    inFlight ??= source()
      .then((t) => {
        refreshes++;
        cache.set('table', t);
        return t;
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
  let userMap: Map<number, string> | null = null;
  const livePids = opts.livePids ?? procLivePids;
  const readOne = opts.readOne ?? procReadOne(() => (userMap ??= loadUsers()));
  // A test that injects the live PIDs injects the last PID too (or gets no gate).
  const lastPid = opts.lastPid ?? (HAS_PROC && !opts.livePids ? procLastPid : () => null);
  /**
   * The snapshot `fresh()` last extended, the PIDs looked at since, the extended table, and the
   * last allocated PID read just before `/proc` was last listed.
   */
  let seen: { snapshot: ProcInfo[]; pids: Set<number>; table: ProcInfo[]; lastPid: number | null } | null = null;
  /**
   * PIDs `fresh()` added lately, with when: one read between fork and exec shows its parent's
   * command line, so it is read again until it is YOUNG_MS old.
   */
  const young = new Map<number, number>();
  const now = () => (clock ? clock.now() : Date.now());
  const list = async (): Promise<ProcInfo[]> => cache.get('table') ?? load();
  return {
    get refreshes() {
      return refreshes;
    },
    list,
    refresh: load,
    async fresh(opts) {
      // `stale`: keep extending the last snapshot past its TTL (a poll must not spawn `ps`).
      const snapshot = opts?.stale && seen ? seen.snapshot : await list();
      if (!seen || seen.snapshot !== snapshot) {
        seen = { snapshot, pids: new Set(snapshot.map((p) => p.pid)), table: snapshot, lastPid: null };
        young.clear();
      }
      // No PID allocated since the last listing and none young: nothing to add or read again.
      // Read before the listing, so a process started during it moves the next reading.
      const last = lastPid();
      if (last !== null && last === seen.lastPid && young.size === 0) return seen.table;
      const live = livePids();
      if (!live) return seen.table;
      seen.lastPid = last;
      const t = now();
      const added: ProcInfo[] = [];
      const changed = new Map<number, ProcInfo>();
      for (const [pid, since] of young) {
        if (t - since > YOUNG_MS) {
          young.delete(pid);
          continue;
        }
        const info = readOne(pid);
        const had = seen.table.find((p) => p.pid === pid);
        if (info && had && (info.cmd !== had.cmd || info.ppid !== had.ppid)) changed.set(pid, info);
      }
      for (const pid of live) {
        if (seen.pids.has(pid)) continue;
        // Looked at once (and again while young, above): a PID reused before the next full
        // refresh keeps its first entry until the refresh, at most one TTL later.
        seen.pids.add(pid);
        const info = readOne(pid);
        if (info) {
          added.push(info);
          young.set(pid, t);
        }
      }
      // A new array only when something changed: the classifier recomputes the autonomous set
      // when the table it gets is a different one.
      if (added.length || changed.size) {
        let table = changed.size ? seen.table.map((p) => changed.get(p.pid) ?? p) : seen.table;
        table = [...table, ...added];
        // Extended past its TTL, the table drops processes that have exited, so it stays bounded.
        if (opts?.stale && table.length > seen.snapshot.length + PRUNE_AT) {
          const alive = new Set(live);
          table = table.filter((p) => alive.has(p.pid));
          for (const pid of seen.pids) if (!alive.has(pid)) seen.pids.delete(pid);
        }
        seen.table = table;
      }
      return seen.table;
    },
  };
}
