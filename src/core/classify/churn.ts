/**
 * Churn detector (SPEC "Coordination"): a path that keeps changing on a schedule, and whose writes
 * are attributed to an autonomous process, is quarantined — the classifier treats it as BLOCK and
 * `status` reports it. A schedule alone is not evidence: a person typing with editor autosave
 * saves every 1–2 s, and a file whose writes no autonomous writer explains is theirs. Human
 * evidence for the path (a known writer outside the autonomous set) lifts the quarantine.
 * Pure: a mutable state object plus functions of `now`; no timers.
 */

export interface ChurnOptions {
  /** Changes needed inside the window before a path can be judged regular. */
  minEvents: number;
  windowMs: number;
  /** Largest allowed coefficient of variation (stddev / mean) of the intervals. */
  maxJitter: number;
}

export interface QuarantinedPath {
  path: string;
  events: number;
  periodMs: number;
}

export interface ChurnState {
  /** Recent change times per path (ascending), trimmed to the window. */
  times: Map<string, number[]>;
  /** When autonomous evidence was last seen for each path (a traced, fanotify, declared write, a holder, matching counters). */
  autonomousAt: Map<string, number>;
  quarantine: Map<string, QuarantinedPath>;
}

/** Paths tracked at once: beyond this the oldest-touched are forgotten (memory bound). */
const MAX_PATHS = 10_000;
/**
 * Events this close to the path's last counted change are the same change: one save often
 * reaches the watcher as two batches (truncate, then write) 20–60 ms apart. Counted twice, they
 * would make the intervals irregular at random — hiding a real schedule, or hiding none.
 */
const SAME_CHANGE_MS = 100;

export function createChurnState(): ChurnState {
  return { times: new Map(), autonomousAt: new Map(), quarantine: new Map() };
}

/**
 * Records one change of `path` at `at`. `human`: a writer outside the autonomous set is known,
 * which clears the path's history and lifts its quarantine. `autonomous`: this change carries
 * evidence that an autonomous process wrote it. A regular schedule quarantines the path only when
 * such evidence was seen for it within the window. Returns the quarantine entry when the path is
 * (now) quarantined.
 *
 * @example
 * const s = createChurnState();
 * for (let i = 0; i < 5; i++) recordChange(s, 'x.json', i * 1000, false, opts, true); // → {events: 5, periodMs: 1000}
 * for (let i = 0; i < 5; i++) recordChange(s, 'draft.md', i * 1000, false, opts); // → null (autosave)
 */
export function recordChange(s: ChurnState, path: string, at: number, human: boolean, o: ChurnOptions, autonomous = false): QuarantinedPath | null {
  if (human) {
    s.times.delete(path);
    s.autonomousAt.delete(path);
    s.quarantine.delete(path);
    return null;
  }
  if (autonomous) {
    s.autonomousAt.delete(path);
    s.autonomousAt.set(path, at);
    if (s.autonomousAt.size > MAX_PATHS) {
      const oldest = s.autonomousAt.keys().next().value;
      if (oldest !== undefined) s.autonomousAt.delete(oldest);
    }
  }
  let list = s.times.get(path);
  if (list) s.times.delete(path); // re-insert: Map order doubles as least-recently-changed order
  else list = [];
  const prev = list[list.length - 1];
  if (prev === undefined || at >= prev + SAME_CHANGE_MS) list.push(at);
  while (list.length && list[0]! < at - o.windowMs) list.shift();
  // Only the last minEvents intervals matter; keep a few more for the count shown in status.
  const keep = Math.max(o.minEvents * 2, 8);
  if (list.length > keep) list.splice(0, list.length - keep);
  s.times.set(path, list);
  if (s.times.size > MAX_PATHS) {
    const oldest = s.times.keys().next().value;
    if (oldest !== undefined) s.times.delete(oldest);
  }
  const q = s.quarantine.get(path);
  const autoAt = s.autonomousAt.get(path);
  const judged = autoAt !== undefined && autoAt >= at - o.windowMs ? judgeRegular(list, o) : null;
  if (judged) {
    const entry = { path, events: list.length, periodMs: judged };
    s.quarantine.set(path, entry);
    return entry;
  }
  if (q) {
    q.events += 1;
    return q;
  }
  return null;
}

/** The period in ms when the last `minEvents` changes are evenly spaced, else null. */
export function judgeRegular(times: readonly number[], o: ChurnOptions): number | null {
  if (o.minEvents < 2 || times.length < o.minEvents) return null;
  const last = times.slice(times.length - o.minEvents);
  const intervals: number[] = [];
  for (let i = 1; i < last.length; i++) intervals.push(last[i]! - last[i - 1]!);
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  if (mean <= 0) return null;
  const variance = intervals.reduce((a, b) => a + (b - mean) ** 2, 0) / intervals.length;
  return Math.sqrt(variance) / mean <= o.maxJitter ? Math.round(mean) : null;
}

export function isQuarantined(s: ChurnState, path: string): QuarantinedPath | null {
  return s.quarantine.get(path) ?? null;
}

export function quarantinedList(s: ChurnState): QuarantinedPath[] {
  // Code-unit order, not localeCompare: a collator loads ICU's collation data (+2.7 MB RSS).
  return [...s.quarantine.values()].map((q) => ({ ...q })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
