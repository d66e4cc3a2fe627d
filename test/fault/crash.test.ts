/**
 * Promise: nothing a person wrote is lost across SIGKILL at any point, and `git fsck` is clean
 * after any crash. The daemon is killed at each committer step through the test-only hook
 * `WINNOW_FAULT=<step>` (src/util/fault.ts), then restarted without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  notBuilt,
  CASE_TIMEOUT_MS,
  faultWorkspace,
  fsck,
  committed,
  cookie,
  historyProblems,
  commitsTouching,
  uncommitted,
  race,
  anyLog,
  tail,
} from './helpers.js';

const STEPS = ['before-add', 'after-add', 'during-commit', 'after-ref-update', 'before-state-write'] as const;

for (const step of STEPS) {
  test(`SIGKILL at ${step}, then restart: nothing lost, no duplicate or reverting commit, fsck clean`, { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
    const ws = await faultWorkspace(t);
    await ws.write('notes/a.md', 'first draft\n');

    const d1 = ws.start({ WINNOW_FAULT: step });
    const firstCommit = anyLog(d1, 'commit');
    const r = await race({ exited: d1.exited, commit: firstCommit });
    if (r.which === 'commit') {
      assert.fail(`the daemon committed without reaching faultPoint('${step}'): the crash point is not wired into the daemon.\n${tail(d1)}`);
    }
    const exit = await d1.exited;
    assert.equal(exit.signal, 'SIGKILL', `the daemon died by SIGKILL at the fault point, not otherwise:\n${tail(d1)}`);
    assert.ok(
      d1.lines.some((l) => l.msg === 'fault' && l.step === step),
      `the fault marker names the step ${step}:\n${tail(d1)}`,
    );
    const afterCrash = await fsck(ws.root);
    assert.ok(afterCrash.ok, `git fsck right after the crash:\n${afterCrash.output}`);
    const headAtCrash = ws.git('rev-parse', 'HEAD').trim();

    // The person keeps working while winnow is down.
    await ws.write('notes/b.md', 'written while winnow was down\n');

    const d2 = ws.start();
    await d2.ready();
    await committed(d2, ws, { 'notes/a.md': 'first draft\n', 'notes/b.md': 'written while winnow was down\n' });
    // Barrier: anything the restarted daemon was going to do about a.md and b.md is done.
    await cookie(d2, ws);

    assert.deepEqual(uncommitted(ws, ['notes']), [], 'the work tree and HEAD agree on everything the person wrote');
    assert.deepEqual(historyProblems(ws), [], 'no rewritten history, no empty duplicate, no reverting commit');
    assert.equal(commitsTouching(ws, 'notes/a.md').length, 1, 'notes/a.md is committed exactly once');
    assert.doesNotThrow(() => ws.git('merge-base', '--is-ancestor', headAtCrash, 'HEAD'), 'what was committed before the crash stays in history');

    const stopped = await d2.stop();
    assert.equal(stopped.code, 0, `SIGTERM exits 0:\n${tail(d2)}`);
    const end = await fsck(ws.root);
    assert.ok(end.ok, `git fsck at the end:\n${end.output}`);
  });
}

test('SIGKILL while an accepted change waits to settle: the restart commits it', { skip: notBuilt, timeout: CASE_TIMEOUT_MS }, async (t) => {
  // Long settle: the kill lands while the change waits in the debouncer, accepted but uncommitted.
  const ws = await faultWorkspace(t, { debounce: { defaultMs: 60_000, rules: [], maxMs: 60_000, maxWaitMs: 120_000 } });
  const d1 = ws.start();
  await d1.ready();
  const accepted = anyLog(d1, 'decision', (l) => l.path === 'notes/pending.md');
  await ws.write('notes/pending.md', 'accepted, not yet committed\n');
  const dec = await accepted;
  assert.equal(dec.decision, 'ALLOW');
  await d1.kill();
  assert.equal(ws.git('log', '--format=%H', `${ws.base}..HEAD`).trim(), '', 'nothing was committed before the kill');

  // The restart uses the short window, so the replayed change commits without a minute's wait.
  await ws.setConfig({});
  const d2 = ws.start();
  await d2.ready();
  await committed(d2, ws, { 'notes/pending.md': 'accepted, not yet committed\n' });
  assert.deepEqual(historyProblems(ws), []);
  await d2.stop();
  const f = await fsck(ws.root);
  assert.ok(f.ok, f.output);
});
