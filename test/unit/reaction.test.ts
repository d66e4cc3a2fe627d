import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReactionState, recordCommit, isReaction } from '../../src/core/classify/reaction.js';

const cfg = { windowMs: 1_000, minReactions: 2 };

test('a path rewritten right after each commit is held from the second reaction on', () => {
  const s = createReactionState();
  recordCommit(s, 10_000);
  assert.equal(isReaction(s, 'state/last-commit.json', 10_150, false, cfg), false, 'one reaction can be chance');
  recordCommit(s, 20_000);
  assert.equal(isReaction(s, 'state/last-commit.json', 20_150, false, cfg), true);
  recordCommit(s, 30_000);
  assert.equal(isReaction(s, 'state/last-commit.json', 30_200, false, cfg), true);
});

test('a change away from any commit resets the count and is let through', () => {
  const s = createReactionState();
  recordCommit(s, 10_000);
  isReaction(s, 'notes.md', 10_100, false, cfg);
  recordCommit(s, 20_000);
  assert.equal(isReaction(s, 'notes.md', 20_100, false, cfg), true);
  assert.equal(isReaction(s, 'notes.md', 25_000, false, cfg), false, 'a save 5 s after the commit is not a reaction');
  recordCommit(s, 30_000);
  assert.equal(isReaction(s, 'notes.md', 30_100, false, cfg), false, 'the count starts again');
});

test('human evidence never counts as a reaction', () => {
  const s = createReactionState();
  for (let i = 1; i <= 5; i++) {
    recordCommit(s, i * 10_000);
    assert.equal(isReaction(s, 'docs/a.md', i * 10_000 + 100, true, cfg), false);
  }
});

test('several changes after one commit count once; no commit yet means no reaction', () => {
  const s = createReactionState();
  assert.equal(isReaction(s, 'a.json', 5_000, false, cfg), false);
  recordCommit(s, 10_000);
  assert.equal(isReaction(s, 'a.json', 10_100, false, cfg), false);
  assert.equal(isReaction(s, 'a.json', 10_200, false, cfg), false, 'still the first commit');
  assert.equal(isReaction(s, 'a.json', 10_900, false, cfg), false);
});

test('a change outside the window after a commit is not a reaction', () => {
  const s = createReactionState();
  recordCommit(s, 10_000);
  isReaction(s, 'a.json', 10_100, false, cfg);
  recordCommit(s, 20_000);
  assert.equal(isReaction(s, 'a.json', 21_001, false, cfg), false);
});
