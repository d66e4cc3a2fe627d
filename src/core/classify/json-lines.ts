/**
 * Layer 3's fast path, without parsing: a pretty-printed state file whose writer only bumped
 * timestamps differs from HEAD only in `"<volatile key>": <scalar>` lines. Pure; bytes in.
 */
import type { ContentOptions, ContentVerdict } from './json-compare.js';
import { MAX_NAMED, volatileOnly } from './json-compare.js';
import { FIVE_YEARS_MS, isTimestampLike, isoUtc } from './timestamps.js';

const NL = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
/**
 * Longest line the fast path looks at: a `"key": scalar` line is short, and compact (one-line)
 * JSON must not pay for a scan of the whole file before the full parse it needs anyway.
 */
const MAX_LINE = 8192;

/** What kind of JSON scalar a token is; None when the bytes are not exactly one JSON scalar. */
const enum Tok {
  None = 0,
  String = 1,
  /** A string with an escape or a non-ASCII byte: decoded through JSON.parse. */
  StringSlow = 2,
  Number = 3,
  True = 4,
  False = 5,
  Null = 6,
}

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** Validates `b[s, e)` as one JSON scalar (RFC 8259 grammar) without decoding it. */
function scalarKind(b: Uint8Array, s: number, e: number): Tok {
  if (e <= s) return Tok.None;
  const c = b[s]!;
  if (c === QUOTE) {
    if (e - s < 2 || b[e - 1] !== QUOTE) return Tok.None;
    let slow = false;
    for (let k = s + 1; k < e - 1; k++) {
      const x = b[k]!;
      if (x === QUOTE || x < 0x20) return Tok.None;
      if (x >= 0x80) slow = true;
      else if (x === BACKSLASH) {
        slow = true;
        const y = b[++k];
        if (k >= e - 1) return Tok.None;
        if (y === 0x75) {
          // \uXXXX
          if (k + 4 > e - 2) return Tok.None;
          if (!isHex(b[k + 1]!) || !isHex(b[k + 2]!) || !isHex(b[k + 3]!) || !isHex(b[k + 4]!)) return Tok.None;
          k += 4;
        } else if (y !== QUOTE && y !== BACKSLASH && y !== 0x2f && y !== 0x62 && y !== 0x66 && y !== 0x6e && y !== 0x72 && y !== 0x74) {
          return Tok.None;
        }
      }
    }
    return slow ? Tok.StringSlow : Tok.String;
  }
  if (c === 0x2d || isDigit(c)) {
    let k = s;
    if (b[k] === 0x2d) k++;
    if (k >= e || !isDigit(b[k]!)) return Tok.None;
    if (b[k] === 0x30) k++;
    else while (k < e && isDigit(b[k]!)) k++;
    if (k < e && b[k] === 0x2e) {
      k++;
      if (k >= e || !isDigit(b[k]!)) return Tok.None;
      while (k < e && isDigit(b[k]!)) k++;
    }
    if (k < e && (b[k] === 0x65 || b[k] === 0x45)) {
      k++;
      if (k < e && (b[k] === 0x2b || b[k] === 0x2d)) k++;
      if (k >= e || !isDigit(b[k]!)) return Tok.None;
      while (k < e && isDigit(b[k]!)) k++;
    }
    return k === e ? Tok.Number : Tok.None;
  }
  if (e - s === 4 && c === 0x74 && b[s + 1] === 0x72 && b[s + 2] === 0x75 && b[s + 3] === 0x65) return Tok.True;
  if (e - s === 5 && c === 0x66 && b[s + 1] === 0x61 && b[s + 2] === 0x6c && b[s + 3] === 0x73 && b[s + 4] === 0x65) return Tok.False;
  if (e - s === 4 && c === 0x6e && b[s + 1] === 0x75 && b[s + 2] === 0x6c && b[s + 3] === 0x6c) return Tok.Null;
  return Tok.None;
}

/** The value of a validated scalar token. */
function scalarValue(b: Buffer, s: number, e: number, kind: Tok): unknown {
  switch (kind) {
    case Tok.String:
      return b.toString('latin1', s + 1, e - 1);
    case Tok.StringSlow:
      return JSON.parse(b.toString('utf8', s, e)) as string;
    case Tok.Number: {
      // Plain integers of up to 15 digits are exact as doubles; the rest goes through Number(),
      // whose grammar includes JSON's, with the same value.
      if (e - s <= 15) {
        let x = 0;
        let k = s;
        for (; k < e; k++) {
          const c = b[k]!;
          if (c < 0x30 || c > 0x39) break;
          x = x * 10 + (c - 0x30);
        }
        if (k === e) return x;
      }
      return Number(b.toString('latin1', s, e));
    }
    case Tok.True:
      return true;
    case Tok.False:
      return false;
    default:
      return null;
  }
}

