// sha256 repositories (`git init --object-format=sha256`): the empty tree and the null id come
// from the repository's object format. Each test here ran into a hard-coded sha1 id before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { unlink, writeFile } from 'node:fs/promises';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';
import { GIT_ENV, tempRepo } from '../helpers/repo.js';
import { world, syncerFor, testConfig } from './sync-helpers.js';
import { compactDate } from '../../src/core/sync/conflict.js';
import { createGit, createGitRunner } from '../../src/adapters/git.js';
import { createSnapshot, restoreSnapshot } from '../../src/daemon/sync/snapshots.js';

test('the git adapter reads the object format of the repository (sha1, sha256)', async (t) => {
  for (const format of ['sha1', 'sha256'] as const) {
    const r = await tempRepo({ objectFormat: format });
    t.after(() => r.cleanup());
    const git = await createGit(r.root, { gitDir: join(r.root, '.git'), stateDir: join(r.root, '.git', 'winnow'), timeoutMs: 20_000, hooks: false });
    t.after(() => git.close());
    assert.equal(await git.objectFormat(), format);
    assert.equal((await git.headSha())?.length, format === 'sha1' ? 40 : 64);
  }
});

test('sha256: a snapshot of an unborn branch diffs the work tree against the sha256 empty tree', async (t) => {
  const r = await tempRepo({ objectFormat: 'sha256', initialCommit: false });
  t.after(() => r.cleanup());
  const gitDir = join(r.root, '.git');
  const env = { root: r.root, gitDir, stateDir: join(gitDir, 'winnow'), git: createGitRunner(r.root, { timeoutMs: 30_000, env: GIT_ENV }), hostname: 'h' };
  await r.write('notes.md', 'first words, never committed\n');
  const snap = await createSnapshot(env, 'test', Date.now());
  assert.equal(snap.head, null);
  assert.deepEqual(snap.dirty, ['notes.md']);
  assert.equal(snap.worktreeCommit.length, 64);
  await r.write('notes.md', 'overwritten\n');
  await restoreSnapshot(env, snap.id, Date.now() + 1000);
  assert.equal(r.git('show', `${snap.worktreeCommit}:notes.md`), 'first words, never committed\n');
});

test('sha256: a conflict resolved under "ours" removes the conflicted entry with the sha256 null id', async (t) => {
  const w = await world({ objectFormat: 'sha256' });
  t.after(() => w.cleanup());
  assert.equal(w.b.git('rev-parse', '--show-object-format').trim(), 'sha256');
  await w.a.write('README.md', 'line one\nline two by a\nline three\n');
  w.a.commitAll('a edits line two');
  await w.b.write('README.md', 'line one\nline two by b\nline three\n');
  w.b.commitAll('b edits line two');
  const ra = await syncerFor(w.a).syncer.request({ reason: 'test', priority: 'manual' });
  assert.equal(ra.ok, true, ra.message);
  const { syncer: sb, clock } = syncerFor(w.b, { config: testConfig({ conflict: 'ours' }), hostname: 'laptop' });
  const r = await sb.request({ reason: 'test', priority: 'manual' });
  assert.equal(r.ok, true, r.message);
  assert.equal(await w.b.read('README.md'), 'line one\nline two by b\nline three\n');
  assert.equal(await w.b.read(`README.conflict-laptop-${compactDate(clock.now())}.md`), 'line one\nline two by a\nline three\n');
  assert.equal(w.b.git('status', '--porcelain'), '');
  w.b.git('fsck', '--no-progress');
});

test('sha256: the daemon makes the first commit of an unborn branch, then a deletion', { timeout: 60_000 }, async (t) => {
  const r = await tempRepo({ objectFormat: 'sha256', initialCommit: false });
  const cfg = `${r.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  const d = new DaemonProcess(r.root, ['--config', cfg]);
  t.after(async () => {
    await d.kill();
    await r.cleanup();
    await unlink(cfg).catch(() => undefined);
  });
  await d.ready();
  const committed = (p: string) => d.lines.some((l) => l.msg === 'commit' && (l.paths as string[]).includes(p));
  // Awaiter made before the writes: resolves once each file is in some commit.
  const all = d.waitFor(() => ['a.md', 'b.md', 'c.md'].every(committed));
  for (const n of ['a.md', 'b.md', 'c.md']) await r.write(n, `${n}\n`);
  await all;
  assert.equal(r.git('rev-parse', 'HEAD').trim().length, 64);
  const gone = d.next((l) => l.msg === 'commit' && (l.paths as string[]).includes('a.md'));
  await unlink(join(r.root, 'a.md'));
  const c2 = await gone;
  assert.equal(r.git('ls-tree', '--name-only', String(c2.sha)).trim().split('\n').sort().join(' '), 'b.md c.md');
  r.git('fsck', '--no-progress');
});
