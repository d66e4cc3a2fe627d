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
  for (let i = 0; i < 4; i++) q = recordChange(s, '.claude/status.json', i * 30_000, false, O, true);
  assert.equal(q, null);
  q = recordChange(s, '.claude/status.json', 4 * 30_000, false, O, true);
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
  for (let i = 0; i < 10; i++) assert.equal(recordChange(s, 'a.json', i * 200_000, false, O, true), null);
});

test('a person editing irregularly is never quarantined', () => {
  const s = createChurnState();
  const times = [0, 4_000, 5_000, 21_000, 22_500, 60_000, 61_000, 90_000];
  for (const t of times) assert.equal(recordChange(s, 'notes.md', t, false, O, true), null, String(t));
});

test('paths are tracked independently', () => {
  const s = createChurnState();
  for (let i = 0; i < 5; i++) {
    recordChange(s, 'a.json', i * 1000, false, O, true);
    recordChange(s, 'b.md', i * 1000 + (i % 2 ? 900 : 0), false, O, true);
  }
  assert.deepEqual(quarantinedList(s).map((q) => q.path), ['a.json']);
});

test('one save reaching the watcher as two events counts once: a schedule is still seen, and the count is of changes', () => {
  const s = createChurnState();
  let q = null;
  // An agent rewriting every 2 s; each write arrives as two events 40 ms apart.
  for (let i = 0; i < 5; i++) {
    q = recordChange(s, 'status.json', i * 2000, false, O, true);
    if (i < 4) assert.equal(q, null, `write ${i}`);
    const dup = recordChange(s, 'status.json', i * 2000 + 40, false, O, true);
    if (i < 4) assert.equal(dup, null, `write ${i}, second event`);
  }
  assert.deepEqual(q, { path: 'status.json', events: 5, periodMs: 2000 });
  // Four saves, each as two events: four changes, not eight — below minEvents.
  const p = createChurnState();
  for (let i = 0; i < 4; i++) {
    assert.equal(recordChange(p, 'notes.md', i * 1000, false, O, true), null);
    assert.equal(recordChange(p, 'notes.md', i * 1000 + 50, false, O, true), null);
  }
});

test('a schedule alone is not evidence: editor autosave every 1 s and every 2 s is never quarantined (issue 10)', () => {
  for (const period of [1000, 2000]) {
    const s = createChurnState();
    // Autosave: evenly spaced saves, no evidence that an autonomous process wrote them.
    for (let i = 0; i < 30; i++) assert.equal(recordChange(s, 'draft.md', i * period, false, O), null, `${period} ms, save ${i}`);
    assert.deepEqual(quarantinedList(s), []);
  }
});

test('quarantine needs autonomous evidence within the window; evidence older than the window is forgotten', () => {
  const s = createChurnState();
  // One write with autonomous evidence, then a schedule long after it: not the agent's schedule.
  recordChange(s, 'x.json', 0, false, O, true);
  for (let i = 1; i <= 6; i++) assert.equal(recordChange(s, 'x.json', O.windowMs + i * 1000, false, O), null);
  // Evidence on one change of a schedule within the window is enough: the rest are the same writer's.
  const t = createChurnState();
  let q = null;
  for (let i = 0; i < 5; i++) q = recordChange(t, 'y.json', i * 1000, false, O, i === 2);
  assert.deepEqual(q, { path: 'y.json', events: 5, periodMs: 1000 });
});
