import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile, mkdir, readFile } from 'node:fs/promises';
import { tempRepo, type TempRepo } from '../helpers/repo.js';
import { createGit, createGitRunner, GitError, parsePorcelainZ, chunkPaths } from '../../src/adapters/git.js';
import type { Git } from '../../src/ports/index.js';

// The adapter inherits the environment: keep the machine's git config out of these tests.
process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

const ODD = ['with space.md', 'ünïcødé.md', 'new\nline.md', '-leading-dash.md', 'tab\there.md', 'star*.md'];

async function open(r: TempRepo, hooks = false): Promise<Git> {
  return createGit(r.root, { gitDir: join(r.root, '.git'), stateDir: join(r.root, '.git', 'winnow'), timeoutMs: 20_000, hooks });
}

test('status: porcelain -z with odd names and renames (new\\0old)', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  for (const n of ODD) await r.write(n, 'x');
  await r.write('dir/deep/file.txt', 'x');
  r.git('mv', 'README.md', 'READ ME.md');
  const st = await git.status();
  const byPath = new Map(st.map((e) => [e.path, e]));
  for (const n of ODD) assert.equal(byPath.get(n)?.code, '??', JSON.stringify(n));
  assert.equal(byPath.get('dir/deep/file.txt')?.code, '??');
  assert.deepEqual(byPath.get('READ ME.md'), { path: 'READ ME.md', code: 'R ', from: 'README.md' });
});

test('parsePorcelainZ: table', () => {
  assert.deepEqual(parsePorcelainZ(' M a\0?? b c\0R  new\0old\0 D gone\0'), [
    { path: 'a', code: ' M' },
    { path: 'b c', code: '??' },
    { path: 'new', code: 'R ', from: 'old' },
    { path: 'gone', code: ' D' },
  ]);
  assert.deepEqual(parsePorcelainZ(''), []);
});

test('chunkPaths: argv chunks stay under the byte limit and keep every path', () => {
  const paths = Array.from({ length: 1000 }, (_, i) => `dir/file-${i}.txt`);
  const chunks = chunkPaths(paths, 1024);
  assert.ok(chunks.length > 1);
  for (const c of chunks) assert.ok(c.reduce((n, p) => n + Buffer.byteLength(p) + 1, 0) <= 1024);
  assert.deepEqual(chunks.flat(), paths);
});

test('ignored: .gitignore matches, but a tracked file matching .gitignore is not ignored', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  await r.write('kept.log', 'tracked before the rule');
  r.git('add', 'kept.log');
  r.git('commit', '-qm', 'log');
  await r.write('.gitignore', '*.log\nbuild/\n');
  await r.write('x.log', '');
  await r.write('build/out.js', '');
  const got = await git.ignored(['x.log', 'kept.log', 'build/out.js', 'src/a.ts', 'with space.log', '-dash.log']);
  assert.deepEqual([...got].sort(), ['-dash.log', 'build/out.js', 'with space.log', 'x.log']);
  assert.deepEqual([...(await git.ignored([]))], []);
});

test('ignored: names that look like pathspec magic are plain names; a path git cannot answer for counts as ignored', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  await r.write('.gitignore', '*.private\n');
  const names = [':(glob)x.private', ':!y.private', ':/z.private', ':(icase)ok.txt', 'plain.txt'];
  for (const n of names) await r.write(n, '');
  assert.deepEqual([...(await git.ignored(names))].sort(), [':!y.private', ':(glob)x.private', ':/z.private']);
  // Outside the repository: git dies on it; never "not ignored".
  assert.deepEqual([...(await git.ignored(['../elsewhere.txt', 'plain.txt']))], ['../elsewhere.txt']);
});

test('tracked and trackedCount, with literal pathspecs (a * in a name is not a glob)', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  await r.write('star*.md', 'x');
  await r.write('starry.md', 'x');
  await r.write('-dash.md', 'x');
  r.git('add', '--', 'starry.md', '-dash.md');
  r.git('commit', '-qm', 'two');
  const got = await git.tracked(['star*.md', 'starry.md', '-dash.md', 'README.md', 'absent']);
  assert.deepEqual([...got].sort(), ['-dash.md', 'README.md', 'starry.md']);
  assert.equal(await git.trackedCount(), 3);
});

