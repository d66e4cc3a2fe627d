/**
 * The person's index read in-process (core/commit/index-file.ts) answers what `git ls-files -s -v
 * --debug` answers, for every index version git writes, and hands over to git where it cannot
 * (split index): indexes made by real git, compared entry by entry with git's own listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { scanIndex } from '../../src/core/commit/index-file.js';
import { parseLsFiles } from '../../src/core/commit/plumbing.js';
import { createGit } from '../../src/adapters/git.js';
import { tempRepo, GIT_ENV, type TempRepo } from '../helpers/repo.js';

const scanFile = (root: string, want: Set<string>) => {
  const buf = readFileSync(join(root, '.git', 'index'));
  return scanIndex((pos, len) => buf.subarray(pos, pos + len), buf.length, want);
};

/** A repo whose index holds every kind of entry the committer asks about. */
async function populated(repo: TempRepo): Promise<string[]> {
  const paths = ['a.md', 'dir/b.md', 'dir/sub/c.txt', 'exec.sh', 'ünï cödé.md', 'sp ace/-lead.md', 'new\nline.md', 'ita.md', 'sparse.md', 'assumed.md', `${'d'.repeat(120)}/${'n'.repeat(200)}.md`];
  for (const p of paths) await repo.write(p, `${p}\n`);
  execFileSync('chmod', ['+x', join(repo.root, 'exec.sh')]);
  execFileSync('ln', ['-s', 'a.md', join(repo.root, 'link')]);
  repo.git('add', '--', 'link', ...paths.filter((p) => p !== 'ita.md'));
  repo.git('commit', '-q', '-m', 'base');
  repo.git('add', '-N', 'ita.md');
  repo.git('update-index', '--skip-worktree', 'sparse.md');
  repo.git('update-index', '--assume-unchanged', 'assumed.md');
  await repo.write('a.md', 'staged by hand\n');
  repo.git('add', 'a.md');
  // A name of 4095 bytes or more does not fit the entry's 12-bit length: git writes 0xfff and the
  // reader finds the name's end. No file system takes such a path; the index does.
  const long = `${'l'.repeat(200)}/`.repeat(22) + 'end.md';
  repo.git('update-index', '--add', '--cacheinfo', `100644,${repo.git('rev-parse', 'HEAD:a.md').trim()},${long}`);
  return [...paths, 'link', long];
}

const gitsAnswer = (repo: TempRepo, want: Set<string>) =>
  parseLsFiles(repo.git('ls-files', '-s', '-v', '--debug', '-z', '--', ...want), want);

for (const version of [2, 3, 4]) {
  test(`index version ${version}: the same entries and flags as git ls-files, absent paths absent`, async () => {
    const repo = await tempRepo();
    try {
      const paths = await populated(repo);
      repo.git('update-index', `--index-version=${version}`);
      const want = new Set([...paths, 'not/there.md', 'dir']);
      const scan = scanFile(repo.root, want);
      assert.ok(scan, 'the index was read');
      assert.deepEqual(scan.entries, gitsAnswer(repo, want));
      const flags = (p: string) => {
        const e = scan.entries.get(p);
        return e && e !== 'conflict' ? e : null;
      };
      assert.equal(flags('sparse.md')?.skipWorktree, true);
      assert.equal(flags('assumed.md')?.assumeUnchanged, true);
      // git writes version 3 whenever an entry needs extended flags, even when asked for 2.
      assert.equal(flags('ita.md')?.intentToAdd, true);
      assert.equal(scan.unmerged, false);
      assert.ok(scan.entries.has(paths.at(-1)!), 'the 4.4 KB name was read');
      assert.equal(scan.entries.has('not/there.md') || scan.entries.has('dir'), false);
    } finally {
      await repo.cleanup();
    }
  });
}

test('a conflict in the index: the path is a conflict and the index is unmerged, like ls-files -u says', async () => {
  const repo = await tempRepo();
  try {
    await populated(repo);
    const oid = repo.git('rev-parse', 'HEAD:dir/b.md').trim();
    execFileSync('git', ['update-index', '--index-info'], {
      cwd: repo.root,
      env: GIT_ENV,
      input: `0 ${'0'.repeat(40)}\tdir/b.md\n100644 ${oid} 1\tdir/b.md\n100644 ${oid} 2\tdir/b.md\n100644 ${oid} 3\tdir/b.md\n`,
    });
    const want = new Set(['dir/b.md', 'exec.sh']);
    const scan = scanFile(repo.root, want);
    assert.ok(scan);
    assert.equal(scan.unmerged, repo.git('ls-files', '-u').length > 0);
    assert.equal(scan.unmerged, true);
    assert.deepEqual(scan.entries, gitsAnswer(repo, want));
    assert.equal(scan.entries.get('dir/b.md'), 'conflict');
  } finally {
    await repo.cleanup();
  }
});

