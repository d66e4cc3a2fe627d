/**
 * The one event shape everything past the watcher adapter sees (STYLE.md habit 1).
 * Paths are workspace-relative, posix-separated, never starting with `./` or `/`.
 */
export type EventKind = 'create' | 'update' | 'delete';
export type Priority = 'high' | 'normal' | 'low';

/** Where an event came from: a live watcher callback, a start-up catch-up, or a rescan. */
export type EventSource = 'watch' | 'catchup' | 'rescan';

export interface WatchEvent {
  path: string;
  kind: EventKind;
  stream: string;
  priority: Priority;
  /** Epoch milliseconds from the injected clock. */
  at: number;
  source?: EventSource;
}

const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/**
 * Turns an absolute or relative path into the workspace-relative posix form, or null when it is
 * outside the workspace (or is the workspace root itself).
 */
export function normalisePath(root: string, p: string): string | null {
  const r = root.replace(/\\/g, '/').replace(/\/+$/, '');
  let s = p.replace(/\\/g, '/');
  if (s === r) return null;
  if (s.startsWith(r + '/')) s = s.slice(r.length + 1);
  else if (s.startsWith('/')) return null;
  const parts: string[] = [];
  for (const seg of s.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return null;
      parts.pop();
      continue;
    }
    parts.push(seg);
  }
  return parts.length ? parts.join('/') : null;
}

/**
 * Coalesces a batch: one event per path (the last kind wins, except create→delete which stays a
 * delete so a vanished temp file is still looked at), ordered high priority first, then by time.
 */
export function coalesce(events: readonly WatchEvent[]): WatchEvent[] {
  const byPath = new Map<string, WatchEvent>();
  for (const e of events) {
    const prev = byPath.get(e.path);
    if (!prev) {
      byPath.set(e.path, e);
      continue;
    }
    const priority = PRIORITY_RANK[e.priority] < PRIORITY_RANK[prev.priority] ? e.priority : prev.priority;
    const stream = priority === e.priority ? e.stream : prev.stream;
    let kind: EventKind = e.kind;
    if (prev.kind === 'create' && e.kind === 'update') kind = 'create';
    byPath.set(e.path, { ...e, kind, priority, stream });
  }
  return [...byPath.values()].sort(
    (a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.at - b.at,
  );
}

/**
 * Stable partition of a queued storm: the events layer 1 does not block come first, in their
 * order, then the blocked ones. A storm is mostly build output, caches and dependencies; a
 * person's save queued among 20k of those is then decided (and its settle window running) before
 * them, rather than after every blocked path is logged.
 */
export function committableFirst(events: readonly WatchEvent[], blockedByRule: (path: string) => boolean): WatchEvent[] {
  const first: WatchEvent[] = [];
  const rest: WatchEvent[] = [];
  for (const e of events) (blockedByRule(e.path) ? rest : first).push(e);
  return first.concat(rest);
}
