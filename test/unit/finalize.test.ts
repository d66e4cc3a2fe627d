import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeDecision, type FinalizeContext } from '../../src/core/classify/finalize.js';
import { createReactionState, recordCommit, restoreReactions, saveReactions, SAVED_REACTION_PATHS } from '../../src/core/classify/reaction.js';
import type { Decision } from '../../src/core/decision.js';

const allow3: Decision = { path: 'x.json', decision: 'ALLOW', layer: 3, rule: null, reason: 'content change', evidence: [{ kind: 'temporal', autonomous: true, pid: 9 }] };
const person: Decision = { ...allow3, evidence: [{ kind: 'fanotify', pid: 11, command: 'vim', autonomous: false }] };
const Q = { path: 'x.json', events: 6, periodMs: 10_000 };

function ctx(over: Partial<FinalizeContext> = {}): FinalizeContext {
  return { reactions: createReactionState(), quarantine: () => null, blockedBefore: () => null, ...over };
}

test('finalizeDecision: every override after the classifier, in order', () => {
  const e = { path: 'x.json', at: 1_000, source: 'watch' as const };
  const reacting = () => {
    const r = createReactionState();
    recordCommit(r, 500);
    r.paths.set('x.json', { count: 1, seq: 0 });
    return r;
  };
  const cases: { name: string; d: Decision; c: FinalizeContext; e?: typeof e | { path: string; at: number; source: 'rescan' }; rule: string | null; decision: 'ALLOW' | 'BLOCK' }[] = [
    { name: 'nothing to override', d: allow3, c: ctx(), rule: null, decision: 'ALLOW' },
    { name: 'quarantined: churn', d: allow3, c: ctx({ quarantine: () => Q }), rule: 'builtin:churn', decision: 'BLOCK' },
    { name: 'layer-1 ALLOW is never overridden', d: { ...allow3, layer: 1, rule: 'ALLOW:**' }, c: ctx({ quarantine: () => Q, blockedBefore: () => ({ reason: 'r' }) }), rule: 'ALLOW:**', decision: 'ALLOW' },
    { name: 'a BLOCK stays as it is', d: { ...allow3, decision: 'BLOCK' }, c: ctx({ quarantine: () => Q }), rule: null, decision: 'BLOCK' },
    { name: 'reacting to commits: commit-reaction', d: allow3, c: ctx({ reactions: reacting() }), rule: 'builtin:commit-reaction', decision: 'BLOCK' },
    { name: 'a person right after a commit: not a reaction', d: person, c: ctx({ reactions: reacting() }), rule: null, decision: 'ALLOW' },
    { name: 'a rescan is not a reaction', d: allow3, c: ctx({ reactions: reacting() }), e: { path: 'x.json', at: 1_000, source: 'rescan' }, rule: null, decision: 'ALLOW' },
    { name: 'the same write blocked before', d: allow3, c: ctx({ blockedBefore: () => ({ reason: 'written by 9' }) }), rule: null, decision: 'BLOCK' },
    { name: 'blocked before, but a person wrote it now', d: person, c: ctx({ blockedBefore: () => ({ reason: 'written by 9' }) }), rule: null, decision: 'ALLOW' },
  ];
  for (const c of cases) {
    const got = finalizeDecision(c.d, c.e ?? e, c.c);
    assert.equal(got.decision, c.decision, c.name);
    assert.equal(got.rule, c.rule, c.name);
  }
  const churn = finalizeDecision(allow3, e, ctx({ quarantine: () => Q }));
  assert.equal(churn.layer, 2);
  assert.match(churn.reason, /quarantined: changed 6 times every ~10 s/);
  assert.deepEqual(churn.evidence, allow3.evidence);
});

test('the reaction state survives state.json, bounded', () => {
  const r = createReactionState();
  recordCommit(r, 1_000);
  for (let i = 0; i < SAVED_REACTION_PATHS + 5; i++) r.paths.set(`p${i}`, { count: 1 + (i % 3), seq: 1 });
  const saved = JSON.parse(JSON.stringify(saveReactions(r)));
  const back = restoreReactions(saved);
  assert.equal(back.lastCommitAt, 1_000);
  assert.equal(back.commitSeq, 1);
  assert.equal(back.paths.size, SAVED_REACTION_PATHS);
  assert.deepEqual(back.paths.get(`p${SAVED_REACTION_PATHS + 4}`), r.paths.get(`p${SAVED_REACTION_PATHS + 4}`));
  assert.equal(back.paths.has('p0'), false, 'the oldest are left out');
  assert.deepEqual(restoreReactions({ paths: 'nope', commitSeq: 'x' }), createReactionState());
  assert.deepEqual(restoreReactions(undefined), createReactionState());
});
