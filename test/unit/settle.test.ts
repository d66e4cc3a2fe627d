import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSettle, addChange, takeDue, nextWake, adaptiveWindow, restorePending, takeAll, HEAT_FREE } from '../../src/core/settle/settle.js';

const cfg = { defaultMs: 30_000, rules: [{ glob: '**/*.{sh,py,js,ts}', ms: 5_000 }, { glob: '*.md', ms: 1_000 }], maxMs: 300_000, maxWaitMs: 600_000 };

test('window comes from the first matching debounce rule, else the default', () => {
  const s = createSettle(cfg);
  const cases: [string, number][] = [
    ['deploy.sh', 5_000],
    ['scripts/deep/run.py', 5_000],
    ['docs/a.md', 1_000], // no slash in glob: base name at any depth
    ['notes.txt', 30_000],
    ['.hidden/x.ts', 5_000],
  ];
  for (const [path, ms] of cases) {
    const e = addChange(s, path, 0);
    assert.equal(e.windowMs, ms, path);
    assert.equal(e.dueAt, ms, path);
  }
});

test('a path is due one quiet window after its last change', () => {
  const s = createSettle(cfg);
  addChange(s, 'a.sh', 0);
  addChange(s, 'a.sh', 3_000);
  assert.equal(nextWake(s), 8_000);
  assert.deepEqual(takeDue(s, 7_999), []);
  const due = takeDue(s, 8_000);
  assert.deepEqual(due.map((d) => d.path), ['a.sh']);
  assert.equal(due[0]!.firstAt, 0);
  assert.equal(nextWake(s), null);
});

test('a person saving a few times in a row keeps the base window', () => {
  const s = createSettle(cfg);
  let e = addChange(s, 'a.sh', 0);
  for (let i = 1; i < HEAT_FREE; i++) e = addChange(s, 'a.sh', i * 1_000);
  assert.equal(e.windowMs, 5_000);
});

test('a path that keeps changing gets a longer window, capped by maxMs', () => {
  const s = createSettle(cfg);
  let e = addChange(s, 'a.sh', 0);
  for (let t = 100; t <= 20_000; t += 100) e = addChange(s, 'a.sh', t);
  assert.ok(e.windowMs > 5_000, `window grew: ${e.windowMs}`);
  assert.ok(e.windowMs <= cfg.maxMs);
});

test('the window shrinks back once the path has been quiet', () => {
  const s = createSettle(cfg);
  let e = addChange(s, 'a.sh', 0);
  for (let t = 100; t <= 20_000; t += 100) e = addChange(s, 'a.sh', t);
  const hot = e.windowMs;
  takeDue(s, e.dueAt);
  // Ten base windows later the heat has halved ten times.
  const later = addChange(s, 'a.sh', e.dueAt + 50_000);
  assert.ok(later.windowMs < hot);
  assert.equal(later.windowMs, 5_000);
});

test('no pending change waits longer than maxWaitMs from its first event', () => {
  const s = createSettle({ ...cfg, maxWaitMs: 12_000 });
  let e = addChange(s, 'a.sh', 0);
  for (let t = 1_000; t <= 11_000; t += 1_000) e = addChange(s, 'a.sh', t);
  assert.equal(e.dueAt, 12_000);
  assert.equal(takeDue(s, 12_000).length, 1);
});

test('due paths come out oldest first and only once', () => {
  const s = createSettle(cfg);
  addChange(s, 'b.sh', 10);
  addChange(s, 'a.sh', 20);
  addChange(s, 'c.txt', 0);
  assert.deepEqual(takeDue(s, 5_020).map((p) => p.path), ['b.sh', 'a.sh']);
  assert.deepEqual(takeDue(s, 5_020), []);
  assert.deepEqual(takeDue(s, 30_000).map((p) => p.path), ['c.txt']);
});

test('adaptiveWindow table', () => {
  const rows: [number, number, number, number][] = [
    [5_000, 1, 300_000, 5_000],
    [5_000, HEAT_FREE, 300_000, 5_000],
    [5_000, HEAT_FREE * 2, 300_000, 10_000],
    [5_000, 1_000, 300_000, 300_000],
    [5_000, 1_000, 1_000, 5_000], // maxMs below base never shortens the base window
  ];
  for (const [base, heat, max, want] of rows) assert.equal(adaptiveWindow(base, heat, max), want, `${base},${heat},${max}`);
});

test('restored paths (replayed after a restart) are due within one base window', () => {
  const s = createSettle(cfg);
  const e = restorePending(s, 'docs/a.md', 0, 100_000);
  assert.equal(e.dueAt, 101_000);
  assert.equal(e.firstAt, 0);
  assert.deepEqual(takeAll(s).map((p) => p.path), ['docs/a.md']);
  assert.equal(nextWake(s), null);
});

test('saves with human evidence never stretch the window', () => {
  const s = createSettle(cfg);
  let e = addChange(s, 'a.sh', 0, { heat: false });
  for (let t = 100; t <= 5_000; t += 100) e = addChange(s, 'a.sh', t, { heat: false });
  assert.equal(e.windowMs, 5_000);
  assert.equal(e.dueAt, 10_000);
});

test('the quiet window counts from the write (mtime), not from when a delayed event was decided', () => {
  const s = createSettle(cfg);
  // Written at 10 000, decided 400 ms later (a watcher batch in a storm): due 5 s after the write.
  const e = addChange(s, 'a.sh', 10_400, { writtenAt: 10_000 });
  assert.equal(e.firstAt, 10_000);
  assert.equal(e.dueAt, 15_000);
  // A write time after the decision (clock skew, `touch -d` into the future) is ignored.
  const f = addChange(s, 'b.sh', 10_400, { writtenAt: 99_000 });
  assert.equal(f.dueAt, 15_400);
  // A later event carrying an older mtime (a file renamed into place) never moves the window back.
  const g = addChange(s, 'a.sh', 12_000, { writtenAt: 11_000 });
  assert.equal(g.dueAt, 16_000);
  const h = addChange(s, 'a.sh', 12_100, { writtenAt: 1_000 });
  assert.equal(h.dueAt, 16_000);
  assert.equal(h.firstAt, 10_000);
  // A change written long ago (made while winnow was down) is due at once, and maxWaitMs counts
  // from the write too.
  const old = addChange(s, 'old.sh', 50_000, { writtenAt: 20_000 });
  assert.ok(old.dueAt <= 50_000);
  const churn = createSettle({ ...cfg, maxWaitMs: 8_000 });
  let c = addChange(churn, 'c.sh', 1_000, { writtenAt: 500 });
  for (let t = 1_500; t <= 9_000; t += 500) c = addChange(churn, 'c.sh', t + 100, { writtenAt: t });
  assert.equal(c.dueAt, 8_500);
});
