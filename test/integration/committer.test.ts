import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chmod, mkdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tempRepo, type TempRepo } from '../helpers/repo.js';
import { realCommitter } from '../helpers/committer.js';
import type { ManualClock } from '../helpers/clock.js';
import { RECHECK_MS, type Committer } from '../../src/daemon/commit/committer.js';
import { mergeConfig, type ConfigInput } from '../../src/core/config/schema.js';
import type { Git, Logger } from '../../src/ports/index.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

interface H {
  r: TempRepo;
  git: Git;
  clock: ManualClock;
  committer: Committer;
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
  paused: { value: boolean };
  /** Paths of HEAD's commit (NUL-safe). */
  headPaths(): string[];
  commitCount(): number;
}

async function setup(t: { after(fn: () => Promise<void>): void }, cfg: ConfigInput = {}, repo?: TempRepo): Promise<H> {
  const config = mergeConfig({ health: { minFreeBytes: 0 }, ...cfg });
  const logs: H['logs'] = [];
  const logger: Logger = { log: (level, msg, fields) => logs.push({ level, msg, fields }) };
  const paused = { value: false };
  const { r, git, clock, committer } = await realCommitter(t, { config, logger, isPaused: async () => paused.value, ...(repo ? { repo } : {}) });
  return {
    r,
    git,
    clock,
    committer,
    logs,
    paused,
    headPaths: () =>
      r
        .git('show', '--format=', '--name-only', '-z', '--no-renames', 'HEAD')
        .split('\0')
        .filter(Boolean),
    commitCount: () => Number(r.git('rev-list', '--count', 'HEAD').trim()),
  };
}

const ODD = ['with space.md', 'ünïcødé ✓.md', 'new\nline.md', '-rf', '--help', 'star*.md', ':(glob)x.md'];

test('names with spaces, unicode, newlines, a leading - and pathspec magic commit exactly', async (t) => {
  const h = await setup(t);
  for (const n of ODD) await h.r.write(n, `content of ${n}\n`);
  await h.r.write('bystander.md', 'must not be committed');
  h.committer.submit(ODD);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths().sort(), [...ODD].sort());
  assert.equal(h.commitCount(), 2);
  assert.match(h.r.git('status', '--porcelain'), /\?\? bystander\.md/);
  const commit = h.logs.find((l) => l.msg === 'commit')!;
  assert.equal(commit.fields!.sha, h.r.git('rev-parse', 'HEAD').trim());
  assert.equal(h.committer.status().lastCommits[0]!.message.includes('\n'), false);
});

