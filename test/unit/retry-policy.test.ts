import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyCommitFailure, offendingPaths, unquoteC, type RetryAction, type FailureKind } from '../../src/core/commit/retry-policy.js';
import { backoffMs, breakerFailure, breakerOpen, breakerPhase, breakerSuccess, CLOSED, matchFailure } from '../../src/core/retry.js';

test('classify: git failures to retry | abort | noop | replan', () => {
  const cases: [stderr: string, code: number | null, timedOut: boolean, kind: FailureKind, action: RetryAction][] = [
    ["fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git process seems to be running", 128, false, 'index-lock', 'retry'],
    ['error: unable to write new index file', 128, false, 'disk-full', 'retry'],
    ['fatal: write error: No space left on device', 128, false, 'disk-full', 'retry'],
    ['', null, true, 'timeout', 'retry'],
    ["fatal: unable to access 'https://x/': Could not resolve host: x", 128, false, 'remote-down', 'retry'],
    ['On branch main\nnothing to commit, working tree clean', 1, false, 'nothing-to-commit', 'noop'],
    ['no changes added to commit (use "git add" and/or "git commit -a")', 1, false, 'nothing-to-commit', 'noop'],
    ['', 1, false, 'fatal', 'abort'], // a hook that refused silently: never "nothing to commit"
    ["error: pathspec 'gone.txt' did not match any file(s) known to git", 1, false, 'pathspec-vanished', 'replan'],
    ["fatal: pathspec 'gone.txt' did not match any files", 128, false, 'pathspec-vanished', 'replan'],
    ['fatal: bad object HEAD', 128, false, 'fatal', 'abort'],
    ['fatal: not a git repository (or any of the parent directories): .git', 128, false, 'fatal', 'abort'],
  ];
  for (const [stderr, code, timedOut, kind, action] of cases) {
    const c = classifyCommitFailure({ stderr, code, timedOut });
    assert.equal(c.kind, kind, stderr);
    assert.equal(c.action, action, stderr);
    assert.ok(c.reason.length > 0);
  }
  assert.equal(classifyCommitFailure({ stderr: 'fatal: bad object HEAD', code: 128, timedOut: false }).reason, 'bad object HEAD');
  // `git commit -q` prints "nothing to commit" on stdout.
  const quiet = classifyCommitFailure({ stderr: '', stdout: 'On branch main\nnothing to commit, working tree clean\n', code: 1, timedOut: false });
  assert.equal(quiet.action, 'noop');
});

test('a full disk is transient, however git words it', () => {
  const cases: string[] = [
    'fatal: write error: No space left on device',
    'error: unable to write new index file',
    "error: unable to create temporary file: No space left on device\nfatal: git-write-tree: error building trees",
    'error: unable to write file .git/objects/ab/cdef: No space left on device',
    "fatal: Unable to create '/r/.git/index.lock': No space left on device",
    'fatal: Out of diskspace',
    'fatal: sha1 file \'.git/objects/pack/tmp_pack_x\' write error. Out of diskspace',
    'error: unable to write loose object file',
    'fatal: unable to write sha1 file',
    'error: short write',
    'Error: ENOSPC: no space left on device, write',
    'fatal: cannot update ref: Disk quota exceeded',
  ];
  for (const stderr of cases) {
    const c = classifyCommitFailure({ stderr, code: 128, timedOut: false });
    assert.equal(c.kind, 'disk-full', stderr);
    assert.equal(c.action, 'retry', stderr);
  }
  // "unable to write" for another reason (a read-only file system, permissions) is not the disk.
  assert.equal(classifyCommitFailure({ stderr: 'error: unable to write file x: Permission denied', code: 128, timedOut: false }).kind, 'fatal');
});

test('backoff: exponential, capped, equal jitter from the injected random number', () => {
  const cfg = { baseMs: 2000, maxMs: 60_000 };
  const cases: [attempt: number, random: number, want: number][] = [
    [1, 0, 1000],
    [1, 0.999999, 2000],
    [2, 0, 2000],
    [3, 0.5, 6000],
    [5, 1, 32_000],
    [6, 1, 60_000],
    [20, 0, 30_000],
  ];
  for (const [a, r, want] of cases) assert.equal(backoffMs(a, cfg, r), want, `attempt ${a} random ${r}`);
});

test('breaker: closed → open after attempts → half-open after cooldown → closed on success', () => {
  const cfg = { attempts: 3, cooldownMs: 1000, baseMs: 100, maxMs: 400 };
  let b = CLOSED;
  b = breakerFailure(b, cfg, 0, 0, 'e1');
  assert.equal(b.retryAt, 50, 'the first retry after half the base backoff (random 0)');
  b = breakerFailure(b, cfg, 10, 0, 'e2');
  assert.equal(breakerPhase(b, 10), 'closed');
  assert.equal(b.retryAt, 110);
  b = breakerFailure(b, cfg, 20, 0, 'e3');
  assert.deepEqual(b, { failures: 3, openUntil: 1020, retryAt: 1020, lastError: 'e3' });
  assert.equal(breakerOpen(b, 1019), true);
  assert.equal(breakerPhase(b, 1020), 'half-open');
  assert.equal(breakerOpen(b, 1020), false);
  // A failed trial re-opens at once.
  const again = breakerFailure(b, cfg, 1500, 0, 'e4');
  assert.equal(breakerPhase(again, 1500), 'open');
  assert.equal(again.openUntil, 2500);
  const ok = breakerSuccess(b);
  assert.equal(breakerPhase(ok, 1020), 'closed');
  assert.equal(ok.failures, 0);
  assert.equal(ok.retryAt, null);
  assert.equal(ok.lastError, 'e3', 'the last error stays for status');
});

test('breaker: a forced failure (an abort, an auth failure) opens it at once', () => {
  const b = breakerFailure(CLOSED, { attempts: 5, cooldownMs: 100, baseMs: 10, maxMs: 10 }, 0, 0, 'bad object', true);
  assert.equal(breakerPhase(b, 0), 'open');
  assert.equal(b.openUntil, 100);
  assert.equal(b.retryAt, 100);
});

test('failure tables: the first matching row wins; `and` narrows a row', () => {
  const table = [
    { re: /rejected/, and: /permission/, value: 'auth' },
    { re: /rejected/, value: 'race' },
  ];
  assert.equal(matchFailure('push rejected: permission denied', table), 'auth');
  assert.equal(matchFailure('push rejected: fetch first', table), 'race');
  assert.equal(matchFailure('something else', table), null);
});

test('offending paths: ignored and behind-a-symlink paths are named so they can be held', () => {
  const ignored =
    'The following paths are ignored by one of your .gitignore files:\na.log\n"new\\nline.log"\n"\\303\\274.log"\nhint: Use -f if you really want to add them.\n';
  assert.deepEqual(
    offendingPaths(ignored).map((o) => o.path),
    ['a.log', 'new\nline.log', 'ü.log'],
  );
  // update-index (the index-plumbing path) words it without "pathspec".
  assert.deepEqual(offendingPaths("error: 'lnk/f' is beyond a symbolic link\nfatal: Unable to process path lnk/f\n").map((o) => o.path), ['lnk/f']);
  assert.deepEqual(offendingPaths("fatal: pathspec 'lnk/f' is beyond a symbolic link\n"), [
    { path: 'lnk/f', reason: 'behind a symbolic link: git cannot track it' },
  ]);
  assert.deepEqual(offendingPaths('fatal: bad object HEAD'), []);
  assert.equal(unquoteC('plain'), 'plain');
  assert.equal(unquoteC('"a\\"b"'), 'a"b');
});
