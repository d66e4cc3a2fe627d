/**
 * What counts as a point in time in machine-written state: ISO 8601 and RFC 2822 date-times and
 * epoch numbers within five years of `now` (layer 3 ignores them when they were timestamps at HEAD
 * too). Pure; `now` is an argument.
 */

/** How far from `now` a value may be and still count as a timestamp. */
export const FIVE_YEARS_MS = 5 * 365.25 * 24 * 3600 * 1000;

// Date-times only: a bare date ("2026-03-01") is more often a person's data (a due date) than a
// machine's heartbeat, so it is never treated as volatile.
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;
// RFC 2822 / RFC 7231, e.g. "Tue, 01 Jan 2026 00:00:00 GMT" (weekday optional).
const RFC_DATETIME = /^(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})? (?:GMT|UTC|UT|Z|[+-]\d{4}|[A-Z]{3})$/;

/**
 * True when `v` looks like a point in time within ±5 years of `now`: an ISO 8601 / RFC 2822
 * date-time string, or an epoch number (or numeric string) in seconds or milliseconds.
 */
export function isTimestampLike(v: unknown, now: number): boolean {
  if (typeof v === 'number') return isEpoch(v, now);
  if (typeof v !== 'string' || v.length < 10 || v.length > 40) return false;
  const iso = canonicalIsoMsOf(v);
  if (iso === iso) return Math.abs(iso - now) <= FIVE_YEARS_MS;
  if (/^\d{10}(?:\.\d+)?$|^\d{13}$/.test(v)) return isEpoch(Number(v), now);
  if (!ISO_DATETIME.test(v) && !RFC_DATETIME.test(v)) return false;
  const t = Date.parse(v.includes(' ') && ISO_DATETIME.test(v) ? v.replace(' ', 'T') : v);
  return Number.isFinite(t) && Math.abs(t - now) <= FIVE_YEARS_MS;
}

/** Decimal value of `v[at, at + n)`, or -1 when a character is not a digit. */
function digitsOf(v: string, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    x = x * 10 + c;
  }
  return x;
}

/**
 * Epoch ms of `v` when it is exactly the canonical `YYYY-MM-DDTHH:MM:SS[.sss]Z` of toISOString()
 * with a year from 1970, else NaN. For that shape Date.parse is Date.UTC of the fields (ECMA-262
 * Date Time String Format; V8 rolls an over-long day over exactly as Date.UTC does), at a tenth
 * of its cost. `canonicalIsoMs` in json-lines.ts is the same over bytes.
 */
export function canonicalIsoMsOf(v: string): number {
  const len = v.length;
  if (len !== 20 && len !== 24) return NaN;
  if (v.charCodeAt(4) !== 0x2d || v.charCodeAt(7) !== 0x2d || v.charCodeAt(10) !== 0x54 || v.charCodeAt(13) !== 0x3a || v.charCodeAt(16) !== 0x3a) return NaN;
  if (v.charCodeAt(len - 1) !== 0x5a || (len === 24 && v.charCodeAt(19) !== 0x2e)) return NaN;
  return isoUtc(digitsOf(v, 0, 4), digitsOf(v, 5, 2), digitsOf(v, 8, 2), digitsOf(v, 11, 2), digitsOf(v, 14, 2), digitsOf(v, 17, 2), len === 24 ? digitsOf(v, 20, 3) : 0);
}

export function isoUtc(Y: number, M: number, D: number, h: number, m: number, sec: number, ms: number): number {
  if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || ms < 0) return NaN;
  return Date.UTC(Y, M - 1, D, h, m, sec, ms);
}

function isEpoch(n: number, now: number): boolean {
  if (!Number.isFinite(n) || n <= 0) return false;
  return Math.abs(n - now) <= FIVE_YEARS_MS || Math.abs(n * 1000 - now) <= FIVE_YEARS_MS;
}
