/**
 * A move lands in one commit (issue 11 case 7). A directory renamed by the person arrives as
 * deletions (settling from the event) and new files (settling from their old mtimes, so at once):
 * left to settle alone they land in two commits, and HEAD holds both directories in between.
 * When a batch is due, the pending paths that pair with it — the same base name, one side gone
 * from disk and the other present — go with it.
 *
 * The new files of a renamed directory may also arrive over several watcher batches (the watcher
 * reports a moved folder's contents as it crawls it): the first due one would take only its own
 * partner along, and the rest would land in a second commit. So a due path whose partner is still
 * settling waits for that partner (`movesToHold`): the move settles as its deletions do, and the
 * files found meanwhile join it.
 */

/** `a/b/c.md` → `c.md`. */
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/**
 * Pending paths to take along with the due ones.
 *
 * @param due paths whose window has passed
 * @param pending paths still settling (due ones excluded)
 * @param present whether a path exists on disk now
 * @example movePartners(['new/a.md'], ['old/a.md', 'x.md'], (p) => p.startsWith('new/')) // ['old/a.md']
 */
export function movePartners(due: readonly string[], pending: readonly string[], present: (path: string) => boolean): string[] {
  if (!due.length || !pending.length) return [];
  const byBase = new Map<string, boolean[]>();
  for (const p of due) {
    const k = base(p);
    const list = byBase.get(k) ?? [];
    list.push(present(p));
    byBase.set(k, list);
  }
  const out: string[] = [];
  for (const p of pending) {
    const sides = byBase.get(base(p));
    if (!sides) continue;
    const here = present(p);
    if (sides.some((s) => s !== here)) out.push(p);
  }
  return out;
}

/**
 * Due paths to put back until their move partner is due: path → the latest `dueAt` among its
 * pending partners (same base name, one side gone and the other present) that are not due yet.
 *
 * @param due paths whose window has passed
 * @param pending paths still settling, with when each is due
 * @example movesToHold(['new/a.md'], new Map([['old/a.md', { dueAt: 9000 }]]), (p) => p.startsWith('new/')) // Map { 'new/a.md' => 9000 }
 */
export function movesToHold(due: readonly string[], pending: ReadonlyMap<string, { dueAt: number }>, present: (path: string) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  if (!due.length || !pending.size) return out;
  const byBase = new Map<string, { path: string; dueAt: number }[]>();
  for (const [path, { dueAt }] of pending) {
    const k = base(path);
    const list = byBase.get(k) ?? [];
    list.push({ path, dueAt });
    byBase.set(k, list);
  }
  for (const p of due) {
    const others = byBase.get(base(p));
    if (!others) continue;
    const here = present(p);
    let until: number | null = null;
    for (const o of others) if (present(o.path) !== here) until = Math.max(until ?? o.dueAt, o.dueAt);
    if (until !== null) out.set(p, until);
  }
  return out;
}
