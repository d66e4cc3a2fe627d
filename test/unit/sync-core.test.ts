import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_QUEUE, enqueue, take, strongest,
  gate, onFailure, nextAfterCommit, AHEAD_THRESHOLD,
  conflictCopyName, compactDate, safeHost, planResolution, rebaseStage,
  classifySyncFailure, needsAPerson,
  type GateInput, type RetryPolicy,
} from '../../src/core/sync/index.js';
import { backoffMs, breakerOpen, breakerSuccess, CLOSED as CLOSED_BREAKER } from '../../src/core/retry.js';

const T0 = Date.UTC(2026, 0, 31, 12, 5, 9, 123);
const policy: RetryPolicy = { attempts: 3, baseMs: 1000, maxMs: 8000, breakerCooldownMs: 60_000 };

test('queue merges waiting requests into one run with the strongest priority', () => {
  let q = enqueue(EMPTY_QUEUE, 1, { reason: 'after commit', priority: 'scheduled' }, T0);
  q = enqueue(q, 2, { reason: 'after commit', priority: 'scheduled' }, T0 + 1);
  q = enqueue(q, 3, { reason: 'winnow sync', priority: 'manual', force: true }, T0 + 2);
  q = enqueue(q, 4, { reason: 'exit', priority: 'lifecycle' }, T0 + 3);
  const { run, queue } = take(q);
  assert.deepEqual(run, { ids: [1, 2, 3, 4], priority: 'manual', force: true, reasons: ['after commit', 'winnow sync', 'exit'], since: T0 });
  assert.equal(queue.next, null);
  assert.equal(take(queue).run, null);
});

test('priority order is manual > lifecycle > scheduled', () => {
  const cases: [Parameters<typeof strongest>[0], Parameters<typeof strongest>[1], string][] = [
    ['scheduled', 'lifecycle', 'lifecycle'],
    ['lifecycle', 'manual', 'manual'],
    ['scheduled', 'manual', 'manual'],
    ['scheduled', 'scheduled', 'scheduled'],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(strongest(a, b), want);
    assert.equal(strongest(b, a), want);
  }
});

const base: GateInput = { priority: 'scheduled', force: false, now: T0, lastAttemptAt: null, minIntervalMs: 300_000, breaker: CLOSED_BREAKER, stopped: null, ahead: 1 };

test('gate: table of when a sync may run', () => {
  const open = { failures: 3, openUntil: T0 + 1000, retryAt: T0 + 1000 };
  const backing = { failures: 1, openUntil: null, retryAt: T0 + 500 };
  const cases: [string, Partial<GateInput>, string, number?][] = [
    ['first scheduled sync runs', {}, 'run'],
    ['scheduled waits for minIntervalMs', { lastAttemptAt: T0 - 1000 }, 'wait', T0 - 1000 + 300_000],
    ['scheduled runs once minIntervalMs passed', { lastAttemptAt: T0 - 300_000 }, 'run'],
    ['scheduled runs early past the ahead threshold', { lastAttemptAt: T0 - 1000, ahead: AHEAD_THRESHOLD }, 'run'],
    ['lifecycle ignores minIntervalMs', { priority: 'lifecycle', lastAttemptAt: T0 - 1 }, 'run'],
    ['manual ignores minIntervalMs', { priority: 'manual', lastAttemptAt: T0 - 1 }, 'run'],
    ['open breaker holds scheduled', { breaker: open }, 'wait', T0 + 1000],
    ['open breaker holds lifecycle', { priority: 'lifecycle', breaker: open }, 'wait', T0 + 1000],
    ['open breaker does not hold manual', { priority: 'manual', breaker: open }, 'run'],
    ['force passes an open breaker', { force: true, breaker: open }, 'run'],
    ['breaker past its cooldown lets scheduled run', { breaker: open, now: T0 + 1000 }, 'run'],
    ['backoff holds scheduled', { breaker: backing }, 'wait', T0 + 500],
    ['after a failure the backoff replaces minIntervalMs', { breaker: backing, lastAttemptAt: T0 - 10, now: T0 + 500 }, 'run'],
    ['backoff does not hold lifecycle', { priority: 'lifecycle', breaker: backing }, 'run'],
    ['stopped refuses scheduled', { stopped: 'conflicts in a.md' }, 'refuse'],
    ['stopped refuses lifecycle', { priority: 'lifecycle', stopped: 'conflicts in a.md' }, 'refuse'],
    ['stopped lets manual through (to check resolution)', { priority: 'manual', stopped: 'conflicts' }, 'run'],
  ];
  for (const [name, over, action, until] of cases) {
    const d = gate({ ...base, ...over });
    assert.equal(d.action, action, name);
    if (until !== undefined) assert.equal((d as { until: number }).until, until, name);
  }
});

test('failures back off exponentially with jitter, then open the breaker; success closes it', () => {
  assert.equal(backoffMs(1, policy, 0), 500);
  assert.equal(backoffMs(1, policy, 0.999999), 1000);
  assert.equal(backoffMs(2, policy, 0), 1000);
  assert.equal(backoffMs(10, policy, 0), 4000); // capped at maxMs, halved by the fixed part
  let b = onFailure(CLOSED_BREAKER, policy, T0, 0);
  assert.deepEqual(b, { failures: 1, openUntil: null, retryAt: T0 + 500, lastError: null });
  b = onFailure(b, policy, T0, 0);
  assert.equal(breakerOpen(b, T0), false);
  b = onFailure(b, policy, T0, 0);
  assert.deepEqual(b, { failures: 3, openUntil: T0 + 60_000, retryAt: T0 + 60_000, lastError: null });
  assert.equal(breakerOpen(b, T0 + 59_999), true);
  assert.equal(breakerOpen(b, T0 + 60_000), false);
  assert.deepEqual(breakerSuccess(b), CLOSED_BREAKER);
});

