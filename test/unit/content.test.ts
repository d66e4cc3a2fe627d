import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIsoMsOf, compareContent, compareJson, compareJsonLines, isLogOrTemp, isTimestampLike, parseJson, type ContentOptions } from '../../src/core/classify/content.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const OPTS: ContentOptions = { volatileKeys: ['timestamp', 'last_update', 'updated_at', 'session_id'], detectTimestamps: true, maxBytes: 5_242_880 };
const b = (s: string | object) => Buffer.from(typeof s === 'string' ? s : JSON.stringify(s));

interface Case {
  name: string;
  path?: string;
  head: string | object | null;
  cur: string | object | null;
  want: 'ALLOW' | 'BLOCK';
  reason?: RegExp;
  opts?: Partial<ContentOptions>;
}

const CASES: Case[] = [
  { name: 'same bytes', head: { a: 1 }, cur: { a: 1 }, want: 'BLOCK', reason: /unchanged/ },
  { name: 'same bytes, text', path: 'a.md', head: 'x\n', cur: 'x\n', want: 'BLOCK', reason: /unchanged/ },
  { name: 'text change', path: 'a.md', head: 'x\n', cur: 'y\n', want: 'ALLOW' },
  { name: 'top-level volatile key', head: { a: 1, timestamp: 1 }, cur: { a: 1, timestamp: 2 }, want: 'BLOCK', reason: /only volatile fields changed: timestamp/ },
  { name: 'nested volatile key', head: { s: { x: { updated_at: 'a' } }, k: 1 }, cur: { s: { x: { updated_at: 'b' } }, k: 1 }, want: 'BLOCK', reason: /s\.x\.updated_at/ },
  { name: 'volatile key inside array elements', head: { l: [{ session_id: 'a', v: 1 }] }, cur: { l: [{ session_id: 'b', v: 1 }] }, want: 'BLOCK', reason: /l\[0\]\.session_id/ },
  { name: 'volatile key added', head: { a: 1 }, cur: { a: 1, last_update: 5 }, want: 'BLOCK' },
  { name: 'volatile key removed', head: { a: 1, last_update: 5 }, cur: { a: 1 }, want: 'BLOCK' },
  { name: 'volatile + real change', head: { a: 1, timestamp: 1 }, cur: { a: 2, timestamp: 2 }, want: 'ALLOW', reason: /content change/ },
  { name: 'array element changed', head: { l: [1, 2, 3] }, cur: { l: [1, 2, 4] }, want: 'ALLOW' },
  { name: 'array reordered', head: { l: [1, 2] }, cur: { l: [2, 1] }, want: 'ALLOW' },
  { name: 'array grew', head: { l: [1] }, cur: { l: [1, 1] }, want: 'ALLOW' },
  { name: 'key order and whitespace only', head: '{"a":1,"b":2}', cur: '{\n  "b": 2,\n  "a": 1\n}\n', want: 'BLOCK', reason: /formatting/ },
  { name: 'ISO timestamp under another key', head: { heartbeat: '2026-05-31T10:00:00Z', n: 1 }, cur: { heartbeat: '2026-06-01T11:59:59.123Z', n: 1 }, want: 'BLOCK', reason: /heartbeat/ },
  { name: 'epoch seconds', head: { seen: 1780000000 }, cur: { seen: 1780000100 }, want: 'BLOCK' },
  { name: 'epoch milliseconds', head: { seen: NOW - 1000 }, cur: { seen: NOW }, want: 'BLOCK' },
  { name: 'RFC 2822 date', head: { d: 'Sun, 31 May 2026 10:00:00 GMT' }, cur: { d: 'Mon, 01 Jun 2026 10:00:00 GMT' }, want: 'BLOCK' },
  { name: 'timestamp replaced by a non-timestamp', head: { t: '2026-05-31T10:00:00Z' }, cur: { t: 'soon' }, want: 'ALLOW' },
  { name: 'timestamp key new (not at HEAD)', head: { a: 1 }, cur: { a: 1, t: '2026-05-31T10:00:00Z' }, want: 'ALLOW' },
  { name: 'date-only values are data', head: { due: '2026-05-31' }, cur: { due: '2026-06-02' }, want: 'ALLOW' },
  { name: 'small counters are not epochs', head: { count: 41 }, cur: { count: 42 }, want: 'ALLOW' },
  { name: 'epoch far from now is data', head: { t: 100000000 }, cur: { t: 100000001 }, want: 'ALLOW' },
  { name: 'detectTimestamps off', head: { heartbeat: '2026-05-31T10:00:00Z' }, cur: { heartbeat: '2026-06-01T10:00:00Z' }, want: 'ALLOW', opts: { detectTimestamps: false } },
  { name: 'invalid JSON now', head: { a: 1 }, cur: '{"a":', want: 'ALLOW', reason: /invalid JSON/ },
  { name: 'invalid JSON at HEAD', head: '{oops', cur: { a: 1 }, want: 'ALLOW', reason: /invalid JSON/ },
  { name: 'over maxBytes', head: { a: 1, timestamp: 1 }, cur: { a: 1, timestamp: 2 }, want: 'ALLOW', reason: /maxBytes/, opts: { maxBytes: 10 } },
  { name: 'new file', head: null, cur: { a: 1 }, want: 'ALLOW', reason: /new file/ },
  { name: 'deleted file', head: { a: 1 }, cur: null, want: 'ALLOW', reason: /deleted/ },
  { name: 'absent on both sides', head: null, cur: null, want: 'BLOCK' },
  { name: 'log file', path: 'logs/agent.log', head: 'a', cur: 'ab', want: 'BLOCK', reason: /log/ },
  { name: 'rotated log', path: 'agent.log.3', head: null, cur: 'x', want: 'BLOCK' },
  { name: 'editor backup', path: 'notes.md~', head: null, cur: 'x', want: 'BLOCK', reason: /temporary/ },
  { name: 'emacs autosave', path: 'dir/#notes.md#', head: null, cur: 'x', want: 'BLOCK' },
  { name: 'swap file', path: '.notes.md.swp', head: null, cur: 'x', want: 'BLOCK' },
  { name: '.jsonc is text', path: 'a.jsonc', head: { a: 1, timestamp: 1 }, cur: { a: 1, timestamp: 2 }, want: 'ALLOW' },
  { name: 'volatile keys are configurable', head: { a: 1, tick: 1 }, cur: { a: 1, tick: 2 }, want: 'BLOCK', opts: { volatileKeys: ['tick'] } },
];

