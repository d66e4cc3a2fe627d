/**
 * Layer 3: did anything but a timestamp change? Pure: bytes in, verdict out; `now` is an argument.
 *
 * JSON is recognised by extension only (`.json`). Content sniffing of extension-less files is not
 * done: almost any short text (`1`, `true`, `"x"`) parses as JSON, and a person's edit must never be
 * judged by rules meant for machine-written state. `.jsonc`/`.json5` are not JSON.parse-able with
 * their comments, so they are plain text here (every change ALLOW).
 */
import type { Verdict } from '../decision.js';

export interface ContentOptions {
  volatileKeys: readonly string[];
  detectTimestamps: boolean;
  maxBytes: number;
}

export interface ContentVerdict {
  decision: Verdict;
  reason: string;
}

/** A parsed JSON document, or the fact that it did not parse (cached per HEAD blob by the classifier). */
export type JsonParse = { ok: true; value: unknown } | { ok: false };

const FIVE_YEARS_MS = 5 * 365.25 * 24 * 3600 * 1000;

// Date-times only: a bare date ("2026-03-01") is more often a person's data (a due date) than a
// machine's heartbeat, so it is never treated as volatile.
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/i;
// RFC 2822 / RFC 7231, e.g. "Tue, 01 Jan 2026 00:00:00 GMT" (weekday optional).
const RFC_DATETIME = /^(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})? (?:GMT|UTC|UT|Z|[+-]\d{4}|[A-Z]{3})$/;

const LOG_RE = /\.log(?:\.\d+)?$/i;
const BACKUP_RE = /(?:~|\.bak|\.swp|\.swo|\.tmp|\.orig)$/i;

function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Logs (`*.log`, `*.log.N`) and editor backup/temporary files (`*~`, `*.bak`, `*.swp`, `*.tmp`, `*.orig`, `#*#`). */
export function isLogOrTemp(path: string): 'log' | 'temp' | null {
  const b = baseName(path);
  if (LOG_RE.test(b)) return 'log';
  if (BACKUP_RE.test(b) || (b.length > 2 && b.startsWith('#') && b.endsWith('#'))) return 'temp';
  return null;
}

export function isJsonPath(path: string): boolean {
  return /\.json$/i.test(path);
}

export function parseJson(buf: Buffer): JsonParse {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/**
 * True when `v` looks like a point in time within ±5 years of `now`: an ISO 8601 / RFC 2822
 * date-time string, or an epoch number (or numeric string) in seconds or milliseconds.
 */
export function isTimestampLike(v: unknown, now: number): boolean {
  if (typeof v === 'number') return isEpoch(v, now);
  if (typeof v !== 'string' || v.length < 10 || v.length > 40) return false;
  if (/^\d{10}(?:\.\d+)?$|^\d{13}$/.test(v)) return isEpoch(Number(v), now);
  if (!ISO_DATETIME.test(v) && !RFC_DATETIME.test(v)) return false;
  const t = Date.parse(v.includes(' ') && ISO_DATETIME.test(v) ? v.replace(' ', 'T') : v);
  return Number.isFinite(t) && Math.abs(t - now) <= FIVE_YEARS_MS;
}

function isEpoch(n: number, now: number): boolean {
  if (!Number.isFinite(n) || n <= 0) return false;
  return Math.abs(n - now) <= FIVE_YEARS_MS || Math.abs(n * 1000 - now) <= FIVE_YEARS_MS;
}

interface Walk {
  volatile: Set<string>;
  detect: boolean;
  now: number;
  /** Volatile key paths whose values differ (for the reason text). */
  changed: string[];
}

const MAX_NAMED = 5;

/**
 * Structural comparison ignoring volatile keys: the same relation as comparing the canonical
 * (fast-json-stable-stringify) forms after stripping, without building two strings, and it can
 * name what changed. Returns false at the first non-volatile difference.
 */
function sameIgnoringVolatile(a: unknown, b: unknown, w: Walk, at: string): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const aArr = Array.isArray(a);
  if (aArr !== Array.isArray(b)) return false;
  if (aArr) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameIgnoringVolatile(x[i], y[i], w, `${at}[${i}]`)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) {
    if (!Object.prototype.hasOwnProperty.call(x, k)) continue;
    const key = at ? `${at}.${k}` : k;
    const inY = Object.prototype.hasOwnProperty.call(y, k);
    if (w.volatile.has(k)) {
      if (!inY || !shallowSame(x[k], y[k])) noteChanged(w, key);
      continue;
    }
    if (!inY) return false;
    const xv = x[k];
    const yv = y[k];
    if (xv === yv) continue;
    if (w.detect && isTimestampLike(xv, w.now) && isTimestampLike(yv, w.now)) {
      noteChanged(w, key);
      continue;
    }
    if (!sameIgnoringVolatile(xv, yv, w, key)) return false;
  }
  for (const k in y) {
    if (!Object.prototype.hasOwnProperty.call(y, k) || Object.prototype.hasOwnProperty.call(x, k)) continue;
    if (w.volatile.has(k)) {
      noteChanged(w, at ? `${at}.${k}` : k);
      continue;
    }
    return false;
  }
  return true;
}

