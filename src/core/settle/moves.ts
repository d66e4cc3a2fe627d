/**
 * A move lands in one commit (issue 11 case 7). A directory renamed by the person arrives as
 * deletions (settling from the event) and new files (settling from their old mtimes, so at once):
 * left to settle alone they land in two commits, and HEAD holds both directories in between.
 * When a batch is due, the pending paths that pair with it — the same base name, one side gone
 * from disk and the other present — go with it.
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
