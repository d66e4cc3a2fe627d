/**
 * The sync request queue: every caller (start-up, exit, the scheduler after commits, `winnow sync`)
 * asks for a sync through it. Pure: state in, state out.
 *
 * One sync brings the whole branch up to date, so requests waiting at the same time are
 * deduplicated into one run; the merged run takes the strongest priority, `force` if any asked
 * for it, and every reason (the audit log says who asked).
 */
export type SyncPriority = 'manual' | 'lifecycle' | 'scheduled';

const RANK: Record<SyncPriority, number> = { manual: 0, lifecycle: 1, scheduled: 2 };

/** The more pressing of two priorities (manual over lifecycle over scheduled). */
export function morePressing(a: SyncPriority, b: SyncPriority): SyncPriority {
  return RANK[a] <= RANK[b] ? a : b;
}

export interface SyncRequest {
  reason: string;
  priority: SyncPriority;
  force?: boolean;
}

export interface QueuedSync {
  /** Ids of the callers this run answers. */
  ids: number[];
  priority: SyncPriority;
  force: boolean;
  reasons: string[];
  /** When the first of the merged requests arrived. */
  since: number;
}

export interface SyncQueue {
  next: QueuedSync | null;
}

export const EMPTY_QUEUE: SyncQueue = { next: null };

/** Stronger of two priorities (manual > lifecycle > scheduled). */
export function strongest(a: SyncPriority, b: SyncPriority): SyncPriority {
  return RANK[a] <= RANK[b] ? a : b;
}

/** Adds a request; an identical reason already waiting is not repeated. */
export function enqueue(q: SyncQueue, id: number, r: SyncRequest, now: number): SyncQueue {
  const cur = q.next;
  if (!cur) {
    return { next: { ids: [id], priority: r.priority, force: Boolean(r.force), reasons: [r.reason], since: now } };
  }
  return {
    next: {
      ids: [...cur.ids, id],
      priority: strongest(cur.priority, r.priority),
      force: cur.force || Boolean(r.force),
      reasons: cur.reasons.includes(r.reason) ? cur.reasons : [...cur.reasons, r.reason],
      since: cur.since,
    },
  };
}

/** Takes the merged run; the queue is empty afterwards (requests arriving later form the next run). */
export function take(q: SyncQueue): { run: QueuedSync | null; queue: SyncQueue } {
  return { run: q.next, queue: EMPTY_QUEUE };
}
