import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createChurnState, isQuarantined, judgeRegular, quarantinedList, recordChange } from '../../src/core/classify/churn.js';

const O = { minEvents: 5, windowMs: 600_000, maxJitter: 0.25 };

test('judgeRegular: table', () => {
  const cases: [string, number[], number | null][] = [
    ['too few events', [0, 1000, 2000, 3000], null],
    ['evenly spaced', [0, 1000, 2000, 3000, 4000], 1000],
    ['small jitter', [0, 1050, 1980, 3010, 4000], 1000],
    ['irregular (a person saving)', [0, 3000, 3500, 12_000, 13_000], null],
    ['only the last minEvents count', [0, 50_000, 51_000, 52_000, 53_000, 54_000], 1000],
    ['same instant', [5, 5, 5, 5, 5], null],
  ];
  for (const [name, times, want] of cases) assert.equal(judgeRegular(times, O), want, name);
});

test('a path changing on a schedule is quarantined; human evidence lifts it', () => {
  const s = createChurnState();
  let q = null;
  for (let i = 0; i < 4; i++) q = recordChange(s, '.claude/status.json', i * 30_000, false, O);
  assert.equal(q, null);
  q = recordChange(s, '.claude/status.json', 4 * 30_000, false, O);
  assert.deepEqual(q, { path: '.claude/status.json', events: 5, periodMs: 30_000 });
  assert.ok(isQuarantined(s, '.claude/status.json'));
  assert.deepEqual(quarantinedList(s), [{ path: '.claude/status.json', events: 5, periodMs: 30_000 }]);
  // One irregular change does not lift the quarantine by itself.
  assert.ok(recordChange(s, '.claude/status.json', 4 * 30_000 + 1000, false, O));
  assert.equal(recordChange(s, '.claude/status.json', 200_000, true, O), null);
  assert.equal(isQuarantined(s, '.claude/status.json'), null);
  assert.deepEqual(quarantinedList(s), []);
});

test('changes spread wider than the window never quarantine', () => {
  const s = createChurnState();
  for (let i = 0; i < 10; i++) assert.equal(recordChange(s, 'a.json', i * 200_000, false, O), null);
});

test('a person editing irregularly is never quarantined', () => {
  const s = createChurnState();
  const times = [0, 4_000, 5_000, 21_000, 22_500, 60_000, 61_000, 90_000];
  for (const t of times) assert.equal(recordChange(s, 'notes.md', t, false, O), null, String(t));
});

test('paths are tracked independently', () => {
  const s = createChurnState();
  for (let i = 0; i < 5; i++) {
    recordChange(s, 'a.json', i * 1000, false, O);
    recordChange(s, 'b.md', i * 1000 + (i % 2 ? 900 : 0), false, O);
  }
  assert.deepEqual(quarantinedList(s).map((q) => q.path), ['a.json']);
});

test('one save reaching the watcher as two events counts once: a schedule is still seen, and the count is of changes', () => {
  const s = createChurnState();
  let q = null;
  // An agent rewriting every 2 s; each write arrives as two events 40 ms apart.
  for (let i = 0; i < 5; i++) {
    q = recordChange(s, 'status.json', i * 2000, false, O);
    if (i < 4) assert.equal(q, null, `write ${i}`);
    const dup = recordChange(s, 'status.json', i * 2000 + 40, false, O);
    if (i < 4) assert.equal(dup, null, `write ${i}, second event`);
  }
  assert.deepEqual(q, { path: 'status.json', events: 5, periodMs: 2000 });
  // Four saves, each as two events: four changes, not eight — below minEvents.
  const p = createChurnState();
  for (let i = 0; i < 4; i++) {
    assert.equal(recordChange(p, 'notes.md', i * 1000, false, O), null);
    assert.equal(recordChange(p, 'notes.md', i * 1000 + 50, false, O), null);
  }
});
