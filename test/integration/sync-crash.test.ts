import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GIT_ENV } from '../helpers/repo.js';
import { world, syncerFor, testConfig } from './sync-helpers.js';
import { readPause } from '../../src/daemon/lifecycle/pause.js';
import { listSnapshots, restoreSnapshot, createSnapshot } from '../../src/daemon/sync/snapshots.js';
import { createGitRunner } from '../../src/adapters/git.js';

const child = fileURLToPath(new URL('./sync-child.ts', import.meta.url));

function runChild(root: string, step: string, conflict = 'ours'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, root, step, conflict], { stdio: ['ignore', 'pipe', 'inherit'], env: GIT_ENV });
    p.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

for (const step of ['after-snapshot', 'after-replay', 'after-read-tree', 'after-push']) {
  test(`SIGKILL at ${step}, then restart: nothing lost, repository valid, sync completes`, async (t) => {
    const w = await world();
    t.after(() => w.cleanup());
    await w.a.write('README.md', 'line one\nline two by a\nline three\n');
    await w.a.write('a.md', 'a\n');
    w.a.commitAll('a edits');
    assert.equal((await syncerFor(w.a).syncer.request({ reason: 't', priority: 'manual' })).ok, true);
    await w.b.write('README.md', 'line one\nline two by b\nline three\n');
    w.b.commitAll('b edits');
    await w.b.write('draft.md', 'uncommitted draft\n');

    const r = await runChild(w.b.root, step);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(w.b.git('stash', 'list').trim(), '');
    await stat(join(w.b.gitDir, 'rebase-merge')).then(() => assert.fail('a rebase was left in the work tree'), () => undefined);

    // Restart: a new syncer recovers and syncs.
    const { syncer } = syncerFor(w.b, { config: testConfig({ conflict: 'ours' }), hostname: 'b' });
    const again = await syncer.request({ reason: 'restart', priority: 'manual' });
    assert.equal(again.ok, true, again.message);
    assert.equal(await readPause(w.b.stateDir, Date.now(), 300_000), null, 'the dead sync\'s pause was dropped');
    assert.equal(await w.b.read('draft.md'), 'uncommitted draft\n');
    assert.equal(await w.b.read('README.md'), 'line one\nline two by b\nline three\n');
    assert.equal(await w.b.read('a.md'), 'a\n');
    assert.equal(w.b.git('status', '--porcelain'), '?? draft.md\n');
    assert.match(w.b.git('log', '--format=%s', '-3'), /b edits/);
    assert.equal(w.b.git('rev-parse', 'HEAD'), execFileSync('git', ['--git-dir', w.bare, 'rev-parse', 'main'], { encoding: 'utf8' }));
    execFileSync('git', ['fsck', '--no-progress'], { cwd: w.b.root, env: GIT_ENV, stdio: 'pipe' });
    assert.equal(w.b.git('for-each-ref', 'refs/winnow/').trim(), '');
  });
}

test('snapshot restore round trip: content back, restore snapshotted first, index and HEAD untouched', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  const c = w.a;
  const env = { root: c.root, gitDir: c.gitDir, stateDir: c.stateDir, git: createGitRunner(c.root, { timeoutMs: 30_000, env: GIT_ENV }), hostname: 'h' };
  await c.write('README.md', 'edited, not committed\n');
  await c.write('sp ace/ü.md', 'untracked unicode\n');
  await c.write('bin.dat', Buffer.from([0, 1, 2, 255]).toString('latin1'));
  c.git('add', 'bin.dat');
  const snap = await createSnapshot(env, 'test', Date.now());
  assert.equal(snap.dirtyCount, 3);
  const head = c.git('rev-parse', 'HEAD');
  const index = c.git('ls-files', '-s');

  await c.write('README.md', 'later edit\n');
  await c.write('new.md', 'created after the snapshot\n');
  execFileSync('rm', ['-r', join(c.root, 'sp ace')]);
  const res = await restoreSnapshot(env, snap.id, Date.now() + 1000);
  assert.equal(await c.read('README.md'), 'edited, not committed\n');
  assert.equal(await c.read('sp ace/ü.md'), 'untracked unicode\n');
  await stat(join(c.root, 'new.md')).then(() => assert.fail('new.md should be gone'), () => undefined);
  assert.deepEqual(res.removed, ['new.md']);
  assert.equal(c.git('rev-parse', 'HEAD'), head);
  assert.equal(c.git('ls-files', '-s'), index);
  // The restore is itself undoable: the snapshot taken first has the later state.
  const list = await listSnapshots(c.stateDir);
  assert.equal(list[0]!.id, res.before.id);
  await restoreSnapshot(env, res.before.id, Date.now() + 2000);
  assert.equal(await c.read('README.md'), 'later edit\n');
  assert.equal(await c.read('new.md'), 'created after the snapshot\n');
});

test('a damaged snapshot is refused with a clear message and nothing changes', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  const c = w.a;
  const env = { root: c.root, gitDir: c.gitDir, stateDir: c.stateDir, git: createGitRunner(c.root, { timeoutMs: 30_000, env: GIT_ENV }), hostname: 'h' };
  const snap = await createSnapshot(env, 'test', Date.now());
  const { appendFile } = await import('node:fs/promises');
  await appendFile(join(c.stateDir, 'snapshots', snap.id, 'repo.bundle'), 'x');
  await c.write('README.md', 'keep me\n');
  await assert.rejects(restoreSnapshot(env, snap.id, Date.now()), /damaged/);
  await assert.rejects(restoreSnapshot(env, 'nope', Date.now()), /no snapshot "nope"/);
  assert.equal(await c.read('README.md'), 'keep me\n');
});
