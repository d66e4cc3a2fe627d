import picomatch from 'picomatch';

/**
 * Adaptive settle (debounce) as plain state and step functions of `now` (STYLE.md habit 2): the
 * daemon owns the one timer and asks `nextWake()` when to call `takeDue()` again.
 *
 * Each path has a base window (first matching `debounce.rules` glob, else `defaultMs`). A path's
 * "heat" counts its recent changes and halves every base window of quiet; the window stretches
 * with heat above HEAT_FREE, up to `maxMs`, so a person saving a few times in a row keeps the base
 * window while a file rewritten every second waits longer — and cools back down once quiet. No
 * pending change waits longer than `maxWaitMs` from its first event.
 */
export interface SettleConfig {
  defaultMs: number;
  rules: readonly { glob: string; ms: number }[];
  maxMs: number;
  maxWaitMs: number;
}

export interface PendingPath {
  path: string;
  firstAt: number;
  lastAt: number;
  /** Current window (ms) after adaptation. */
  windowMs: number;
  dueAt: number;
  events: number;
}

interface Heat {
  heat: number;
  at: number;
}

export interface SettleState {
  readonly cfg: SettleConfig;
  readonly windowFor: (path: string) => number;
  readonly pending: Map<string, PendingPath>;
  /** Heat of paths seen recently, pending or not (bounded: cooled entries are dropped). */
  readonly heat: Map<string, Heat>;
}

/** Changes per base window a path may make before its window starts to stretch. */
export const HEAT_FREE = 4;
/** Heat below which a path's history is forgotten. */
const HEAT_FORGET = 0.05;

export function createSettle(cfg: SettleConfig): SettleState {
  const matchers = cfg.rules.map((r) => ({ test: picomatch(r.glob, { dot: true, basename: !r.glob.includes('/') }), ms: r.ms }));
  const cache = new Map<string, number>();
  const windowFor = (path: string): number => {
    let ms = cache.get(path);
    if (ms === undefined) {
      ms = matchers.find((m) => m.test(path))?.ms ?? cfg.defaultMs;
      if (cache.size > 10_000) cache.clear();
      cache.set(path, ms);
    }
    return ms;
  };
  return { cfg, windowFor, pending: new Map(), heat: new Map() };
}

function decayed(h: Heat | undefined, now: number, baseMs: number): number {
  if (!h) return 0;
  const half = Math.max(baseMs, 1);
  return h.heat * Math.pow(0.5, Math.max(0, now - h.at) / half);
}

/** Window for a path with the given heat: base until HEAT_FREE, then proportional, capped. */
export function adaptiveWindow(baseMs: number, heat: number, maxMs: number): number {
  const stretched = heat <= HEAT_FREE ? baseMs : Math.round((baseMs * heat) / HEAT_FREE);
  return Math.max(baseMs, Math.min(Math.max(maxMs, baseMs), stretched));
}

/**
 * Records an accepted change of `path`, decided at `now`; returns its pending entry. With
 * `heat: false` (a save with positive human evidence) the change does not stretch the window: a
 * person saving quickly is not churn.
 *
 * `writtenAt` (the file's mtime) is when the bytes were written: the quiet window counts from it,
 * not from when the event was decided, which under an event storm can be hundreds of ms later
 * (the watcher batches up to 500 ms, and classification queues). A time after `now` (clock skew,
 * `touch -d`) is ignored.
 */
export function addChange(s: SettleState, path: string, now: number, opts: { heat?: boolean; writtenAt?: number | null } = {}): PendingPath {
  const at = opts.writtenAt != null && opts.writtenAt < now ? opts.writtenAt : now;
  const base = s.windowFor(path);
  const prior = decayed(s.heat.get(path), now, base);
  const heat = opts.heat === false ? prior : prior + 1;
  s.heat.set(path, { heat, at: now });
  const windowMs = adaptiveWindow(base, heat, s.cfg.maxMs);
  const prev = s.pending.get(path);
  // A later event with an older mtime (a file renamed into place) never moves the window back.
  const lastAt = prev ? Math.max(prev.lastAt, at) : at;
  const firstAt = prev ? prev.firstAt : at;
  const dueAt = Math.min(lastAt + windowMs, firstAt + s.cfg.maxWaitMs);
  const entry: PendingPath = { path, firstAt, lastAt, windowMs, dueAt, events: (prev?.events ?? 0) + 1 };
  s.pending.set(path, entry);
  return entry;
}

/** Adds a path that was accepted before (replayed after a restart) without heating it. */
export function restorePending(s: SettleState, path: string, firstAt: number, now: number): PendingPath {
  const prev = s.pending.get(path);
  if (prev) return prev;
  const base = s.windowFor(path);
  const dueAt = Math.min(now + base, Math.max(firstAt, now - s.cfg.maxWaitMs) + s.cfg.maxWaitMs);
  const entry: PendingPath = { path, firstAt, lastAt: now, windowMs: base, dueAt, events: 1 };
  s.pending.set(path, entry);
  return entry;
}

/** Removes and returns every pending path due at `now`, oldest first. */
export function takeDue(s: SettleState, now: number): PendingPath[] {
  const due: PendingPath[] = [];
  for (const p of s.pending.values()) if (p.dueAt <= now) due.push(p);
  for (const p of due) s.pending.delete(p.path);
  forgetCold(s, now);
  return due.sort((a, b) => a.firstAt - b.firstAt || (a.path < b.path ? -1 : 1));
}

/** Removes and returns everything pending, due or not (shutdown flush, sync). */
export function takeAll(s: SettleState): PendingPath[] {
  const all = [...s.pending.values()];
  s.pending.clear();
  return all.sort((a, b) => a.firstAt - b.firstAt);
}

/** When the daemon should call `takeDue` next, or null when nothing is pending. */
export function nextWake(s: SettleState): number | null {
  let min: number | null = null;
  for (const p of s.pending.values()) if (min === null || p.dueAt < min) min = p.dueAt;
  return min;
}

function forgetCold(s: SettleState, now: number): void {
  if (s.heat.size < 1024) return;
  for (const [path, h] of s.heat) {
    if (!s.pending.has(path) && decayed(h, now, s.windowFor(path)) < HEAT_FORGET) s.heat.delete(path);
  }
}