/** Volatile keys as bytes, by the options array (compiled once per config). */
const volatileBytes = new WeakMap<readonly string[], Uint8Array[]>();
function volatileKeyBytes(keys: readonly string[]): Uint8Array[] {
  let v = volatileBytes.get(keys);
  if (!v) volatileBytes.set(keys, (v = keys.map((k) => Buffer.from(k, 'utf8'))));
  return v;
}

function isVolatileKey(b: Uint8Array, s: number, e: number, keys: Uint8Array[]): boolean {
  const len = e - s;
  outer: for (const k of keys) {
    if (k.length !== len) continue;
    for (let x = 0; x < len; x++) if (k[x] !== b[s + x]) continue outer;
    return true;
  }
  return false;
}

/** A 4-byte aligned view of `b` (copied only when its offset is not aligned), for word compares. */
function words(b: Buffer): { bytes: Buffer; words: Int32Array } {
  let bytes = b;
  if ((b.byteOffset & 3) !== 0) {
    // Buffer.alloc never hands out a slice of the shared pool: offset 0.
    bytes = Buffer.alloc(b.length);
    b.copy(bytes);
  }
  return { bytes, words: new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) };
}

/** The decimal number in `b[at, at + n)`, or -1 when a byte is not a digit. */
function digits(b: Buffer, at: number, n: number): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 9) return -1;
    x = x * 10 + c;
  }
  return x;
}

/** canonicalIsoMsOf for the string token `b[s, e)` (quotes included), without decoding it. */
function canonicalIsoMs(b: Buffer, s: number, e: number): number {
  const len = e - s - 2;
  if (len !== 20 && len !== 24) return NaN;
  const at = s + 1;
  if (b[at + 4] !== 0x2d || b[at + 7] !== 0x2d || b[at + 10] !== 0x54 || b[at + 13] !== COLON || b[at + 16] !== COLON) return NaN;
  if (b[at + len - 1] !== 0x5a || (len === 24 && b[at + 19] !== 0x2e)) return NaN;
  return isoUtc(digits(b, at, 4), digits(b, at + 5, 2), digits(b, at + 8, 2), digits(b, at + 11, 2), digits(b, at + 14, 2), digits(b, at + 17, 2), len === 24 ? digits(b, at + 20, 3) : 0);
}

/** Where the value of a member line `x[s, e)` ends: before its trailing comma, blanks and CR. */
function valueEnd(x: Uint8Array, s: number, e: number): number {
  if (e > s && x[e - 1] === CR) e--;
  while (e > s && (x[e - 1] === SP || x[e - 1] === TAB)) e--;
  if (e > s && x[e - 1] === COMMA) e--;
  while (e > s && (x[e - 1] === SP || x[e - 1] === TAB)) e--;
  return e;
}

interface LineWalk {
  keys: Uint8Array[];
  detect: boolean;
  now: number;
  changed: string[];
  /** Newlines counted in `head` so far, and up to where (for the line numbers in the reason). */
  lines: number;
  countedTo: number;
}

/**
 * One differing line pair: `a[as, ae)` at HEAD and `b[bs, be)` now, equal up to `a[as + same]`.
 * True when both are `<indent>"<key>": <scalar><suffix>` with the same indent, key, separator and
 * suffix (trailing comma), and the change is volatile: a listed key, or (with detectTimestamps) a
 * date-time / epoch on both sides; or the same value written differently.
 */
