/**
 * Commit rate limit as pure functions of `now` (STYLE.md habit 2): a token bucket refilled
 * continuously at `maxPerHour` per hour (holding at most `maxPerHour`), a cap of `maxPerDay` commits
 * in any rolling 24 hours, and at least `minIntervalMs` between two commits. State in, state out.
 */
export interface RateLimits {
  maxPerHour: number;
  maxPerDay: number;
  minIntervalMs: number;
}

export interface RateLimitState {
  readonly limits: RateLimits;
  /** Tokens at `at`. */
  readonly tokens: number;
  readonly at: number;
  /** Times of the commits in the last 24 hours, oldest first (at most `maxPerDay`). */
  readonly recent: readonly number[];
  readonly lastAt: number | null;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A full bucket: the first `maxPerHour` commits may go at once. */
export function initialRateLimit(limits: RateLimits, now: number): RateLimitState {
  return { limits: { ...limits }, tokens: limits.maxPerHour, at: now, recent: [], lastAt: null };
}

/** Tokens available at `now` (fractional). */
export function tokensAt(s: RateLimitState, now: number): number {
  const elapsed = Math.max(0, now - s.at);
  return Math.min(s.limits.maxPerHour, s.tokens + (elapsed * s.limits.maxPerHour) / HOUR_MS);
}

/** Commits within the 24 hours before `now`. */
export function commitsToday(s: RateLimitState, now: number): number {
  let n = 0;
  for (const t of s.recent) if (t > now - DAY_MS) n++;
  return n;
}

/**
 * The earliest time at or after `now` when a commit is allowed: `now` itself when one may go now.
 *
 * @example nextAllowedAt(initialRateLimit({ maxPerHour: 10, maxPerDay: 50, minIntervalMs: 0 }, 0), 0) // 0
 */
export function nextAllowedAt(s: RateLimitState, now: number): number {
  const { maxPerHour, maxPerDay, minIntervalMs } = s.limits;
  let at = now;
  // Token bucket: wait for the missing fraction of a token to refill.
  const tokens = tokensAt(s, now);
  if (tokens < 1) at = Math.max(at, now + Math.ceil(((1 - tokens) * HOUR_MS) / maxPerHour));
  // Daily cap: the oldest commit inside the window has to leave it.
  const inDay = s.recent.filter((t) => t > now - DAY_MS);
  if (inDay.length >= maxPerDay) at = Math.max(at, inDay[inDay.length - maxPerDay]! + DAY_MS);
  if (s.lastAt !== null && minIntervalMs > 0) at = Math.max(at, s.lastAt + minIntervalMs);
  return at;
}

/** True when a commit may happen at `now`. */
export function allowed(s: RateLimitState, now: number): boolean {
  return nextAllowedAt(s, now) <= now;
}

/** Records a commit made at `now` (call only after a commit actually landed). */
export function consume(s: RateLimitState, now: number): RateLimitState {
  const tokens = Math.max(0, tokensAt(s, now) - 1);
  const recent = [...s.recent.filter((t) => t > now - DAY_MS), now].slice(-s.limits.maxPerDay);
  return { limits: s.limits, tokens, at: now, recent, lastAt: now };
}

/** The rate limit's counters, kept across restarts in the state dir. */
export const RATE_LIMIT_FILE = 'rate-limit.json';

/** What `rate-limit.json` holds: the counters, without the limits (those come from the config). */
export interface SavedRateLimit {
  version: 1;
  tokens: number;
  at: number;
  recent: number[];
  lastAt: number | null;
}

export function saveRateLimit(s: RateLimitState): SavedRateLimit {
  return { version: 1, tokens: s.tokens, at: s.at, recent: [...s.recent], lastAt: s.lastAt };
}

/**
 * The counters saved before a restart, under today's limits (issue 11 case 15: a crash loop must
 * not reset them and exceed `maxPerDay`). Anything malformed counts as nothing saved; times after
 * `now` (a clock set back) are taken as `now`, so they never free the limit early or hold it forever.
 *
 * @example restoreRateLimit(limits, { version: 1, tokens: 0, at: now - 1000, recent: [now - 1000], lastAt: now - 1000 }, now).recent // [now - 1000]
 */
export function restoreRateLimit(limits: RateLimits, saved: unknown, now: number): RateLimitState {
  const fresh = initialRateLimit(limits, now);
  if (typeof saved !== 'object' || saved === null) return fresh;
  const v = saved as Partial<SavedRateLimit>;
  if (v.version !== 1 || typeof v.tokens !== 'number' || !Number.isFinite(v.tokens) || typeof v.at !== 'number' || !Number.isFinite(v.at) || !Array.isArray(v.recent)) return fresh;
  const clamp = (t: number) => Math.min(t, now);
  const recent = v.recent
    .filter((t): t is number => typeof t === 'number' && Number.isFinite(t))
    .map(clamp)
    .filter((t) => t > now - DAY_MS)
    .sort((a, b) => a - b)
    .slice(-limits.maxPerDay);
  const lastAt = typeof v.lastAt === 'number' && Number.isFinite(v.lastAt) ? clamp(v.lastAt) : recent.length ? recent[recent.length - 1]! : null;
  return { limits: { ...limits }, tokens: Math.max(0, Math.min(limits.maxPerHour, v.tokens)), at: clamp(v.at), recent, lastAt };
}
