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

test('mass deletion judged on the work tree: any deletion is held while most tracked files are missing', () => {
  const cases: [deletions: number, missing: number, tracked: number, held: boolean][] = [
    [1, 8, 11, true], // one small batch of an `rm -rf` that arrives in pieces
    [2, 6, 11, true],
    [1, 5, 11, false], // not more than half
    [0, 9, 11, false], // a batch without deletions commits (its edits are not the problem)
    [1, 2, 3, false], // below the floor: a tiny repo losing two files is an edit
    [1, 3, 4, true],
  ];
  for (const [d, m, t, held] of cases) {
    const why = massDeletion({ deletions: d, missing: m, trackedCount: t, rootExists: true });
    assert.equal(why !== null, held, `${d} in batch, ${m}/${t} missing`);
    if (why) assert.match(why, new RegExp(`^mass deletion: ${m} of ${t} tracked files are missing from the work tree`));
  }
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