for (const c of CASES) {
  test(`compareContent: ${c.name} → ${c.want}`, () => {
    const path = c.path ?? 'state/status.json';
    const toBuf = (v: Case['head']) => (v === null ? null : b(v));
    const got = compareContent(path, toBuf(c.head), toBuf(c.cur), { ...OPTS, ...c.opts }, NOW);
    assert.equal(got.decision, c.want, got.reason);
    if (c.reason) assert.match(got.reason, c.reason);
  });
}

test('compareContent with a cached parsed HEAD gives the same verdicts', () => {
  for (const c of CASES) {
    if (c.head === null || c.cur === null) continue;
    const path = c.path ?? 'state/status.json';
    const head = b(c.head);
    const opts = { ...OPTS, ...c.opts };
    assert.deepEqual(compareContent(path, head, b(c.cur), opts, NOW, parseJson(head)), compareContent(path, head, b(c.cur), opts, NOW), c.name);
  }
});

const pretty = (v: unknown, indent: number | string = 2) => JSON.stringify(v, null, indent);
const T1 = '2026-05-31T10:00:00.000Z';
const T2 = '2026-06-01T11:59:59.123Z';

interface LineCase {
  name: string;
  head: string;
  cur: string;
  want: 'ALLOW' | 'BLOCK';
  /** Whether the line fast path decides (true) or leaves it to the full parse (false). */
  fast: boolean;
  reason?: RegExp;
  opts?: Partial<ContentOptions>;
}

