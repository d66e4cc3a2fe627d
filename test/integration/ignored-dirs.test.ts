/**
 * Folders git ignores as a whole are not watched (watch/ignored-dirs.ts): the real daemon, the
 * real watcher, real git. A folder that only holds ignored things, and a folder with a tracked
 * file, stay watched; un-ignoring a folder in .gitignore watches it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig, status, winnow } from '../helpers/daemon.js';

test('ignored folders are left unwatched; a .gitignore change watches them again', { timeout: 90_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  for (const d of ['deps/pkg', 'sub/deps/z', 'gen/out']) await mkdir(join(repo.root, d), { recursive: true });
  await repo.write('.gitignore', 'deps/\ngen/\n');
  await repo.write('deps/pkg/index.js', 'v1\n');
  await repo.write('sub/deps/z/f.js', 'z\n');
  await repo.write('gen/out/x.o', 'o\n');
  await repo.write('gen/tracked.txt', 'kept on purpose\n');
  repo.git('add', '-f', '.gitignore', 'gen/tracked.txt');
  repo.git('commit', '-q', '-m', 'ignored folders');
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    const st = await status(repo.root);
    // deps, sub/deps and gen/out; not sub/ (only holds ignored things) nor gen/ (a tracked file).
    assert.equal(st.watcher.unwatched, 3, JSON.stringify(st.watcher));
    const doctor = await winnow(['doctor', '--config', cfg], repo.root);
    assert.match(doctor.stdout + doctor.stderr, /the workspace has 3 watched directories/, 'doctor counts the watches winnow needs: the root, sub and gen');
    const from = d.lines.length;
    await repo.write('deps/pkg/index.js', 'v2\n');
    await repo.write('gen/out/x.o', 'o2\n');
    const landed = Promise.all([d.commitOf('sub/new.md'), d.commitOf('gen/tracked.txt')]);
    await repo.write('sub/new.md', 'a new file beside an ignored folder\n');
    await repo.write('gen/tracked.txt', 'edited\n');
    await landed;
    const seen = d.lines.slice(from).filter((l) => l.msg === 'decision').map((l) => String(l.path));
    assert.deepEqual(seen.filter((p) => p.startsWith('deps/') || p.startsWith('gen/out/')), [], `unwatched folders produce no events: ${seen}`);

    // The person un-ignores deps/: it is watched again, and what it holds is found.
    const rewatched = d.next((l) => l.msg === 'the folders git ignores changed; watching anew');
    await repo.write('.gitignore', 'gen/\n');
    await rewatched;
    const fresh = d.commitOf('deps/pkg/new.js');
    await repo.write('deps/pkg/new.js', 'written after the change\n');
    await fresh;
    await d.commitOf('deps/pkg/index.js');
    assert.equal(repo.git('show', 'HEAD:deps/pkg/new.js'), 'written after the change\n');
    assert.equal((await status(repo.root)).watcher.unwatched, 1, 'gen/out only: sub/deps is no longer ignored either');
  } finally {
    await d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
});
