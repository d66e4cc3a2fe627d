import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, rename, unlink, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo, type TempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';

/** Real watcher, real git, the real daemon process. */
async function withDaemon(fn: (repo: TempRepo, d: DaemonProcess) => Promise<void>, config = fastConfig()): Promise<void> {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, config);
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    await fn(repo, d);
  } finally {
    await d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
}

/** Every path winnow committed, in order, from git history (excluding the initial commit). */
function committedPaths(repo: TempRepo): string[] {
  return repo
    .git('log', '--reverse', '--format=%H', 'HEAD')
    .trim()
    .split('\n')
    .slice(1)
    .flatMap((sha) => repo.git('show', '--name-only', '--format=', '-z', sha).split('\0').filter(Boolean));
}

/**
 * A cookie barrier: a file committed after everything written before it. Once its commit lands,
 * any earlier change that was (wrongly) accepted would have been committed too.
 */
async function barrier(repo: TempRepo, d: DaemonProcess, name = `cookie-${Date.now()}.txt`): Promise<void> {
  const c = d.commitOf(name);
  await writeFile(join(repo.root, name), 'cookie\n');
  await c;
}

test('vim save pattern: swap file, 4913 probe, backup rename — only the file itself is committed', { timeout: 60_000 }, () =>
  withDaemon(async (repo, d) => {
    await repo.write('notes.md', 'v1\n');
    repo.git('add', 'notes.md');
    repo.git('commit', '-q', '-m', 'notes');
    const committed = d.commitOf('notes.md');
    const abs = (p: string) => join(repo.root, p);
    await writeFile(abs('.notes.md.swp'), Buffer.alloc(4096, 1));
    await writeFile(abs('4913'), '');
    await unlink(abs('4913'));
    await rename(abs('notes.md'), abs('notes.md~'));
    await writeFile(abs('notes.md'), 'v2 from vim\n');
    await unlink(abs('notes.md~'));
    await writeFile(abs('.notes.md.swp'), Buffer.alloc(4096, 2));
    const c = await committed;
    assert.equal(repo.git('show', `${String(c.sha)}:notes.md`), 'v2 from vim\n');
    await barrier(repo, d);
    const paths = committedPaths(repo);
    assert.ok(!paths.some((p) => p.endsWith('.swp') || p === '4913' || p.endsWith('~')), `no editor litter committed: ${paths}`);
  }));

test('atomic rename saves (VS Code, JetBrains): the temp name never reaches a commit', { timeout: 60_000 }, () =>
  withDaemon(async (repo, d) => {
    const abs = (p: string) => join(repo.root, p);
    await mkdir(abs('src'), { recursive: true });
    const a = d.commitOf('src/app.ts');
    await writeFile(abs('src/.app.ts.tmp-1234'), 'export const a = 1;\n');
    await rename(abs('src/.app.ts.tmp-1234'), abs('src/app.ts'));
    await a;
    const b = d.commitOf('src/Main.kt');
    await writeFile(abs('src/Main.kt___jb_tmp___'), 'fun main() {}\n');
    await rename(abs('src/Main.kt___jb_tmp___'), abs('src/Main.kt'));
    await b;
    await barrier(repo, d);
    const paths = committedPaths(repo);
    assert.ok(paths.includes('src/app.ts') && paths.includes('src/Main.kt'));
    assert.ok(!paths.some((p) => /tmp/.test(p)), `temp names never committed: ${paths}`);
    assert.equal(repo.git('status', '--porcelain', '--untracked-files=all').trim(), '', 'nothing left behind');
  }));

test('names with spaces, unicode, a newline and a leading dash are committed literally', { timeout: 60_000 }, () =>
  withDaemon(async (repo, d) => {
    const names = ['with space.md', 'ünïcödé ✓.md', '-rf.md', 'new\nline.md', '*.md'];
    const waits = names.map((n) => d.commitOf(n));
    for (const n of names) await writeFile(join(repo.root, n), `${n}\n`);
    await Promise.all(waits);
    const tree = repo.git('ls-tree', '-z', '--name-only', 'HEAD').split('\0');
    for (const n of names) assert.ok(tree.includes(n), `${JSON.stringify(n)} in HEAD`);
    assert.equal(tree.filter((n) => n.endsWith('.md') && n !== 'README.md').length, names.length, 'the glob-like name matched only itself');
  }));

test('deletions and renames by the person are committed', { timeout: 60_000 }, () =>
  withDaemon(async (repo, d) => {
    await repo.write('old name.md', 'content that moves\n');
    await repo.write('gone.md', 'to delete\n');
    repo.git('add', '.');
    repo.git('commit', '-q', '-m', 'two files');
    const renamed = d.commitOf('new name.md');
    const deleted = d.commitOf('gone.md');
    await rename(join(repo.root, 'old name.md'), join(repo.root, 'new name.md'));
    await unlink(join(repo.root, 'gone.md'));
    await Promise.all([renamed, deleted]);
    await barrier(repo, d);
    const tree = repo.git('ls-tree', '-z', '--name-only', 'HEAD').split('\0');
    assert.ok(tree.includes('new name.md'));
    assert.ok(!tree.includes('old name.md'), 'the old name is gone from HEAD');
    assert.ok(!tree.includes('gone.md'));
  }));

test('SIGKILL, edits while down, restart: every change is committed after the restart', { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  try {
    const first = new DaemonProcess(repo.root, ['--config', cfg]);
    await first.ready();
    const before = first.commitOf('before.md');
    await repo.write('before.md', 'written while running\n');
    await before;
    await first.kill();
    await repo.write('while-down.md', 'written while winnow was down\n');
    await repo.write('README.md', '# changed while down\n');
    const second = new DaemonProcess(repo.root, ['--config', cfg]);
    try {
      const a = second.commitOf('while-down.md');
      const b = second.commitOf('README.md');
      await second.ready();
      await Promise.all([a, b]);
      assert.equal(repo.git('show', 'HEAD:while-down.md'), 'written while winnow was down\n');
      assert.equal(repo.git('status', '--porcelain', '--untracked-files=all').trim(), '');
    } finally {
      await second.kill();
    }
  } finally {
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
});
