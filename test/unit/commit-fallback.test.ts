import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextMove, startFallback, type AttemptFailure, type FallbackState, type Move, type Via } from '../../src/core/commit/fallback.js';

const git = (stderr: string, extra: Partial<AttemptFailure['info']> = {}): AttemptFailure => ({
  headMoved: false,
  privateIndex: false,
  message: stderr,
  info: { code: 128, stderr, timedOut: false, ...extra },
});
const HEAD_MOVED: AttemptFailure = { headMoved: true, privateIndex: false, message: 'HEAD moved from a to b', info: { code: null, stderr: 'HEAD moved from a to b', timedOut: false } };
const NO_INDEX: AttemptFailure = { headMoved: false, privateIndex: true, message: 'cannot write the private index', info: { code: null, stderr: 'cannot write the private index', timedOut: false } };
const LOCKED = git("fatal: Unable to create '/r/.git/index.lock': File exists.");
const NOTHING = git('', { code: 1, stdout: 'nothing to commit, working tree clean' });
const VANISHED = git("fatal: pathspec 'a.md' did not match any files");
const SYMLINK = git("fatal: pathspec 'lnk/f' is beyond a symbolic link");
const ODD = git('fatal: something plumbing did not expect');

test('the fallback tree: one failure, the move it gets', () => {
  const cases: { name: string; via: Via; state?: Partial<FallbackState>; failure: AttemptFailure; paths?: string[]; want: Move; via2?: Via }[] = [
    { name: 'HEAD moved: plan again', via: 'plumbing', failure: HEAD_MOVED, want: { move: 'replan', reason: 'HEAD moved from a to b' } },
    { name: 'HEAD moved a fourth time: judged as a failure (plumbing abort → porcelain)', via: 'plumbing', state: { moves: 3 }, failure: HEAD_MOVED, want: { move: 'porcelain', cause: 'plumbing-failed', error: 'HEAD moved from a to b' }, via2: 'porcelain' },
    { name: 'no private index: porcelain', via: 'plumbing', failure: NO_INDEX, want: { move: 'porcelain', cause: 'private-index', error: 'cannot write the private index' }, via2: 'porcelain' },
    { name: 'nothing to commit: unchanged', via: 'porcelain', failure: NOTHING, want: { move: 'unchanged' } },
    {
      name: 'a path git refuses: left out',
      via: 'porcelain',
      failure: SYMLINK,
      paths: ['lnk/f', 'b.md'],
      want: { move: 'leave-out', paths: [{ path: 'lnk/f', reason: 'behind a symbolic link: git cannot track it' }] },
    },
    { name: 'a refused path not in the plan: not ours to hold (porcelain gives up)', via: 'porcelain', failure: SYMLINK, paths: ['b.md'], want: { move: 'give-up' } },
    { name: 'a fourth round of refused paths: give up', via: 'porcelain', state: { refusals: 3 }, failure: SYMLINK, paths: ['lnk/f'], want: { move: 'give-up' } },
    { name: 'a path vanished: plan again once', via: 'porcelain', failure: VANISHED, want: { move: 'replan', reason: 'a path changed or vanished while it was being committed' } },
    { name: 'a path vanished again: give up (retry later)', via: 'porcelain', state: { replans: 1 }, failure: VANISHED, want: { move: 'give-up' } },
    { name: 'a lock: give up (the breaker retries with backoff)', via: 'plumbing', failure: LOCKED, want: { move: 'give-up' } },
    { name: 'an unexpected plumbing failure: porcelain', via: 'plumbing', failure: ODD, want: { move: 'porcelain', cause: 'plumbing-failed', error: 'fatal: something plumbing did not expect' }, via2: 'porcelain' },
    { name: 'an unexpected porcelain failure: give up', via: 'porcelain', failure: ODD, want: { move: 'give-up' } },
  ];
  for (const c of cases) {
    const s = { ...startFallback(c.via), ...c.state };
    assert.deepEqual(nextMove(s, c.failure, c.paths ?? ['a.md']), c.want, c.name);
    assert.equal(s.via, c.via2 ?? c.via, `${c.name}: via`);
  }
});

test('the counters bound each way out for one batch', () => {
  const s = startFallback('plumbing');
  const moves = [HEAD_MOVED, HEAD_MOVED, HEAD_MOVED, HEAD_MOVED].map((f) => nextMove(s, f, ['a.md']).move);
  assert.deepEqual(moves, ['replan', 'replan', 'replan', 'porcelain']);
  const p = startFallback('porcelain');
  assert.deepEqual([SYMLINK, SYMLINK, SYMLINK, SYMLINK].map((f) => nextMove(p, f, ['lnk/f']).move), ['leave-out', 'leave-out', 'leave-out', 'give-up']);
  const v = startFallback('porcelain');
  assert.deepEqual([VANISHED, VANISHED].map((f) => nextMove(v, f, ['a.md']).move), ['replan', 'give-up']);
});