test('headBlob: content by HEAD path, null when absent, sees new commits, newline names, restarts', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  const a = await git.headBlob('README.md');
  assert.equal(a?.content.toString(), '# test workspace\n');
  assert.match(a!.id, /^[0-9a-f]{40}$/);
  assert.equal(await git.headBlob('nope.md'), null);
  assert.equal(await git.headBlob('.'), null);
  await r.write('README.md', 'changed\n');
  await r.write('new\nline.md', 'nl\n');
  r.git('add', '--', 'README.md', 'new\nline.md');
  r.git('commit', '-qm', 'change');
  const b = await git.headBlob('README.md');
  assert.equal(b?.content.toString(), 'changed\n');
  assert.notEqual(b!.id, a!.id);
  assert.equal((await git.headBlob('new\nline.md'))?.content.toString(), 'nl\n');
  // Concurrent lookups are answered in order, each with its own content.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => git.headBlob(i % 2 ? 'README.md' : 'nope')));
  many.forEach((m, i) => assert.equal(m?.content.toString() ?? null, i % 2 ? 'changed\n' : null));
  await git.close();
  assert.equal((await git.headBlob('README.md'))?.content.toString(), 'changed\n');
});

test('headBlob of a 40 MB blob: exact bytes, then the small blob after it; headBlobInfo and hashFile never load it', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  // Distinct bytes at every offset, so a chunk joined in the wrong order or twice shows.
  const big = Buffer.alloc(40 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
  await r.write('big.bin', big);
  await r.write('small.txt', 'small\nwith a newline\n');
  r.git('add', '--', 'big.bin', 'small.txt');
  r.git('commit', '-qm', 'big');
  const id = r.git('rev-parse', 'HEAD:big.bin').trim();
  assert.deepEqual(await git.headBlobInfo!('big.bin'), { id, size: big.length });
  assert.equal(await git.headBlobInfo!('nope.bin'), null);
  assert.equal(await git.hashFile!('big.bin'), id);
  await r.write('big.bin', Buffer.concat([big, Buffer.from('x')]));
  assert.notEqual(await git.hashFile!('big.bin'), id);
  // The body is read across ~640 stdout chunks; the request queued behind it gets its own answer.
  const [b, s] = await Promise.all([git.headBlob('big.bin'), git.headBlob('small.txt')]);
  assert.equal(b?.id, id);
  assert.ok(b!.content.equals(big), 'the 40 MB blob comes back byte for byte');
  assert.equal(s?.content.toString(), 'small\nwith a newline\n');
});

test('treeEntries: the same entries as ls-tree -r for files, executables, symlinks, odd names; folders and absent paths left out', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  const { symlink, chmod } = await import('node:fs/promises');
  await r.write('a/b/c.txt', 'c\n');
  await r.write('a/run.sh', '#!/bin/sh\n');
  await chmod(join(r.root, 'a/run.sh'), 0o755);
  await symlink('b/c.txt', join(r.root, 'a/link'));
  for (const n of ODD) await r.write(`odd/${n}`, `${n}\n`);
  r.git('add', '-A');
  r.git('commit', '-qm', 'tree');
  const head = r.git('rev-parse', 'HEAD').trim();
  const want = ['README.md', 'a/b/c.txt', 'a/run.sh', 'a/link', 'a/b', 'a', 'missing.md', 'a/missing/x', ...ODD.map((n) => `odd/${n}`)];
  const got = await git.treeEntries!(head, want);
  const expected = new Map<string, { mode: string; oid: string }>();
  for (const rec of r.git('ls-tree', '-r', '-z', head).split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const [mode, , oid] = rec.slice(0, tab).split(' ');
    expected.set(rec.slice(tab + 1), { mode: mode!, oid: oid! });
  }
  for (const p of want) assert.deepEqual(got.get(p), expected.get(p), p);
  assert.equal(got.get('a/link')?.mode, '120000');
  assert.equal(got.get('a/run.sh')?.mode, '100755');
  assert.equal(got.size, 4 + ODD.length);
  // A commit made since: its own entries, not the first one's (nothing cached by path).
  await r.write('a/b/c.txt', 'changed\n');
  r.git('commit', '-qam', 'change');
  const next = await git.treeEntries!(r.git('rev-parse', 'HEAD').trim(), ['a/b/c.txt']);
  assert.equal(next.get('a/b/c.txt')?.oid, r.git('rev-parse', 'HEAD:a/b/c.txt').trim());
});

