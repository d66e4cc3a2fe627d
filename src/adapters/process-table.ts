/**
 * The process table through ps-list, cached in an lru-cache with a TTL. Refreshed on demand when a
 * decision asks for it, never polled: an idle daemon spawns no `ps`.
 */
import psList from 'ps-list';
import { LRUCache } from 'lru-cache';
import { readFileSync } from 'node:fs';
import type { Clock, ProcInfo, ProcessTable } from '../ports/index.js';

export interface ProcessTableOptions {
  /** How long a snapshot is reused (`autonomous.cacheTtlMs`). */
  ttlMs: number;
  clock?: Clock;
  /** For tests: where the snapshot comes from (default ps-list). */
  source?: () => Promise<ProcInfo[]>;
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

export function createProcessTable(opts: ProcessTableOptions): ProcessTable & { readonly refreshes: number } {
  const source = opts.source ?? psSource;
  const clock = opts.clock;
  const cache = new LRUCache<'table', ProcInfo[]>({
    max: 1,
    ttl: Math.max(1, opts.ttlMs),
    // lru-cache reads time through `perf`; the injected clock drives TTLs in tests.
    ...(clock ? { perf: { now: () => clock.now() } } : {}),
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
  return {
    get refreshes() {
      return refreshes;
    },
    async list() {
      return cache.get('table') ?? load();
    },
    refresh: load,
  };
}