test('a split index is left to git: the scan says so, and the adapter answers through ls-files', async () => {
  const repo = await tempRepo();
  try {
    const paths = await populated(repo);
    repo.git('update-index', '--split-index');
    await repo.write('dir/b.md', 'changed\n');
    repo.git('add', 'dir/b.md');
    const want = new Set(paths);
    assert.equal(scanFile(repo.root, want), null);
    const git = await createGit(repo.root, { gitDir: join(repo.root, '.git'), stateDir: join(repo.root, '.git', 'winnow'), timeoutMs: 30_000, hooks: false });
    try {
      assert.deepEqual(await git.indexEntries!(paths), gitsAnswer(repo, want));
      assert.equal(await git.blocked(), null);
    } finally {
      await git.close();
    }
  } finally {
    await repo.cleanup();
  }
});

test('a SHA-256 repository: 32-byte object ids are read as such', async (t) => {
  const repo = await tempRepo();
  try {
    try {
      execFileSync('git', ['init', '-q', '--object-format=sha256', 'sha'], { cwd: repo.root, env: GIT_ENV, stdio: 'ignore' });
    } catch {
      t.skip('this git cannot make a SHA-256 repository');
      return;
    }
    const root = join(repo.root, 'sha');
    execFileSync('sh', ['-c', 'printf "x\\n" > a.md && mkdir d && printf "y\\n" > d/b.md && git add -A'], { cwd: root, env: GIT_ENV });
    const want = new Set(['a.md', 'd/b.md']);
    const buf = readFileSync(join(root, '.git', 'index'));
    const scan = scanIndex((pos, len) => buf.subarray(pos, pos + len), buf.length, want);
    assert.ok(scan);
    const ls = execFileSync('git', ['ls-files', '-s', '-v', '--debug', '-z'], { cwd: root, env: GIT_ENV, encoding: 'utf8' });
    assert.deepEqual(scan.entries, parseLsFiles(ls, want));
    assert.equal((scan.entries.get('a.md') as { oid: string }).oid.length, 64);
  } finally {
    await repo.cleanup();
  }
});

test('the adapter: blocked() sees a conflict left without MERGE_HEAD, indexEntries matches git', async () => {
  const repo = await tempRepo();
  try {
    const paths = await populated(repo);
    const git = await createGit(repo.root, { gitDir: join(repo.root, '.git'), stateDir: join(repo.root, '.git', 'winnow'), timeoutMs: 30_000, hooks: false });
    try {
      assert.deepEqual(await git.indexEntries!(paths), gitsAnswer(repo, new Set(paths)));
      assert.equal(await git.blocked(), null);
      const oid = repo.git('rev-parse', 'HEAD:exec.sh').trim();
      execFileSync('git', ['update-index', '--index-info'], {
        cwd: repo.root,
        env: GIT_ENV,
        input: `0 ${'0'.repeat(40)}\texec.sh\n100755 ${oid} 2\texec.sh\n100755 ${oid} 3\texec.sh\n`,
      });
      assert.equal(await git.blocked(), 'conflict');
    } finally {
      await git.close();
    }
  } finally {
    await repo.cleanup();
  }
});

test('IndexReader answers again from the same version of the index only: a rewrite by git is read anew', async (t) => {
  const { IndexReader } = await import('../../src/adapters/index-file.js');
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  await repo.write('a.md', 'one\n');
  await repo.write('b.md', 'two\n');
  repo.git('add', 'a.md', 'b.md');
  const reader = new IndexReader(join(repo.root, '.git', 'index'));
  const first = reader.scan(new Set(['a.md', 'b.md']));
  const oidA = repo.git('rev-parse', ':a.md').trim();
  assert.equal((first?.entries.get('a.md') as { oid: string }).oid, oidA);
  // A subset of what was looked for, same file: the same answer, for those paths only.
  const again = reader.scan(new Set(['a.md']));
  assert.deepEqual([...again!.entries.keys()], ['a.md']);
  assert.equal(again!.unmerged, false);
  // git rewrites the index (same size: only the object id of a.md changes).
  await repo.write('a.md', 'uno\n');
  repo.git('add', 'a.md');
  const after = reader.scan(new Set(['a.md']));
  assert.equal((after?.entries.get('a.md') as { oid: string }).oid, repo.git('rev-parse', ':a.md').trim());
  assert.notEqual(repo.git('rev-parse', ':a.md').trim(), oidA);
  // A path not looked for before is read from the file, not answered as absent.
  await repo.write('c.md', 'three\n');
  repo.git('add', 'c.md');
  assert.ok(reader.scan(new Set(['a.md']))?.entries.has('a.md'));
  assert.ok(reader.scan(new Set(['c.md']))?.entries.has('c.md'));
});