test('headSha and log: null and empty on an unborn branch', async (t) => {
  const r = await tempRepo({ initialCommit: false });
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  assert.equal(await git.headSha(), null);
  assert.deepEqual(await git.log(5), []);
  assert.equal(await git.blocked(), null, 'an unborn branch is not a block');
  assert.equal(await git.headBlob('x'), null);
});

test('blocked: merge in progress, detached HEAD, rebase, cherry-pick, revert, bisect', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  assert.equal(await git.blocked(), null);
  // A real conflicting merge.
  r.git('checkout', '-q', '-b', 'side');
  await r.write('README.md', 'side\n');
  r.git('commit', '-qam', 'side');
  r.git('checkout', '-q', 'main');
  await r.write('README.md', 'main\n');
  r.git('commit', '-qam', 'main');
  assert.throws(() => r.git('merge', 'side'));
  assert.equal(await git.blocked(), 'merge');
  r.git('merge', '--abort');
  assert.equal(await git.blocked(), null);
  r.git('checkout', '-q', '--detach', 'HEAD');
  assert.equal(await git.blocked(), 'detached');
  r.git('checkout', '-q', 'main');
  const gd = join(r.root, '.git');
  const cases: [string, string, boolean][] = [
    ['rebase-merge', 'rebase', true],
    ['rebase-apply', 'rebase', true],
    ['CHERRY_PICK_HEAD', 'cherry-pick', false],
    ['REVERT_HEAD', 'revert', false],
    ['BISECT_LOG', 'bisect', false],
  ];
  for (const [name, want, dir] of cases) {
    if (dir) await mkdir(join(gd, name));
    else await writeFile(join(gd, name), '');
    assert.equal(await git.blocked(), want, name);
    r.git('-c', 'core.hooksPath=/dev/null', 'status'); // still a valid repository
    await (await import('node:fs/promises')).rm(join(gd, name), { recursive: true });
  }
  assert.equal(await git.blocked(), null);
});

test('run: a failure is a typed GitError with args, code and stderr', async (t) => {
  const r = await tempRepo();
  const git = await open(r);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  await assert.rejects(git.run([{ args: ['rev-parse', '--verify', 'no-such-ref'] }]), (e: unknown) => {
    assert.ok(e instanceof GitError);
    assert.deepEqual(e.args.slice(-2), ['--verify', 'no-such-ref']);
    assert.equal(e.code, 128);
    assert.equal(e.timedOut, false);
    assert.match(e.stderr, /no-such-ref|Needed a single revision/);
    return true;
  });
});

test('run: every call has a timeout; an expired call is killed and says so', async (t) => {
  const r = await tempRepo();
  const git = await createGit(r.root, { gitDir: join(r.root, '.git'), stateDir: join(r.root, '.git', 'winnow'), timeoutMs: 300, hooks: false });
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  // A shell alias that sleeps: git hangs on a child of its own, as it would on a stuck hook or ssh.
  await assert.rejects(git.run([{ args: ['-c', 'alias.hang=!sleep 30', 'hang'] }]), (e: unknown) => {
    assert.ok(e instanceof GitError);
    assert.equal(e.timedOut, true);
    return true;
  });
});

