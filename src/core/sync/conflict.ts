/**
 * Conflict policy: naming conflict copies and deciding, per conflicted path, which side stays and
 * which is kept as a copy. Pure; the syncer carries the plan out.
 */

/** `2026-01-31T12:05:09.123Z` → `20260131-120509`. UTC, so two devices name the same moment alike. */
export function compactDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** Host names become one safe path segment (no separators, no dots that would move the extension). */
export function safeHost(host: string): string {
  const s = host.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return s || 'host';
}

/**
 * `docs/plan.md` → `docs/plan.conflict-HOST-DATE.md`; `.env` → `.env.conflict-HOST-DATE`;
 * `Makefile` → `Makefile.conflict-HOST-DATE`. The last extension only (`a.tar.gz` →
 * `a.tar.conflict-…gz`), so the copy still opens with the same program. `taken` lists paths that
 * exist already: a counter is added until the name is free.
 */
export function conflictCopyName(path: string, host: string, atMs: number, taken: ReadonlySet<string> = new Set()): string {
  const slash = path.lastIndexOf('/');
  const dir = slash >= 0 ? path.slice(0, slash + 1) : '';
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf('.');
  const hasExt = dot > 0 && dot < base.length - 1;
  const name = hasExt ? base.slice(0, dot) : base;
  const ext = hasExt ? base.slice(dot) : '';
  const stem = `${dir}${name}.conflict-${safeHost(host)}-${compactDate(atMs)}`;
  let candidate = `${stem}${ext}`;
  for (let n = 2; taken.has(candidate); n++) candidate = `${stem}-${n}${ext}`;
  return candidate;
}

/** One conflicted path as git reports it, from the local (ours, this device) and remote views. */
export interface ConflictedPath {
  path: string;
  /** This device's version exists (false: deleted here). */
  local: boolean;
  /** The remote's version exists (false: deleted there). */
  remote: boolean;
}

export interface Resolution {
  path: string;
  /** Which version stays at `path`; 'none' means the path is removed (the winner deleted it). */
  keep: 'local' | 'remote' | 'none';
  /** The losing version, saved next to it, or null when the loser had deleted the file. */
  copy: { path: string; from: 'local' | 'remote' } | null;
}

/**
 * Plans automatic resolution for `ours` (this device wins) or `theirs` (the remote wins). The
 * losing side is never dropped: it becomes a conflict copy. When the winner deleted the file and
 * the loser changed it, the change survives as the copy.
 */
export function planResolution(strategy: 'ours' | 'theirs', files: readonly ConflictedPath[], host: string, atMs: number, existing: ReadonlySet<string> = new Set()): Resolution[] {
  const taken = new Set(existing);
  for (const f of files) taken.add(f.path);
  const out: Resolution[] = [];
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const winner: 'local' | 'remote' = strategy === 'ours' ? 'local' : 'remote';
    const loser: 'local' | 'remote' = winner === 'local' ? 'remote' : 'local';
    const winnerExists = winner === 'local' ? f.local : f.remote;
    const loserExists = loser === 'local' ? f.local : f.remote;
    let copy: Resolution['copy'] = null;
    if (loserExists) {
      const p = conflictCopyName(f.path, host, atMs, taken);
      taken.add(p);
      copy = { path: p, from: loser };
    }
    out.push({ path: f.path, keep: winnerExists ? winner : 'none', copy });
  }
  return out;
}

/**
 * During `git rebase`, stage 2 ("ours") is the branch being rebased onto — the remote — and
 * stage 3 ("theirs") is the local commit being replayed: the opposite of the words a person uses.
 */
export function rebaseStage(side: 'local' | 'remote'): 2 | 3 {
  return side === 'remote' ? 2 : 3;
}
