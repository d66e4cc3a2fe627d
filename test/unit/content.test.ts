import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareContent, compareJson, isLogOrTemp, isTimestampLike, parseJson, type ContentOptions } from '../../src/core/classify/content.js';

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