function shallowSame(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
}

function noteChanged(w: Walk, key: string): void {
  if (w.changed.length <= MAX_NAMED) w.changed.push(key);
}

/**
 * Compares two parsed JSON documents ignoring `opts.volatileKeys` at any depth and (with
 * `detectTimestamps`) date-time values that were date-times at HEAD too.
 *
 * @example
 * compareJson({ok:true,value:{a:1,timestamp:1}}, {a:1,timestamp:2}, opts, now)
 * // → { decision: 'BLOCK', reason: 'only volatile fields changed: timestamp' }
 */
export function compareJson(head: JsonParse, current: unknown, opts: ContentOptions, now: number): ContentVerdict {
  if (!head.ok) return { decision: 'ALLOW', reason: 'content change (HEAD version was invalid JSON)' };
  const w: Walk = { volatile: new Set(opts.volatileKeys), detect: opts.detectTimestamps, now, changed: [] };
  if (!sameIgnoringVolatile(head.value, current, w, '')) return { decision: 'ALLOW', reason: 'content change (JSON)' };
  if (w.changed.length === 0) return { decision: 'BLOCK', reason: 'only formatting changed (same JSON data as HEAD)' };
  const named = w.changed.slice(0, MAX_NAMED).join(', ') + (w.changed.length > MAX_NAMED ? ', …' : '');
  return { decision: 'BLOCK', reason: `only volatile fields changed: ${named}` };
}

/**
 * Layer 3 verdict for one path. `head` is the committed content (null: not at HEAD), `current` the
 * content on disk (null: deleted). Pass `headJson` when the parsed HEAD is cached (by blob id).
 */
export function compareContent(
  path: string,
  head: Buffer | null,
  current: Buffer | null,
  opts: ContentOptions,
  now: number,
  headJson?: JsonParse,
): ContentVerdict {
  const kind = isLogOrTemp(path);
  if (kind === 'log') return { decision: 'BLOCK', reason: 'log file' };
  if (kind === 'temp') return { decision: 'BLOCK', reason: 'backup or temporary file' };
  if (current === null) {
    return head === null
      ? { decision: 'BLOCK', reason: 'unchanged (absent at HEAD and on disk)' }
      : { decision: 'ALLOW', reason: 'content change (deleted)' };
  }
  if (head === null) return { decision: 'ALLOW', reason: 'content change (new file)' };
  if (head.equals(current)) return { decision: 'BLOCK', reason: 'unchanged (same bytes as HEAD)' };
  if (!isJsonPath(path)) return { decision: 'ALLOW', reason: 'content change' };
  if (current.length > opts.maxBytes || head.length > opts.maxBytes) {
    return { decision: 'ALLOW', reason: `content change (JSON over json.maxBytes = ${opts.maxBytes} bytes, not compared)` };
  }
  const cur = parseJson(current);
  if (!cur.ok) return { decision: 'ALLOW', reason: 'content change (invalid JSON)' };
  const h = headJson ?? parseJson(head);
  if (!h.ok) return { decision: 'ALLOW', reason: 'content change (invalid JSON at HEAD)' };
  return compareJson(h, cur.value, opts, now);
}