test('an auth failure opens the breaker at once; an unreachable remote is retried after a backoff', () => {
  const blip = onFailure(CLOSED_BREAKER, policy, T0, 0, 'unreachable', 'Could not resolve host');
  assert.equal(breakerOpen(blip, T0), false);
  assert.equal(blip.retryAt, T0 + 500, 'a network blip: the next try after the backoff');
  const auth = onFailure(CLOSED_BREAKER, policy, T0, 0, 'auth', 'Authentication failed');
  assert.equal(breakerOpen(auth, T0), true, 'credentials do not fix themselves: no retry in seconds');
  assert.equal(auth.retryAt, T0 + 60_000, 'the next scheduled try after the cooldown');
  assert.equal(auth.lastError, 'Authentication failed');
  assert.equal(gate({ ...base, breaker: auth, now: T0 + 1_000 }).action, 'wait', 'scheduled syncs wait');
  assert.equal(gate({ ...base, breaker: auth, now: T0 + 1_000, priority: 'manual' }).action, 'run', 'winnow sync still runs');
});

test('nextAfterCommit: now for the first, then minIntervalMs after the last, never before backoff', () => {
  assert.equal(nextAfterCommit(null, 1000, CLOSED_BREAKER, T0), T0);
  assert.equal(nextAfterCommit(T0 - 200, 1000, CLOSED_BREAKER, T0), T0 + 800);
  assert.equal(nextAfterCommit(T0 - 5000, 1000, CLOSED_BREAKER, T0), T0);
  assert.equal(nextAfterCommit(null, 1000, { failures: 1, openUntil: null, retryAt: T0 + 7000 }, T0), T0 + 7000);
});

test('conflict copy names keep the extension and the directory', () => {
  const d = compactDate(T0);
  assert.equal(d, '20260131-120509');
  const cases: [string, string][] = [
    ['docs/plan.md', `docs/plan.conflict-laptop-${d}.md`],
    ['plan.md', `plan.conflict-laptop-${d}.md`],
    ['.env', `.env.conflict-laptop-${d}`],
    ['Makefile', `Makefile.conflict-laptop-${d}`],
    ['a/b.tar.gz', `a/b.tar.conflict-laptop-${d}.gz`],
    ['dir.v2/readme', `dir.v2/readme.conflict-laptop-${d}`],
    ['trailing.', `trailing..conflict-laptop-${d}`],
    ['sp ace/ü -x.txt', `sp ace/ü -x.conflict-laptop-${d}.txt`],
  ];
  for (const [p, want] of cases) assert.equal(conflictCopyName(p, 'laptop', T0), want, p);
  assert.equal(safeHost('my.host/name'), 'my-host-name');
  assert.equal(safeHost('...'), 'host');
  const taken = new Set([`plan.conflict-laptop-${d}.md`, `plan.conflict-laptop-${d}-2.md`]);
  assert.equal(conflictCopyName('plan.md', 'laptop', T0, taken), `plan.conflict-laptop-${d}-3.md`);
});

test('planResolution keeps the winner in place and the loser as a copy; deletions lose nothing', () => {
  const files = [
    { path: 'b.md', local: true, remote: true },
    { path: 'a.md', local: false, remote: true },
    { path: 'c.md', local: true, remote: false },
  ];
  const d = compactDate(T0);
  assert.deepEqual(planResolution('ours', files, 'h', T0), [
    { path: 'a.md', keep: 'none', copy: { path: `a.conflict-h-${d}.md`, from: 'remote' } },
    { path: 'b.md', keep: 'local', copy: { path: `b.conflict-h-${d}.md`, from: 'remote' } },
    { path: 'c.md', keep: 'local', copy: null },
  ]);
  assert.deepEqual(planResolution('theirs', files, 'h', T0), [
    { path: 'a.md', keep: 'remote', copy: null },
    { path: 'b.md', keep: 'remote', copy: { path: `b.conflict-h-${d}.md`, from: 'local' } },
    { path: 'c.md', keep: 'none', copy: { path: `c.conflict-h-${d}.md`, from: 'local' } },
  ]);
  // Two conflicts that would want the same copy name get distinct ones.
  const existing = new Set([`b.conflict-h-${d}.md`]);
  assert.equal(planResolution('ours', [{ path: 'b.md', local: true, remote: true }], 'h', T0, existing)[0]!.copy!.path, `b.conflict-h-${d}-2.md`);
  assert.equal(rebaseStage('remote'), 2);
  assert.equal(rebaseStage('local'), 3);
});

test('git failures are classified by what the caller can do', () => {
  const cases: [string, string, boolean][] = [
    ["fatal: unable to access 'https://x/': Could not resolve host: x", 'unreachable', true],
    ["fatal: '/tmp/gone' does not appear to be a git repository\nfatal: Could not read from remote repository.", 'unreachable', true],
    ['fatal: Authentication failed for https://x/', 'auth', false],
    ['fatal: could not read Username for \'https://x\': terminal prompts disabled', 'auth', false],
    ['git@x: Permission denied (publickey).', 'auth', false],
    [' ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs', 'rejected', true],
    [' ! [remote rejected] main -> main (protected branch hook declined)', 'auth', false],
    ["fatal: Unable to create '/r/.git/index.lock': File exists.", 'locked', true],
    ["fatal: couldn't find remote ref main", 'missing', false],
    ['something else', 'other', false],
  ];
  for (const [stderr, want, retried] of cases) {
    assert.equal(classifySyncFailure(stderr), want, stderr);
    if (want !== 'missing' && want !== 'other') assert.equal(!needsAPerson(classifySyncFailure(stderr)), retried, stderr);
  }
  assert.equal(classifySyncFailure('', true), 'unreachable');
});