test('raw runner: GIT_DIR and GIT_INDEX_FILE of its environment do not redirect it (winnow started from a hook)', async (t) => {
  const r = await tempRepo();
  const other = await tempRepo();
  t.after(async () => {
    await r.cleanup();
    await other.cleanup();
  });
  const env = { ...process.env, GIT_DIR: join(other.root, '.git'), GIT_INDEX_FILE: join(other.root, '.git', 'index'), GIT_WORK_TREE: other.root };
  const git = createGitRunner(r.root, { timeoutMs: 20_000, env });
  assert.equal((await git(['rev-parse', '--show-toplevel'], { readOnly: true })).stdout.toString().trim(), r.root);
  await r.write('a.md', 'a\n');
  await git(['add', '--', 'a.md']);
  assert.equal(r.git('ls-files', '--', 'a.md').trim(), 'a.md');
  assert.equal(other.git('ls-files', '--', 'a.md').trim(), '');
});

test('raw runner: allowFail and okCodes answer with the exit code; other failures are GitErrors without -c noise', async (t) => {
  const r = await tempRepo();
  t.after(() => r.cleanup());
  const git = createGitRunner(r.root, { timeoutMs: 20_000 });
  assert.equal((await git(['rev-parse', '-q', '--verify', 'nope'], { allowFail: true })).code, 1);
  assert.equal((await git(['rev-parse', '-q', '--verify', 'nope'], { okCodes: [1] })).code, 1);
  await assert.rejects(git(['-c', 'core.quotepath=off', 'rev-parse', '-q', '--verify', 'nope']), (e: unknown) => {
    assert.ok(e instanceof GitError);
    assert.equal(e.code, 1);
    assert.match(e.message, /^git rev-parse -q --verify failed \(exit 1\)/);
    return true;
  });
});

test('raw runner: a timeout stops git and what git started (its process group)', async (t) => {
  const r = await tempRepo();
  t.after(() => r.cleanup());
  const pidFile = join(r.root, '.git', 'hang.pid');
  const git = createGitRunner(r.root, { timeoutMs: 2_000 });
  // git runs a shell that records its pid and becomes `sleep`: a grandchild, like a stuck hook or ssh.
  const alias = `alias.hang=!sh -c 'echo $$ > "${pidFile}"; exec sleep 60'`;
  await assert.rejects(git(['-c', alias, 'hang']), (e: unknown) => e instanceof GitError && e.timedOut);
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  assert.ok(pid > 0);
  // SIGTERM went to the whole group before the call rejected; wait for the kernel to finish it.
  const gone = async () => {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    return st === null || / Z /.test(st.slice(st.lastIndexOf(')')));
  };
  for (let i = 0; i < 500 && !(await gone()); i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok(await gone(), `the grandchild ${pid} outlived the timeout`);
});

test('commit identity: without user.name/user.email, commits are made as winnow', async (t) => {
  const r = await tempRepo();
  r.git('config', '--unset', 'user.name');
  r.git('config', '--unset', 'user.email');
  const saved = { ...process.env };
  for (const k of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) delete process.env[k];
  const git = await open(r);
  t.after(async () => {
    Object.assign(process.env, saved);
    await git.close();
    await r.cleanup();
  });
  await r.write('a.md', 'a');
  await git.run([
    { args: ['add', '--intent-to-add', '--pathspec-from-file=-', '--pathspec-file-nul'], stdin: 'a.md\0' },
    { args: ['commit', '--only', '-q', '-m', 'x', '--pathspec-from-file=-', '--pathspec-file-nul'], stdin: 'a.md\0' },
  ]);
  assert.equal(r.git('log', '-1', '--format=%an <%ae>').trim(), 'winnow <winnow@localhost>');
});

test('a missing working directory is named as such, not reported as git missing from PATH', async () => {
  const run = createGitRunner('/nonexistent/winnow-no-such-dir', { timeoutMs: 10_000 });
  const err = await run(['--version']).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof GitError, String(err));
  assert.equal(err.notFound, false);
  assert.match(err.message, /\/nonexistent\/winnow-no-such-dir: the directory does not exist/);
  // git itself is found from an existing directory.
  assert.match((await createGitRunner('/', { timeoutMs: 10_000 })(['--version'])).stdout.toString(), /^git version/);
});
