/**
 * What the fanotify trace saw, by path: writes to a file, and renames into or removals from a
 * directory (fatrace names only the directory for those). Bounded per path and in paths; a PID's
 * parent chain is cached briefly so a write storm does not read /proc ten times per line.
 */
import { LRUCache } from 'lru-cache';
import { growingBound } from '../util/lru.js';
import type { WriteRecord } from '../ports/index.js';
import type { Lineage, LineageEntry } from './forkstat.js';
import { readStat } from './procfs.js';

const PATHS_MAX = 10_000;
/** Directories whose recent renames/unlinks are kept (one record per run of a process). */
const DIRS_MAX = 2_000;
const PER_PATH = 8;
const KEEP_MS = 60_000;

export interface WriteLog {
  /** Records one parsed event: `types` are fatrace's (W, `<`, `>`, D), `rel` workspace-relative. */
  record(rec: WriteRecord, types: string, dirEvent: boolean): void;
  /**
   * Who wrote `path` since `since` (never older than a minute before `now`), each with its
   * ancestors from /proc and, when `lineage` is active, from its fork records too.
   */
  writersOf(path: string, since: number, now: number, lineage?: Lineage): WriteRecord[];
  /** The PID's parents, nearest first (cached for 10 s). */
  ancestorsOf(pid: number): number[];
}

/** One record per run of a process: a save is several events (W, then CW on close). */
function remember(map: LRUCache<string, WriteRecord[]>, key: string, rec: WriteRecord): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  const last = list[list.length - 1];
  if (last && last.pid === rec.pid) last.at = rec.at;
  else list.push(rec);
  if (list.length > PER_PATH) list.splice(0, list.length - PER_PATH);
}

/**
 * The writer's ancestors from both sources, nearest first. /proc, read when the write was seen,
 * stops at a parent that exited meanwhile (`find` reaped between two reads) and names init or a
 * subreaper for an orphan; the lineage keeps each process's parent at fork. Each step takes the
 * lineage's parent (unless /proc names a living other one: `parentOf` below), else the recorded
 * one, else /proc now (`procChain`, cached); the recorded parents not reached that way follow.
 * Mostly map lookups: this runs per writer per decision.
 */
export function mergeAncestors(
  pid: number,
  recorded: readonly number[],
  lineage: Pick<Lineage, 'entry'>,
  procChain: (pid: number) => number[],
  alive: (pid: number) => boolean = (p) => procChain(p).length > 0,
): number[] {
  const procParent = new Map<number, number>();
  const learn = (from: number, chain: readonly number[]) => {
    for (const a of chain) {
      if (!procParent.has(from)) procParent.set(from, a);
      from = a;
    }
  };
  learn(pid, recorded);
  const out: number[] = [];
  const seen = new Set<number>([pid]);
  for (let p = pid, i = 0; i < 64 && p > 1; i++) {
    // The writer's own /proc chain is `recorded`; past it, a live process the lineage never saw
    // fork (older than forkstat) is read from /proc.
    const forked = lineage.entry(p);
    if (!forked && !procParent.has(p) && p !== pid) learn(p, procChain(p));
    const parent = parentOf(forked, procParent.get(p));
    if (parent === undefined || parent <= 0 || seen.has(parent)) break;
    seen.add(parent);
    out.push(parent);
    p = parent;
  }
  for (const a of recorded) if (!seen.has(a)) out.push(a);
  return out;

  /**
   * Where the two disagree, the lineage's parent counts only if it is gone: the process was orphaned
   * (/proc then names init or a subreaper). A living one means the lineage missed the fork of a
   * reused PID, and its parent would pin a person's write on an old agent.
   */
  function parentOf(forked: LineageEntry | undefined, fromProc: number | undefined): number | undefined {
    if (!forked || fromProc === undefined || forked.ppid === fromProc || fromProc === 1) return forked?.ppid ?? fromProc;
    // forkstat's exit line may come after fatrace's write: /proc, read now, says whether it is gone too.
    const gone = lineage.entry(forked.ppid)?.exited || !alive(forked.ppid);
    return gone ? forked.ppid : fromProc;
  }
}

export function createWriteLog(parentOf: (pid: number) => number | null = (pid) => readStat(pid)?.ppid ?? null): WriteLog {
  const writes = new LRUCache<string, WriteRecord[]>(growingBound(PATHS_MAX));
  // Renames into a directory ('>') and removals from it ('<', 'D'), by workspace-relative dir.
  const movedIn = new LRUCache<string, WriteRecord[]>(growingBound(DIRS_MAX));
  const removed = new LRUCache<string, WriteRecord[]>(growingBound(DIRS_MAX));
  const ancestry = new LRUCache<number, number[]>({ ...growingBound(4096), ttl: 10_000 });

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

  return {
    ancestorsOf,
    record(rec, types, dirEvent) {
      if (dirEvent) {
        if (types.includes('>')) remember(movedIn, rec.path, rec);
        if (types.includes('<') || types.includes('D')) remember(removed, rec.path, rec);
      }
      if (types.includes('W')) remember(writes, rec.path, rec);
    },

    writersOf(path, since, now, lineage) {
      const floor = Math.max(since, now - KEEP_MS);
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
      if (lineage?.active()) {
        // Read now, as forkstat's line may have come after fatrace's.
        for (const w of out) {
          const had = w.ancestors?.length ?? 0;
          const chain = mergeAncestors(w.pid, w.ancestors ?? [], lineage, ancestorsOf, (p) => parentOf(p) !== null);
          if (!chain.length) continue;
          w.ancestors = chain;
          w.ancestorCommands = chain.map((p) => lineage.entry(p)?.cmd ?? '');
          // A writer reaped before /proc could be read is named by its command line at exec.
          const own = had ? undefined : lineage.entry(w.pid);
          if (own?.cmd) w.command = own.cmd;
        }
      }
      return out;
    },
  };
}
