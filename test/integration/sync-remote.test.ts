import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rename, readdir, stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { GIT_ENV } from '../helpers/repo.js';
import { world, syncerFor, testConfig } from './sync-helpers.js';
import { createGitRunner } from '../../src/adapters/git.js';
import type { GitRunner } from '../../src/ports/index.js';
import { compactDate } from '../../src/core/sync/conflict.js';

const remoteLog = (bare: string) => execFileSync('git', ['--git-dir', bare, 'log', '--format=%s', 'main'], { env: GIT_ENV, encoding: 'utf8' }).trim().split('\n');

test('changes travel both ways and uncommitted work is carried along', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  await w.a.write('a.md', 'from a\n');
  w.a.commitAll('a: add a.md');
  const sa = syncerFor(w.a).syncer;
  const r1 = await sa.request({ reason: 'test', priority: 'manual' });
  assert.equal(r1.ok, true, r1.message);
  assert.match(r1.message, /pushed 1/);
  assert.deepEqual(remoteLog(w.bare), ['a: add a.md', 'initial']);

  // b diverged: a commit of its own, an uncommitted edit to a tracked file, an untracked file.
  await w.b.write('b.md', 'from b\n');
  w.b.commitAll('b: add b.md');
  await w.b.write('README.md', 'line one\nline two\nline three\nuncommitted in b\n');
  await w.b.write('notes.txt', 'untracked in b\n');
  const sb = syncerFor(w.b).syncer;
  const r2 = await sb.request({ reason: 'test', priority: 'manual' });
  assert.equal(r2.ok, true, r2.message);
  assert.equal(await w.b.read('a.md'), 'from a\n');
  assert.equal(await w.b.read('README.md'), 'line one\nline two\nline three\nuncommitted in b\n');
  assert.equal(await w.b.read('notes.txt'), 'untracked in b\n');
  assert.deepEqual(remoteLog(w.bare), ['b: add b.md', 'a: add a.md', 'initial']);
  assert.equal(w.b.git('stash', 'list').trim(), '');
  assert.equal(sb.status().ahead, 0);
  assert.equal(sb.status().behind, 0);

  const r3 = await sa.request({ reason: 'test', priority: 'manual' });
  assert.equal(r3.ok, true, r3.message);
  assert.equal(await w.a.read('b.md'), 'from b\n');
  assert.equal(w.a.git('rev-parse', 'HEAD'), w.b.git('rev-parse', 'HEAD'));

  // The audit log has one JSON line per sync, and the snapshots were kept.
  const audit = (await readFile(join(w.b.stateDir, 'sync.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; snapshot: string });
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!.ok, true);
  assert.ok((await readdir(join(w.b.stateDir, 'snapshots'))).includes(audit[0]!.snapshot));
  execFileSync('git', ['fsck', '--no-progress'], { cwd: w.b.root, env: GIT_ENV });
});

async function sameLineConflict() {
  const w = await world();
  await w.a.write('README.md', 'line one\nline two by a\nline three\n');
  w.a.commitAll('a edits line two');
  await w.b.write('README.md', 'line one\nline two by b\nline three\n');
  w.b.commitAll('b edits line two');
  const ra = await syncerFor(w.a).syncer.request({ reason: 'test', priority: 'manual' });
  assert.equal(ra.ok, true, ra.message);
  return w;
}

test('manual conflict: nothing changes, syncing stops, and resumes once the person resolved it', async (t) => {
  const w = await sameLineConflict();
  t.after(() => w.cleanup());
  await w.b.write('draft.md', 'uncommitted draft\n');
  const head = w.b.git('rev-parse', 'HEAD');
  const statusBefore = w.b.git('status', '--porcelain');
  const { syncer: sb, clock } = syncerFor(w.b);
  const r = await sb.request({ reason: 'test', priority: 'manual' });
  assert.equal(r.ok, false);
  assert.match(r.message, /conflicts with origin in README\.md/);
  assert.equal(w.b.git('rev-parse', 'HEAD'), head);
  assert.equal(w.b.git('status', '--porcelain'), statusBefore);
  assert.equal(await w.b.read('README.md'), 'line one\nline two by b\nline three\n');
  assert.equal(w.b.git('stash', 'list').trim(), '');
  assert.deepEqual(sb.status().conflicts, ['README.md']);
  assert.match(sb.status().stopped ?? '', /README\.md/);
  const refused = await sb.request({ reason: 'after commit', priority: 'scheduled' });
  assert.equal(refused.ok, false);
  assert.match(refused.message, /stopped/);

  // The person merges and resolves by hand.
  w.b.git('fetch', '-q', 'origin');
  assert.throws(() => w.b.git('merge', '-q', 'origin/main'));
  await w.b.write('README.md', 'line one\nline two by a and b\nline three\n');
  w.b.git('add', 'README.md');
  w.b.git('commit', '-q', '--no-edit');
  assert.equal(clock.pendingTimers, 0);
  await clock.advance(300_000); // minIntervalMs since the failed attempt
  const resumed = await sb.request({ reason: 'after commit', priority: 'scheduled' });
  assert.equal(resumed.ok, true, resumed.message);
  assert.equal(sb.status().stopped, null);
  assert.deepEqual(sb.status().conflicts, []);
  assert.equal(remoteLog(w.bare)[0], `Merge remote-tracking branch 'origin/main'`);
});

for (const strategy of ['ours', 'theirs'] as const) {
  test(`conflict under "${strategy}": resolved automatically, the losing side committed as a conflict copy`, async (t) => {
    const w = await sameLineConflict();
    t.after(() => w.cleanup());
    const { syncer: sb, clock } = syncerFor(w.b, { config: testConfig({ conflict: strategy }), hostname: 'laptop' });
    const r = await sb.request({ reason: 'test', priority: 'manual' });
    assert.equal(r.ok, true, r.message);
    const copy = `README.conflict-laptop-${compactDate(clock.now())}.md`;
    const mine = 'line one\nline two by b\nline three\n';
    const theirs = 'line one\nline two by a\nline three\n';
    assert.equal(await w.b.read('README.md'), strategy === 'ours' ? mine : theirs);
    assert.equal(await w.b.read(copy), strategy === 'ours' ? theirs : mine);
    assert.equal(w.b.git('status', '--porcelain'), '');
    // Both versions reached the remote; nothing was force-pushed (a's commit is still there).
    const ra = await syncerFor(w.a).syncer.request({ reason: 'test', priority: 'manual' });
    assert.equal(ra.ok, true, ra.message);
    assert.equal(await w.a.read(copy), strategy === 'ours' ? theirs : mine);
    assert.deepEqual(remoteLog(w.bare), ['b edits line two', 'a edits line two', 'initial']);
    assert.match(w.b.git('log', '-1', '--format=%B'), new RegExp(`conflicts resolved with "${strategy}"`));
  });
}

test('remote unreachable: commits stay local, breaker counts, pushed in order once it is back', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  const { syncer: sa, clock } = syncerFor(w.a);
  await rename(w.bare, w.bare + '.away');
  for (const n of [1, 2]) {
    await w.a.write(`n${n}.md`, `${n}\n`);
    w.a.commitAll(`a commit ${n}`);
  }
  const r = await sa.request({ reason: 'test', priority: 'manual' });
  assert.equal(r.ok, false);
  assert.match(r.message, /fetch from origin failed/);
  assert.equal(sa.status().breaker.failures, 1);
  assert.equal(w.a.git('rev-list', '--count', 'origin/main..main').trim(), '2');
  // A retry is armed at the backoff; the scheduled attempt fails too and is not a hang.
  assert.ok(sa.status().nextAt !== null);
  await rename(w.bare + '.away', w.bare);
  await clock.advance(10_000);
  const back = await sa.request({ reason: 'remote back', priority: 'manual' });
  assert.equal(back.ok, true, back.message);
  assert.deepEqual(remoteLog(w.bare), ['a commit 2', 'a commit 1', 'initial']);
  assert.equal(sa.status().breaker.failures, 0);
  const audit = (await readFile(join(w.a.stateDir, 'sync.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; failure?: string });
  assert.equal(audit[0]!.failure, 'unreachable');
  assert.equal(audit.at(-1)!.ok, true);
});

test('auth failure does not hang on a prompt (GIT_TERMINAL_PROMPT=0)', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  // An http remote on a closed local port fails fast; with prompts enabled git could wait for a person.
  w.a.git('remote', 'set-url', 'origin', 'http://127.0.0.1:9/none.git');
  await w.a.write('x.md', 'x\n');
  w.a.commitAll('x');
  const r = await syncerFor(w.a).syncer.request({ reason: 'test', priority: 'manual' });
  assert.equal(r.ok, false);
  assert.match(r.message, /fetch from origin failed/);
});

test('push rejected because the remote moved meanwhile: pulls again and pushes, never forces', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  await w.a.write('a.md', 'a\n');
  w.a.commitAll('a commit');
  const real = createGitRunner(w.a.root, { timeoutMs: 30_000, env: GIT_ENV });
  let raced = false;
  const racing: GitRunner = async (args, call) => {
    if (args[0] === 'push' && !raced) {
      raced = true;
      await w.b.write('b.md', 'b\n');
      w.b.commitAll('b commit (raced)');
      w.b.git('push', '-q', 'origin', 'main');
    }
    return real(args, call);
  };
  const r = await syncerFor(w.a, { git: racing }).syncer.request({ reason: 'test', priority: 'manual' });
  assert.equal(r.ok, true, r.message);
  assert.equal(raced, true);
  assert.deepEqual(remoteLog(w.bare), ['a commit', 'b commit (raced)', 'initial']);
  assert.equal(await w.a.read('b.md'), 'b\n');
});

test('incoming change to a file with uncommitted edits: refused, nothing changed, nothing lost', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  await w.a.write('README.md', 'line one\nchanged by a\nline three\n');
  w.a.commitAll('a edits README');
  assert.equal((await syncerFor(w.a).syncer.request({ reason: 't', priority: 'manual' })).ok, true);
  await w.b.write('README.md', 'dirty in b\n');
  const head = w.b.git('rev-parse', 'HEAD');
  const r = await syncerFor(w.b).syncer.request({ reason: 't', priority: 'manual' });
  assert.equal(r.ok, false);
  assert.match(r.message, /would be overwritten/);
  assert.equal(await w.b.read('README.md'), 'dirty in b\n');
  assert.equal(w.b.git('rev-parse', 'HEAD'), head);
  await stat(join(w.b.stateDir, 'sync-journal.json')).then(
    () => assert.fail('journal left behind'),
    () => undefined,
  );
});

test('a rebase the person started is left alone: sync waits and says why', async (t) => {
  const w = await sameLineConflict();
  t.after(() => w.cleanup());
  w.b.git('fetch', '-q', 'origin');
  assert.throws(() => w.b.git('rebase', 'origin/main'));
  const r = await syncerFor(w.b).syncer.request({ reason: 't', priority: 'manual' });
  assert.equal(r.ok, false);
  assert.match(r.message, /rebase is in progress/);
  await stat(join(w.b.gitDir, 'rebase-merge'));
});