function volatileLine(a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number, same: number, w: LineWalk): boolean {
  let p = as;
  while (p < ae && (a[p] === SP || a[p] === TAB)) p++;
  if (a[p] !== QUOTE) return false;
  const ks = ++p;
  // Keys with escapes are rare in machine-written state; the full comparison handles them.
  while (p < ae && a[p] !== QUOTE) if (a[p++] === BACKSLASH) return false;
  if (p >= ae) return false;
  const ke = p++;
  while (p < ae && (a[p] === SP || a[p] === TAB)) p++;
  if (a[p] !== COLON) return false;
  p++;
  while (p < ae && (a[p] === SP || a[p] === TAB)) p++;
  const v = p - as;
  // Indent, key and separator are the same bytes on both sides only if the lines agree that far.
  if (same < v) return false;
  const aEnd = valueEnd(a, as + v, ae);
  const bEnd = valueEnd(b, bs + v, be);
  if (ae - aEnd !== be - bEnd) return false;
  for (let k = 0; k < ae - aEnd; k++) if (a[aEnd + k] !== b[bEnd + k]) return false;
  const aKind = scalarKind(a, as + v, aEnd);
  const bKind = scalarKind(b, bs + v, bEnd);
  if (aKind === Tok.None || bKind === Tok.None) return false;
  let volatile = isVolatileKey(a, ks, ke, w.keys);
  if (!volatile && w.detect && aKind === Tok.String && bKind === Tok.String) {
    // The usual heartbeat: toISOString() on both sides, judged without decoding either.
    const x = canonicalIsoMs(a, as + v, aEnd);
    const y = canonicalIsoMs(b, bs + v, bEnd);
    if (x === x && y === y) {
      if (Math.abs(x - w.now) > FIVE_YEARS_MS || Math.abs(y - w.now) > FIVE_YEARS_MS) return false;
      volatile = true;
    }
  }
  if (!volatile) {
    const x = scalarValue(a, as + v, aEnd, aKind);
    const y = scalarValue(b, bs + v, bEnd, bKind);
    if (x === y) return true;
    if (!w.detect || !isTimestampLike(x, w.now) || !isTimestampLike(y, w.now)) return false;
    volatile = true;
  }
  if (w.changed.length <= MAX_NAMED) {
    for (let k = w.countedTo; k < as; k++) if (a[k] === NL) w.lines++;
    w.countedTo = as;
    w.changed.push(`${a.toString('utf8', ks, ke)} (line ${w.lines + 1})`);
  }
  return true;
}

/**
 * Layer 3 without parsing, for the common case of a pretty-printed state file whose writer only
 * bumped timestamps: HEAD and the new content have the same number of lines and every line that
 * differs is `<indent>"<key>": <scalar><same suffix>` with the same key on both sides, where the
 * key is volatile (or, with `detectTimestamps`, both values are date-times).
 *
 * Sound only when `head` is valid JSON (the caller has parsed it): replacing one scalar token by
 * another valid scalar token inside an object member keeps the document valid and changes exactly
 * that member's value, which the full comparison ignores too. Returns the BLOCK verdict, or null
 * when the full comparison must decide (never an ALLOW: duplicate keys and the like are its job).
 */
export function compareJsonLines(head: Buffer, current: Buffer, opts: ContentOptions, now: number): ContentVerdict | null {
  const A = words(head);
  const B = words(current);
  const a = A.bytes;
  const b = B.bytes;
  const n = a.length;
  const m = b.length;
  const wa = A.words;
  const wb = B.words;
  const w: LineWalk = { keys: volatileKeyBytes(opts.volatileKeys), detect: opts.detectTimestamps, now, changed: [], lines: 0, countedTo: 0 };
  let i = 0;
  let j = 0;
  for (;;) {
    // Skip the equal run: a word at a time while both sides are at the same alignment (same-length
    // edits keep them so), then byte by byte up to the first difference.
    if (((i ^ j) & 3) === 0) {
      while (i < n && j < m && (i & 3) !== 0 && a[i] === b[j]) {
        i++;
        j++;
      }
      if ((i & 3) === 0) {
        let wi = i >>> 2;
        let wj = j >>> 2;
        while (wi < wa.length && wj < wb.length && wa[wi] === wb[wj]) {
          wi++;
          wj++;
        }
        i = wi << 2;
        j = wj << 2;
      }
    }
    while (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    }
    if (i >= n && j >= m) break;
    // The differing lines. Everything since the last difference is equal, so both lines start
    // the same distance back.
    let as = i;
    const floor = i > MAX_LINE ? i - MAX_LINE : 0;
    while (as > floor && a[as - 1] !== NL) as--;
    if (as === floor && as > 0) return null;
    const bs = j - (i - as);
    let ae = i;
    const aCap = Math.min(n, as + MAX_LINE);
    while (ae < aCap && a[ae] !== NL) ae++;
    let be = j;
    const bCap = Math.min(m, bs + MAX_LINE);
    while (be < bCap && b[be] !== NL) be++;
    if ((ae === aCap && aCap < n) || (be === bCap && bCap < m)) return null;
    if (!volatileLine(a, as, ae, b, bs, be, i - as, w)) return null;
    // Both must end together: a line added or removed anywhere is not this case.
    if (ae >= n || be >= m) {
      if (ae >= n && be >= m) break;
      return null;
    }
    i = ae + 1;
    j = be + 1;
  }
  return volatileOnly(w.changed);
}