/** Pretty-printed pairs: the line fast path, and the traps where it must step aside. */
const LINE_CASES: LineCase[] = [
  { name: 'volatile ISO timestamp', head: pretty({ timestamp: T1, n: 1 }), cur: pretty({ timestamp: T2, n: 1 }), want: 'BLOCK', fast: true, reason: /only volatile fields changed: timestamp \(line 2\)$/ },
  { name: 'nested volatile epoch and session', head: pretty({ a: { updated_at: 1, session_id: 's-1', k: [1] } }), cur: pretty({ a: { updated_at: 2, session_id: 's-2', k: [1] } }), want: 'BLOCK', fast: true, reason: /updated_at \(line 3\), session_id \(line 4\)/ },
  { name: 'date-time under another key', head: pretty({ heartbeat: T1 }), cur: pretty({ heartbeat: T2 }), want: 'BLOCK', fast: true, reason: /heartbeat/ },
  { name: 'non-canonical date-times under another key', head: pretty({ hb: '2026-05-31 10:00' }), cur: pretty({ hb: 'Mon, 01 Jun 2026 10:00:00 GMT' }), want: 'BLOCK', fast: true },
  { name: 'epoch under another key', head: pretty({ seen: NOW - 1000 }), cur: pretty({ seen: NOW }), want: 'BLOCK', fast: true },
  { name: 'tab indent and CRLF', head: pretty({ timestamp: 1, a: 'x' }, '\t').replace(/\n/g, '\r\n'), cur: pretty({ timestamp: 2, a: 'x' }, '\t').replace(/\n/g, '\r\n'), want: 'BLOCK', fast: true },
  { name: 'same value written differently', head: '{\n  "n": 1.0\n}', cur: '{\n  "n": 1\n}', want: 'BLOCK', fast: true, reason: /formatting/ },
  { name: 'volatile key becomes null, string, boolean', head: pretty({ timestamp: 1, updated_at: 'a', session_id: null }), cur: pretty({ timestamp: null, updated_at: true, session_id: 'x\u00e9"\\' }), want: 'BLOCK', fast: true },
  { name: 'date-time detection off', head: pretty({ heartbeat: T1 }), cur: pretty({ heartbeat: T2 }), want: 'ALLOW', fast: false, opts: { detectTimestamps: false } },
  { name: 'date-time replaced by a word', head: pretty({ heartbeat: T1 }), cur: pretty({ heartbeat: 'soon' }), want: 'ALLOW', fast: false },
  { name: 'almost a date-time (wrong fraction separator) is data', head: pretty({ hb: '2026-05-31T10:00:00x000Z' }), cur: pretty({ hb: '2026-05-31T10:00:01x000Z' }), want: 'ALLOW', fast: false },
  { name: 'date-time moved far from now', head: pretty({ t: T1 }), cur: pretty({ t: '2040-01-01T00:00:00.000Z' }), want: 'ALLOW', fast: false },
  { name: 'date-time far from now', head: pretty({ t: '2010-01-01T00:00:00Z' }), cur: pretty({ t: '2010-01-02T00:00:00Z' }), want: 'ALLOW', fast: false },
  { name: 'real change next to a volatile one', head: pretty({ timestamp: 1, n: 1 }), cur: pretty({ timestamp: 2, n: 2 }), want: 'ALLOW', fast: false },
  // Traps.
  { name: 'a volatile key inside a string value', head: pretty({ note: 'x "timestamp": 1' }), cur: pretty({ note: 'x "timestamp": 2' }), want: 'ALLOW', fast: false },
  { name: 'a volatile key inside a string value with a colon', head: '{\n  "note": "\\"timestamp\\": 1"\n}', cur: '{\n  "note": "\\"timestamp\\": 2"\n}', want: 'ALLOW', fast: false },
  { name: 'a key moved to another line', head: pretty({ timestamp: 1, a: 1 }), cur: pretty({ a: 1, timestamp: 2 }), want: 'BLOCK', fast: false },
  { name: 'a key renamed on its line', head: pretty({ timestamp: 1 }), cur: pretty({ timestamps: 1 }), want: 'ALLOW', fast: false },
  { name: 'a comma replaced by a blank (invalid JSON)', head: '{\n  "timestamp": 1,\n  "a": 1\n}', cur: '{\n  "timestamp": 2 \n  "a": 1\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a raw key equal to a volatile key only before unescaping', head: '{\n  "x\\ny": 1\n}', cur: '{\n  "x\\ny": 2\n}', want: 'ALLOW', fast: false, opts: { volatileKeys: ['x\\ny'] } },
  { name: 'a key renamed to one of the same length', head: pretty({ timestamp: 1, a: 1 }), cur: pretty({ timestamq: 2, a: 1 }), want: 'ALLOW', fast: false },
  { name: 'the indent changed on a volatile line', head: pretty({ timestamp: 1, a: 1 }), cur: '{\n   "timestamp": 2,\n  "a": 1\n}', want: 'BLOCK', fast: false },
  { name: 'a trailing comma added (invalid JSON)', head: '{\n  "a": 1,\n  "timestamp": 1\n}', cur: '{\n  "a": 1,\n  "timestamp": 2,\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a comma removed (invalid JSON)', head: '{\n  "timestamp": 1,\n  "a": 1\n}', cur: '{\n  "timestamp": 2\n  "a": 1\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a value that becomes an object', head: pretty({ timestamp: 1, a: 1 }), cur: pretty({ timestamp: { at: 2 }, a: 1 }), want: 'BLOCK', fast: false },
  { name: 'a value that becomes an inline object', head: '{\n  "timestamp": 1\n}', cur: '{\n  "timestamp": {}\n}', want: 'BLOCK', fast: false },
  { name: 'a new value that is not JSON (leading zero)', head: '{\n  "timestamp": 1\n}', cur: '{\n  "timestamp": 01\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a new value that is not JSON (open string)', head: '{\n  "timestamp": "a"\n}', cur: '{\n  "timestamp": "a\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a new value that is not JSON (bad escape)', head: '{\n  "timestamp": "a"\n}', cur: '{\n  "timestamp": "\\q"\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a new value that is not JSON (two tokens)', head: '{\n  "timestamp": 1\n}', cur: '{\n  "timestamp": 1 2\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
  { name: 'a second member on the line', head: '{\n  "timestamp": 1, "a": 1\n}', cur: '{\n  "timestamp": 1, "a": 2\n}', want: 'ALLOW', fast: false },
  { name: 'a string spanning what looks like two members', head: '{\n  "timestamp": "1", "a": "1"\n}', cur: '{\n  "timestamp": "1", "a": "2"\n}', want: 'ALLOW', fast: false },
  { name: 'an escaped key (decoded, it is volatile)', head: '{\n  "time\\u0073tamp": 1\n}', cur: '{\n  "time\\u0073tamp": 2\n}', want: 'BLOCK', fast: false },
  { name: 'array elements are data, even date-times', head: pretty({ l: [T1] }), cur: pretty({ l: [T2] }), want: 'ALLOW', fast: false },
  { name: 'a line added', head: pretty({ timestamp: 1 }), cur: pretty({ timestamp: 2, a: 1 }), want: 'ALLOW', fast: false },
  { name: 'a trailing newline added', head: pretty({ timestamp: 1 }), cur: `${pretty({ timestamp: 2 })}\n`, want: 'BLOCK', fast: false },
  { name: 'a duplicate key overridden later', head: '{\n  "a": 1,\n  "a": 2\n}', cur: '{\n  "a": 5,\n  "a": 2\n}', want: 'BLOCK', fast: false },
  { name: 'HEAD invalid (trailing comma)', head: '{\n  "timestamp": 1,\n}', cur: '{\n  "timestamp": 2,\n}', want: 'ALLOW', fast: false, reason: /invalid JSON/ },
];

for (const c of LINE_CASES) {
  test(`compareContent, pretty-printed: ${c.name} → ${c.want}${c.fast ? ' (line fast path)' : ''}`, () => {
    const opts = { ...OPTS, ...c.opts };
    const head = Buffer.from(c.head);
    const cur = Buffer.from(c.cur);
    const got = compareContent('state/status.json', head, cur, opts, NOW);
    assert.equal(got.decision, c.want, got.reason);
    if (c.reason) assert.match(got.reason, c.reason);
    const h = parseJson(head);
    const fast = h.ok ? compareJsonLines(head, cur, opts, NOW) : null;
    assert.equal(fast !== null, c.fast, `fast path ${fast ? 'decided' : 'stepped aside'}: ${fast?.reason ?? ''}`);
    if (fast) assert.deepEqual(fast, got);
    // The full comparison agrees with the verdict whenever both documents parse.
    const v = parseJson(cur);
    if (h.ok && v.ok) assert.equal(compareJson(h, v.value, opts, NOW).decision, c.want);
  });
}

test('compareJsonLines: word-aligned and unaligned buffers give the same verdicts', () => {
  const head = Buffer.from(pretty({ timestamp: T1, items: Array.from({ length: 50 }, (_, i) => ({ i, updated_at: i, name: `n${i}` })) }));
  const cur = Buffer.from(pretty({ timestamp: T2, items: Array.from({ length: 50 }, (_, i) => ({ i, updated_at: i + 1000, name: `n${i}` })) }));
  const shifted = (b: Buffer, by: number) => Buffer.concat([Buffer.alloc(by), b]).subarray(by);
  const want = compareJsonLines(head, cur, OPTS, NOW);
  assert.equal(want?.decision, 'BLOCK');
  for (let x = 0; x < 4; x++) for (let y = 0; y < 4; y++) assert.deepEqual(compareJsonLines(shifted(head, x), shifted(cur, y), OPTS, NOW), want, `${x}/${y}`);
  const real = Buffer.from(pretty({ timestamp: T2, items: Array.from({ length: 50 }, (_, i) => ({ i, updated_at: i + 1000, name: `n${i === 49 ? 'X' : i}` })) }));
  for (let x = 0; x < 4; x++) assert.equal(compareJsonLines(shifted(head, x), shifted(real, 3 - x), OPTS, NOW), null);
});

test('compareJsonLines steps aside on compact JSON and on very long lines; the verdicts stay right', () => {
  const items = Array.from({ length: 3000 }, (_, i) => ({ i, name: `item ${i}` }));
  const head = Buffer.from(JSON.stringify({ timestamp: 1, items }));
  const cur = Buffer.from(JSON.stringify({ timestamp: 2, items }));
  assert.ok(head.length > 50_000);
  assert.equal(compareJsonLines(head, cur, OPTS, NOW), null);
  assert.equal(compareContent('s.json', head, cur, OPTS, NOW).decision, 'BLOCK');
  const long = (v: string) => Buffer.from(pretty({ a: 1, session_id: v, b: 2 }));
  const x = 'x'.repeat(20_000);
  assert.equal(compareJsonLines(long(`${x}1`), long(`${x}2`), OPTS, NOW), null);
  assert.equal(compareContent('s.json', long(`${x}1`), long(`${x}2`), OPTS, NOW).decision, 'BLOCK');
});

test('canonicalIsoMsOf is Date.parse for toISOString() shapes, including day roll-over, and NaN otherwise', () => {
  const base = Date.UTC(1970, 0, 1);
  for (let k = 0; k < 2000; k++) {
    const t = base + Math.floor(((k * 7919) % 2000) / 2000 * 2_000_000_000_000) + k * 37;
    const iso = new Date(t).toISOString();
    assert.equal(canonicalIsoMsOf(iso), Date.parse(iso), iso);
    assert.equal(canonicalIsoMsOf(iso.slice(0, 19) + 'Z'), Date.parse(iso.slice(0, 19) + 'Z'), iso);
  }
  for (const s of ['2026-02-29T00:00:00Z', '2026-02-31T23:59:59.999Z', '2026-04-31T12:00:00Z', '2024-02-30T00:00:00.000Z']) {
    assert.equal(canonicalIsoMsOf(s), Date.parse(s), s);
  }
  for (const s of ['2026-06-01T24:00:00Z', '2026-06-01T12:60:00Z', '2026-13-01T00:00:00Z', '1969-12-31T23:59:59Z', '2026-06-01t12:00:00z', '2026-06-01T12:00:00.1Z', '2026-06-01T12:00:00x123Z', '2026-06-01T12:00:00+00:00', '2026-06-01 12:00:00Z']) {
    assert.ok(Number.isNaN(canonicalIsoMsOf(s)), s);
  }
});

test('compareJson names at most five keys', () => {
  const head: Record<string, string> = {};
  const cur: Record<string, string> = {};
  for (let i = 0; i < 8; i++) {
    head[`k${i}`] = '2026-05-31T10:00:00Z';
    cur[`k${i}`] = '2026-06-01T10:00:00Z';
  }
  const r = compareJson({ ok: true, value: head }, cur, OPTS, NOW);
  assert.equal(r.decision, 'BLOCK');
  assert.match(r.reason, /k4, …$/);
});

test('isTimestampLike', () => {
  const yes = ['2026-06-01T12:00:00Z', '2026-06-01 12:00', '2026-06-01T12:00:00.123456+02:00', 'Mon, 01 Jun 2026 12:00:00 GMT', '1780000000', NOW, NOW / 1000];
  const no = ['2026-06-01', 'hello world 12:00', '12:00:00', 42, -1, '1', true, null, '1990-01-01T00:00:00Z', NOW * 10];
  for (const v of yes) assert.equal(isTimestampLike(v, NOW), true, String(v));
  for (const v of no) assert.equal(isTimestampLike(v, NOW), false, String(v));
});

test('isLogOrTemp', () => {
  assert.equal(isLogOrTemp('a/b/x.log'), 'log');
  assert.equal(isLogOrTemp('x.log.12'), 'log');
  assert.equal(isLogOrTemp('x.logger.ts'), null);
  for (const p of ['x~', 'x.bak', 'x.swp', 'x.tmp', 'x.orig', '#x#']) assert.equal(isLogOrTemp(p), 'temp', p);
  assert.equal(isLogOrTemp('#'), null);
  assert.equal(isLogOrTemp('notes.md'), null);
});

test('large files: compared by blob id above 1 MiB (either side), JSON up to json.maxBytes still read whole', async () => {
  const { comparesByHash, compareByBlobId, LARGE_FILE_BYTES } = await import('../../src/core/classify/content.js');
  const o = { maxBytes: 5 * 1024 * 1024 };
  assert.equal(comparesByHash('a.bin', LARGE_FILE_BYTES, null, o), false);
  assert.equal(comparesByHash('a.bin', LARGE_FILE_BYTES + 1, null, o), true);
  assert.equal(comparesByHash('a.bin', 10, 100 * 1024 * 1024, o), true, 'a small file whose HEAD blob is large');
  assert.equal(comparesByHash('a.json', 3 * 1024 * 1024, 10, o), false, 'JSON under json.maxBytes keeps its volatile-key comparison');
  assert.equal(comparesByHash('a.json', 6 * 1024 * 1024, 10, o), true);
  assert.equal(compareByBlobId('a.bin', 'abc', 'abc').decision, 'BLOCK');
  assert.match(compareByBlobId('a.bin', 'abc', 'abd').reason, /compared by hash/);
  assert.equal(compareByBlobId('a.bin', 'abc', 'abd').decision, 'ALLOW');
  assert.equal(compareByBlobId('a.bin', null, 'abd').decision, 'ALLOW');
  assert.equal(compareByBlobId('big.log', 'abc', 'abd').decision, 'BLOCK', 'logs stay blocked whatever their size');
});
