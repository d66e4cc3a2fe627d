import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveUp, rungOf, weakest, type RungFacts } from '../../src/core/classify/ladder.js';

const F = (o: Partial<RungFacts>): RungFacts => ({ fanotify: false, lineage: false, traced: false, declared: false, ...o });

test('rungOf: strongest evidence first', () => {
  const cases: [string, RungFacts, string][] = [
    ['fanotify with lineage', F({ fanotify: true, lineage: true, traced: true }), 'fanotify'],
    ['traced beats fanotify without lineage', F({ fanotify: true, traced: true }), 'trace'],
    ['fanotify without lineage', F({ fanotify: true, declared: true }), 'fanotify'],
    ['traced', F({ traced: true, declared: true }), 'trace'],
    ['declared only (winnow exec, no strace)', F({ declared: true }), 'declared'],
    ['nothing', F({}), 'heuristic'],
  ];
  for (const [name, f, want] of cases) assert.equal(rungOf(f), want, name);
});

test('moveUp says what to do; nothing at the top', () => {
  assert.equal(moveUp('fanotify', F({ fanotify: true, lineage: true })), null);
  assert.match(moveUp('fanotify', F({ fanotify: true }))!, /forkstat/);
  assert.match(moveUp('heuristic', F({ untracedReason: 'Yama ptrace_scope is 1' }))!, /winnow exec -- CMD.*ptrace_scope is 1/);
  assert.match(moveUp('declared', F({}))!, /strace/);
  assert.match(moveUp('trace', F({}))!, /root/);
});

test('weakest: the rung a decision can rely on', () => {
  assert.equal(weakest([]), null);
  assert.equal(weakest([{ rung: 'trace' }, { rung: 'heuristic' }, { rung: 'fanotify' }]), 'heuristic');
  assert.equal(weakest([{ rung: 'trace' }, { rung: 'fanotify' }]), 'trace');
});