test('a file the person staged by hand stays staged and out of the commit', async (t) => {
  const h = await setup(t);
  await h.r.write('mine.md', 'staged by hand\n');
  h.r.git('add', 'mine.md');
  await h.r.write('README.md', 'edited\n');
  h.committer.submit(['README.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['README.md']);
  assert.match(h.r.git('status', '--porcelain'), /^A  mine\.md$/m);
  assert.equal(h.r.git('diff', '--cached', '--name-only').trim(), 'mine.md');
});

test('a partially staged tracked file: the commit takes the work tree version; the staged hunk is not lost', async (t) => {
  const h = await setup(t);
  await h.r.write('other.md', 'v1\n');
  h.r.git('add', 'other.md');
  h.r.git('commit', '-qm', 'other');
  await h.r.write('other.md', 'v2 staged\n');
  h.r.git('add', 'other.md');
  await h.r.write('README.md', 'edited\n');
  h.committer.submit(['README.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['README.md']);
  assert.equal(h.r.git('show', ':other.md'), 'v2 staged\n');
});

test('deletions and renames count', async (t) => {
  const h = await setup(t);
  await h.r.write('a.md', 'a\n');
  await h.r.write('b.md', 'b\n');
  await h.r.write('c.md', 'c\n');
  h.r.git('add', '.');
  h.r.git('commit', '-qm', 'files');
  await unlink(join(h.r.root, 'a.md'));
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  assert.equal(h.r.git('ls-files', 'a.md').trim(), '');
  assert.deepEqual(h.headPaths(), ['a.md']);
  // A rename seen as delete + create.
  await h.r.write('renamed b.md', 'b\n');
  await unlink(join(h.r.root, 'b.md'));
  h.committer.submit(['b.md', 'renamed b.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths().sort(), ['b.md', 'renamed b.md']);
  assert.match(h.r.git('show', '--format=', '--name-status', '-M', 'HEAD'), /^R100\tb\.md\trenamed b\.md$/m);
  assert.equal(h.r.git('status', '--porcelain'), '');
});

test('works on an unborn branch', async (t) => {
  const r = await tempRepo({ initialCommit: false });
  const h = await setup(t, {}, r);
  await h.r.write('first.md', 'hello\n');
  h.committer.submit(['first.md']);
  await h.committer.onIdle();
  assert.equal(h.commitCount(), 1);
  assert.deepEqual(h.headPaths(), ['first.md']);
});

test('index.lock held by another process: wait, never delete it, commit once it is gone', async (t) => {
  const h = await setup(t);
  const lock = join(h.r.root, '.git', 'index.lock');
  await writeFile(lock, 'held by someone else');
  const inode = (await stat(lock)).ino;
  await h.r.write('README.md', 'edited\n');
  h.committer.submit(['README.md']);
  await h.committer.onIdle();
  assert.match(h.committer.status().waiting!, /index\.lock exists/);
  for (let i = 0; i < 3; i++) {
    await h.clock.advance(RECHECK_MS);
    await h.committer.onIdle();
  }
  assert.equal(h.commitCount(), 1);
  // Still the very file we created: never deleted, never replaced.
  assert.equal((await stat(lock)).ino, inode);
  assert.equal(await readFile(lock, 'utf8'), 'held by someone else');
  await unlink(lock);
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.equal(h.commitCount(), 2);
  assert.deepEqual(h.headPaths(), ['README.md']);
  assert.equal(h.committer.status().waiting, null);
});

test('a merge in progress waits, and commits once it is concluded', async (t) => {
  const h = await setup(t);
  h.r.git('checkout', '-q', '-b', 'side');
  await h.r.write('README.md', 'side\n');
  h.r.git('commit', '-qam', 'side');
  h.r.git('checkout', '-q', 'main');
  await h.r.write('README.md', 'main\n');
  h.r.git('commit', '-qam', 'main');
  assert.throws(() => h.r.git('merge', 'side'));
  await h.r.write('notes.md', 'written during the merge\n');
  h.committer.submit(['notes.md']);
  await h.committer.onIdle();
  assert.match(h.committer.status().waiting!, /merge is in progress/);
  const before = h.r.git('rev-parse', 'HEAD').trim();
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.equal(h.r.git('rev-parse', 'HEAD').trim(), before);
  h.r.git('merge', '--abort');
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['notes.md']);
});

test('a detached HEAD waits', async (t) => {
  const h = await setup(t);
  h.r.git('checkout', '-q', '--detach');
  await h.r.write('a.md', 'a\n');
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  assert.match(h.committer.status().waiting!, /HEAD is detached/);
  assert.equal(h.commitCount(), 1);
  h.r.git('checkout', '-q', 'main');
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.equal(h.commitCount(), 2);
  assert.equal(h.r.git('symbolic-ref', 'HEAD').trim(), 'refs/heads/main');
});

async function failingHooks(r: TempRepo): Promise<string> {
  const dir = join(r.root, '.git', 'hooks');
  await mkdir(dir, { recursive: true });
  const marker = join(r.root, '.git', 'hook-ran');
  for (const name of ['pre-commit', 'commit-msg', 'post-commit', 'prepare-commit-msg']) {
    await writeFile(join(dir, name), `#!/bin/sh\necho ${name} >> "${marker}"\nexit 1\n`);
    await chmod(join(dir, name), 0o755);
  }
  return marker;
}

test('hooks do not run by default (a pre-commit hook that would fail)', async (t) => {
  const h = await setup(t);
  const marker = await failingHooks(h.r);
  await h.r.write('a.md', 'a\n');
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['a.md']);
  await assert.rejects(stat(marker), 'no hook ran');
});

test('with commit.hooks true, the failing pre-commit hook runs and the change stays pending', async (t) => {
  const h = await setup(t, { commit: { hooks: true } });
  const marker = await failingHooks(h.r);
  await h.r.write('a.md', 'a\n');
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  assert.equal(h.commitCount(), 1);
  assert.match(await readFile(marker, 'utf8'), /pre-commit/);
  assert.deepEqual(h.committer.status().queued, ['a.md']);
  assert.ok(h.logs.some((l) => l.level === 'warn'));
});

test('commit.gpgSign in the person\'s config: a commit through git commit (commit.hooks) is not signed, as plumbing\'s are not; no signing program runs from the background', async (t) => {
  const h = await setup(t, { commit: { hooks: true } });
  // A signing program that leaves a marker and fails, as gpg does when no pinentry can ask.
  const marker = join(h.r.root, '.git', 'signed-marker');
  const signer = join(h.r.root, '.git', 'fake-gpg');
  await writeFile(signer, `#!/bin/sh\necho ran > '${marker}'\nexit 1\n`, { mode: 0o755 });
  h.r.git('config', 'commit.gpgSign', 'true');
  h.r.git('config', 'gpg.program', signer);
  await h.r.write('a.md', 'a\n');
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['a.md']);
  assert.equal(h.logs.find((l) => l.msg === 'commit')!.fields!.via, 'porcelain');
  assert.equal(h.r.git('cat-file', 'commit', 'HEAD').includes('gpgsig'), false);
  await assert.rejects(stat(marker), 'the signing program never ran');
});

test('content equal to HEAD: nothing to commit, not a failure', async (t) => {
  const h = await setup(t);
  h.committer.submit(['README.md']);
  await h.committer.onIdle();
  assert.equal(h.commitCount(), 1);
  const st = h.committer.status();
  assert.equal(st.breaker.failures, 0);
  assert.deepEqual(st.queued, []);
  assert.equal(st.waiting, null);
});

for (const way of ['built from HEAD\'s trees', 'through the private index'] as const) {
  test(`a path saved with the same bytes beside an edit (${way}): the commit names only the edit (subject, note, log, status); the other needed no commit`, async (t) => {
    const r = await tempRepo();
    await r.write('tool.sh', '#!/bin/sh\n');
    await chmod(join(r.root, 'tool.sh'), 0o755);
    r.git('add', 'tool.sh');
    r.git('commit', '-qm', 'tool');
    const heard: { committed: string[][]; unchanged: string[][] } = { committed: [], unchanged: [] };
    const config = mergeConfig({ health: { minFreeBytes: 0 } });
    const logs: H['logs'] = [];
    const { committer } = await realCommitter(t, {
      config,
      repo: r,
      logger: { log: (level, msg, fields) => logs.push({ level, msg, fields }) },
      on: { onCommitted: (c) => heard.committed.push(c.paths), onDiscarded: (d) => d.reason === 'unchanged' && heard.unchanged.push(d.paths) },
    });
    // The edit: a new file, or (private index) an executable bit taken away. README.md: saved, same bytes.
    const edit = way === 'through the private index' ? 'tool.sh' : 'new.md';
    if (edit === 'tool.sh') await chmod(join(r.root, 'tool.sh'), 0o644);
    else await r.write('new.md', 'new\n');
    await r.write('README.md', await readFile(join(r.root, 'README.md'), 'utf8'));
    committer.submit(['README.md', edit]);
    await committer.onIdle();
    assert.equal(logs.some((l) => l.msg === 'commit through the private index'), way === 'through the private index');
    assert.equal(r.git('log', '-1', '--format=%s').trim(), `winnow: ${edit}`);
    assert.deepEqual(r.git('show', '--format=', '--name-only', 'HEAD').trim().split('\n'), [edit]);
    const note = r.git('notes', '--ref=winnow', 'show', 'HEAD');
    assert.match(note, new RegExp(edit.replace('.', '\\.')));
    assert.doesNotMatch(note, /README/, 'the note explains the paths of the commit');
    assert.deepEqual(logs.find((l) => l.msg === 'commit')?.fields?.paths, [edit]);
    assert.deepEqual(committer.status().lastCommits[0]!.paths, [edit]);
    assert.deepEqual(heard, { committed: [[edit]], unchanged: [['README.md']] });
  });
}

test('symlinks are committed as links, never followed; one pointing outside is held (judged at commit time); vanished temp files are dropped', async (t) => {
  const h = await setup(t);
  await symlink('/etc/hostname', join(h.r.root, 'out-link'));
  await symlink('README.md', join(h.r.root, 'link'));
  h.committer.submit(['link', 'out-link', '.README.md.swp']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['link']);
  assert.equal(h.r.git('ls-files', '-s', 'link').split(' ')[0], '120000');
  assert.equal(h.r.git('cat-file', '-p', 'HEAD:link'), 'README.md');
  assert.match(h.committer.status().held.find((x) => x.path === 'out-link')?.reason ?? '', /outside the workspace/);
});

test('secrets are held, never committed', async (t) => {
  const h = await setup(t);
  await h.r.write('.env', 'TOKEN=abc\n');
  await h.r.write('ok.md', 'ok\n');
  h.committer.submit(['.env', 'ok.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['ok.md']);
  assert.equal(h.r.git('ls-files', '.env').trim(), '');
  assert.deepEqual(h.committer.status().held.map((x) => x.path), ['.env']);
});

test('a path git refuses (ignored after it was accepted, behind a symlink) is held; the rest commits', async (t) => {
  const h = await setup(t);
  await h.r.write('.gitignore', '*.log\n');
  h.r.git('add', '.gitignore');
  h.r.git('commit', '-qm', 'ignore logs');
  await h.r.write('late.log', 'accepted before the rule\n');
  await h.r.write('real/f.md', 'f\n');
  await symlink('real', join(h.r.root, 'lnk'));
  await h.r.write('ok.md', 'ok\n');
  h.committer.submit(['late.log', 'lnk/f.md', 'ok.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['ok.md']);
  const held = new Map(h.committer.status().held.map((x) => [x.path, x.reason]));
  assert.match(held.get('late.log')!, /ignored by git/);
  assert.match(held.get('lnk/f.md')!, /symbolic link/);
  assert.equal(h.committer.status().breaker.failures, 0);
  assert.deepEqual(h.committer.status().queued, []);
});

test('index plumbing: the log says which path ran; an executable bit is committed; git status stays clean', async (t) => {
  const h = await setup(t);
  await h.r.write('run.sh', '#!/bin/sh\n');
  await chmod(join(h.r.root, 'run.sh'), 0o755);
  h.committer.submit(['run.sh']);
  await h.committer.onIdle();
  assert.equal(h.r.git('ls-tree', 'HEAD', 'run.sh').split(' ')[0], '100755');
  assert.equal(h.logs.find((l) => l.msg === 'commit')!.fields!.via, 'plumbing');
  assert.equal(h.r.git('status', '--porcelain'), '');
});

test('the person commits between two winnow commits: winnow builds on their commit and reverts nothing', async (t) => {
  const h = await setup(t);
  await h.r.write('a.md', 'by winnow\n');
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  await h.r.write('theirs.md', 'by the person\n');
  await h.r.write('README.md', 'edited by the person\n');
  h.r.git('add', 'theirs.md', 'README.md');
  h.r.git('commit', '-qm', 'theirs');
  const theirs = h.r.git('rev-parse', 'HEAD').trim();
  await h.r.write('a.md', 'by winnow again\n');
  h.committer.submit(['a.md']);
  await h.committer.onIdle();
  assert.equal(h.r.git('rev-parse', 'HEAD~1').trim(), theirs);
  assert.deepEqual(h.headPaths(), ['a.md']);
  assert.equal(h.r.git('show', 'HEAD:theirs.md'), 'by the person\n');
  assert.equal(h.r.git('show', 'HEAD:README.md'), 'edited by the person\n');
  assert.equal(h.r.git('status', '--porcelain'), '');
});

/** A commit of `path` made the way winnow makes one, stopped right after update-ref (a crash there). */
async function landWithoutIndexUpdate(r: TempRepo, path: string, content: string): Promise<{ old: string; neu: string }> {
  const old = r.git('rev-parse', 'HEAD').trim();
  await r.write(path, content);
  const tmpIndex = join(r.root, '.git', 'crash-index');
  const env = { ...process.env, GIT_INDEX_FILE: tmpIndex };
  const { execFileSync } = await import('node:child_process');
  const g = (...a: string[]) => execFileSync('git', a, { cwd: r.root, env, encoding: 'utf8' }).trim();
  g('read-tree', 'HEAD');
  g('update-index', '--add', '--', path);
  const neu = g('commit-tree', g('write-tree'), '-p', old, '-m', `winnow: ${path}`);
  g('update-ref', 'HEAD', neu, old);
  await rm(tmpIndex, { force: true });
  return { old, neu };
}

test('restart after a crash past update-ref: the journal brings the index up to date (no staged reversal)', async (t) => {
  const r = await tempRepo();
  const { old, neu } = await landWithoutIndexUpdate(r, 'README.md', 'committed just before the crash\n');
  assert.match(r.git('status', '--porcelain'), /^MM README\.md$/m, 'the crash left a staged reversal');
  const journal = join(r.root, '.git', 'winnow', 'commit-journal.json');
  await mkdir(join(r.root, '.git', 'winnow'), { recursive: true });
  await writeFile(journal, JSON.stringify({ version: 1, old, new: neu, paths: ['README.md'] }));
  const h = await setup(t, {}, r);
  await h.committer.onIdle();
  assert.equal(h.r.git('status', '--porcelain'), '');
  await assert.rejects(stat(journal), 'the journal is gone once settled');
  assert.equal(h.r.git('rev-parse', 'HEAD').trim(), neu, 'no extra commit');
});

test('restart after a crash before update-ref: the journal is dropped, HEAD and the index untouched', async (t) => {
  const r = await tempRepo();
  const head = r.git('rev-parse', 'HEAD').trim();
  await r.write('mine.md', 'staged by hand\n');
  r.git('add', 'mine.md');
  const journal = join(r.root, '.git', 'winnow', 'commit-journal.json');
  await mkdir(join(r.root, '.git', 'winnow'), { recursive: true });
  // A commit object that was made but never referenced.
  const orphan = r.git('commit-tree', r.git('rev-parse', 'HEAD^{tree}').trim(), '-p', head, '-m', 'orphan').trim();
  await writeFile(journal, JSON.stringify({ version: 1, old: head, new: orphan, paths: ['README.md'] }));
  const h = await setup(t, {}, r);
  await h.committer.onIdle();
  await assert.rejects(stat(journal));
  assert.equal(h.r.git('rev-parse', 'HEAD').trim(), head);
  assert.equal(h.r.git('status', '--porcelain'), 'A  mine.md\n');
});

test('a tracked file replaced by a directory is committed as its deletion, like git commit --only would', async (t) => {
  const h = await setup(t);
  await h.r.write('thing', 'a file\n');
  h.r.git('add', 'thing');
  h.r.git('commit', '-qm', 'thing');
  await unlink(join(h.r.root, 'thing'));
  await h.r.write('thing/inside.md', 'now a directory\n');
  await h.r.write('ok.md', 'ok\n');
  h.committer.submit(['thing', 'ok.md']);
  await h.committer.onIdle();
  assert.equal(h.r.git('show', 'HEAD:ok.md'), 'ok\n');
  assert.equal(h.r.git('ls-tree', 'HEAD', 'thing').trim(), '', 'the file thing is gone from HEAD');
  assert.equal(h.r.git('ls-files', 'thing/inside.md').trim(), '', 'the untracked directory was not taken');
});

test('the private index cannot be built: git commit --only commits the batch, and the log says so', async (t) => {
  const h = await setup(t);
  // A directory where the private index file should be: read-tree cannot write it.
  await mkdir(join(h.r.root, '.git', 'winnow', 'index', 'in-the-way'), { recursive: true });
  // And no way to read HEAD's trees, so that the batch needs the private index (direct-tree.ts).
  delete (h.git as { readTree?: unknown }).readTree;
  await h.r.write('README.md', 'edited\n');
  h.committer.submit(['README.md']);
  await h.committer.onIdle();
  assert.deepEqual(h.headPaths(), ['README.md']);
  assert.ok(h.logs.some((l) => l.msg.startsWith('index plumbing failed')), 'the fallback is logged');
  assert.equal(h.logs.find((l) => l.msg === 'commit')!.fields!.via, 'porcelain');
  assert.equal(h.r.git('status', '--porcelain'), '');
  assert.equal(h.committer.status().breaker.failures, 0);
});

test('a path staged by hand is looked at again after the pass that left it: once the person commits, the rest of the edit is committed', async (t) => {
  const h = await setup(t);
  await h.r.write('notes.md', 'v1\n');
  h.r.git('add', 'notes.md');
  h.r.git('commit', '-qm', 'v1');
  await h.r.write('notes.md', 'v2\n');
  h.r.git('add', 'notes.md');
  await h.r.write('notes.md', 'v3\n');
  h.committer.submit(['notes.md']);
  await h.committer.onIdle();
  assert.ok(h.committer.status().held.some((x) => x.path === 'notes.md' && /staged by hand/.test(x.reason)));
  const before = h.commitCount();
  // The person commits what they staged; no event tells the committer.
  h.r.git('commit', '-qm', 'v2 by hand');
  await h.clock.advance(RECHECK_MS);
  await h.committer.onIdle();
  assert.equal(h.commitCount(), before + 2, "the person's commit, then winnow's");
  assert.equal(h.r.git('show', 'HEAD~1:notes.md'), 'v2\n');
  assert.equal(h.r.git('show', 'HEAD:notes.md'), 'v3\n');
});
