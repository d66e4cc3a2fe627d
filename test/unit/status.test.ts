import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStatus, type StatusInput } from '../../src/core/status.js';

const NOW = Date.UTC(2026, 11, 2, 12);

function input(over: Partial<StatusInput> = {}): StatusInput {
  return {
    root: '/ws',
    pid: 7,
    startedAt: NOW - 60_000,
    idle: false,
    pending: [],
    committer: { waiting: null, lastCommits: [], rateLimit: null, breaker: null, held: [] },
    pause: null,
    counts: {} as StatusInput['counts'],
    evidence: {} as StatusInput['evidence'],
    quarantined: [],
    heldOnTiming: [],
    watcher: {} as StatusInput['watcher'],
    sync: null,
    configFile: null,
    ...over,
  };
}

test('a held path is listed as held, not also as pending for the next commit', () => {
  const s = buildStatus(
    input({
      pending: [
        { path: 'secrets.env', firstAt: NOW - 5_000, dueAt: null },
        { path: 'notes.md', firstAt: NOW - 1_000, dueAt: NOW + 500 },
      ],
      committer: { waiting: null, lastCommits: [], rateLimit: null, breaker: null, held: [{ path: 'secrets.env', reason: 'looks like a secret' }] },
    }),
    NOW,
  );
  assert.deepEqual(s.pending.map((p) => p.path), ['notes.md']);
  assert.deepEqual(s.held, [{ path: 'secrets.env', reason: 'looks like a secret' }]);
});

test('an unexpired pause is why commits wait; an expired one is not', () => {
  const pause = { pid: 42, at: NOW - 1_000, reason: 'review', expiresAt: NOW + 60_000 };
  assert.match(buildStatus(input({ pause }), NOW).waiting ?? '', /^paused by pid 42 \(review\) until /);
  assert.equal(buildStatus(input({ pause: { ...pause, expiresAt: NOW - 1 } }), NOW).waiting, null);
});

test('timing-only paths are newest first, without the quarantined ones', () => {
  const s = buildStatus(
    input({
      quarantined: [{ path: 'churn.json', events: 40, periodMs: 1_000 }],
      heldOnTiming: [
        ['old.md', { at: NOW - 9_000, reason: 'r' }],
        ['churn.json', { at: NOW - 1_000, reason: 'r' }],
        ['new.md', { at: NOW - 2_000, reason: 'r' }],
      ],
    }),
    NOW,
  );
  assert.deepEqual(s.timingOnly.map((t) => t.path), ['new.md', 'old.md']);
});
