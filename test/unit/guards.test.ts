import { test } from 'node:test';
import assert from 'node:assert/strict';
import { massDeletion, blockedSentence, waitingSentence } from '../../src/core/commit/guards.js';
import type { RepoBlock } from '../../src/ports/index.js';

test('mass deletion: more than half of the tracked files (at least 3), or the root gone', () => {
  const cases: [deletions: number, tracked: number, rootExists: boolean, held: boolean][] = [
    [0, 0, true, false],
    [1, 1, true, false], // the only file of a fresh repo: an edit, not an accident
    [2, 2, true, false],
    [3, 4, true, true],
    [3, 6, true, false], // exactly half is not more than half
    [4, 6, true, true],
    [51, 100, true, true],
    [50, 100, true, false],
    [0, 100, false, true],
  ];
  for (const [d, t, r, held] of cases) {
    const why = massDeletion({ deletions: d, trackedCount: t, rootExists: r });
    assert.equal(why !== null, held, `${d}/${t} root=${r}`);
    if (why) assert.match(why, /^mass deletion: /);
  }
  assert.match(massDeletion({ deletions: 60, trackedCount: 100, rootExists: true })!, /60 of 100/);
});

test('blocked sentences: every repository state names the way out', () => {
  const cases: [RepoBlock, RegExp][] = [
    ['merge', /merge is in progress.*git merge --continue/],
    ['rebase', /rebase is in progress/],
    ['cherry-pick', /cherry-pick/],
    ['revert', /revert/],
    ['bisect', /git bisect reset/],
    ['detached', /HEAD is detached.*git switch/],
  ];
  for (const [b, re] of cases) assert.match(blockedSentence(b), re);
  assert.match(waitingSentence.rateLimited(Date.UTC(2026, 0, 1)), /rate limited until 2026-01-01T00:00:00.000Z/);
  assert.match(waitingSentence.indexLock('/r/.git/index.lock'), /index\.lock exists/);
});
