/**
 * A batch's tree built from HEAD's trees and the batch's own tiny index (daemon/commit/direct-tree.ts,
 * issue 14), checked against the tree git itself builds from an index: HEAD's parent read into a
 * scratch index, the batch's paths staged with `update-index --add --remove`, `write-tree`. Every
 * case the direct way handles is checked that way; the cases it leaves to the private index say so
 * in the log and are checked the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GIT_ENV, tempRepo, type TempRepo } from '../helpers/repo.js';
import { realCommitter } from '../helpers/committer.js';
import type { Committer } from '../../src/daemon/commit/committer.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { Logger } from '../../src/ports/index.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

interface H {
  r: TempRepo;
  committer: Committer;
  logs: { msg: string; fields?: Record<string, unknown> }[];
  /** Submits `paths`, waits, and returns the reasons a batch went through the private index. */
  commit(paths: string[]): Promise<string[]>;
}

async function setup(t: { after(fn: () => Promise<void>): void }, repo?: TempRepo): Promise<H> {
  const logs: H['logs'] = [];
  const logger: Logger = { log: (_level, msg, fields) => logs.push({ msg, fields }) };
  const config = mergeConfig({ health: { minFreeBytes: 0 }, commit: { notes: false } });
  const { r, committer } = await realCommitter(t, { config, logger, ...(repo ? { repo } : {}) });
  return {
    r,
    committer,
    logs,
    async commit(paths) {
      const from = logs.length;
      committer.submit(paths);
      await committer.onIdle();
      return logs.slice(from).filter((l) => l.msg === 'commit through the private index').map((l) => String(l.fields?.reason));
    },
  };
}

/** The tree git builds for `paths` on `base` through an index of its own. */
function gitsTree(r: TempRepo, base: string, paths: string[]): string {
  const env = { ...GIT_ENV, GIT_INDEX_FILE: join(r.root, '.git', 'oracle-index'), GIT_LITERAL_PATHSPECS: '1' };
  const git = (args: string[], input?: string) => execFileSync('git', args, { cwd: r.root, env, input, encoding: 'utf8' });
  git(['read-tree', base]);
  git(['update-index', '--add', '--remove', '-z', '--stdin'], paths.map((p) => p + '\0').join(''));
  const tree = git(['write-tree']).trim();
  execFileSync('rm', ['-f', env.GIT_INDEX_FILE]);
  return tree;
}

function assertSameAsGit(h: H, paths: string[]): void {
  assert.equal(h.r.git('rev-parse', 'HEAD^{tree}').trim(), gitsTree(h.r, 'HEAD~1', paths), 'the tree git would build from an index');
  h.r.git('fsck', '--strict', '--no-progress');
  assert.equal(h.r.git('status', '--porcelain', '--untracked-files=no'), '', "the person's index follows the commit");
}

async function base(r: TempRepo): Promise<void> {
  await r.write('docs/guide/a.md', 'a\n');
  await r.write('docs/guide/b.md', 'b\n');
  await r.write('docs/only.md', 'only\n');
  await r.write('src/x.ts', 'x\n');
  await r.write('tool.sh', '#!/bin/sh\n');
  await chmod(join(r.root, 'tool.sh'), 0o755);
  r.git('add', '-A');
  r.git('commit', '-qm', 'base');
}

test('built from HEAD\'s trees: new folders, a deletion that empties a folder, a rename across folders, executable bits, a symlink; the tree git builds', async (t) => {
  const h = await setup(t);
  await base(h.r);
  await h.r.write('new/deep/er/n.md', 'new\n');
  await rm(join(h.r.root, 'docs/only.md'));
  await rm(join(h.r.root, 'docs/guide/a.md'));
  await h.r.write('src/moved/a.md', 'a\n');
  await h.r.write('docs/guide/b.md', 'b changed\n');
  await h.r.write('run.sh', '#!/bin/sh\necho\n');
  await chmod(join(h.r.root, 'run.sh'), 0o755);
  await symlink('src/x.ts', join(h.r.root, 'link'));
  await h.r.write('tool.sh', '#!/bin/sh\nexit 0\n');
  const paths = ['new/deep/er/n.md', 'docs/only.md', 'docs/guide/a.md', 'src/moved/a.md', 'docs/guide/b.md', 'run.sh', 'tool.sh', 'link'];
  assert.deepEqual(await h.commit(paths), [], 'no batch went through the private index');
  assertSameAsGit(h, paths);
  assert.equal(h.r.git('ls-tree', 'HEAD', 'run.sh').split(' ')[0], '100755');
  assert.equal(h.r.git('ls-tree', 'HEAD', 'tool.sh').split(' ')[0], '100755');
  assert.equal(h.r.git('ls-tree', 'HEAD', 'link').split(' ')[0], '120000');

  // The next batch reads the trees written by the last one (kept by id).
  await h.r.write('docs/guide/c.md', 'c\n');
  assert.deepEqual(await h.commit(['docs/guide/c.md']), []);
  assertSameAsGit(h, ['docs/guide/c.md']);
});

test('a sibling whose name is not UTF-8 keeps its bytes; a nested repository is committed as a gitlink', async (t) => {
  const h = await setup(t);
  const odd = Buffer.concat([Buffer.from(join(h.r.root, 'dir') + '/'), Buffer.from([0x6c, 0xe9, 0x2e, 0x6d, 0x64])]);
  await mkdir(join(h.r.root, 'dir'));
  await writeFile(odd, 'latin-1 name\n');
  await h.r.write('sub/README.md', 'nested\n');
  const sub = (...args: string[]) => execFileSync('git', args, { cwd: join(h.r.root, 'sub'), env: GIT_ENV, encoding: 'utf8' });
  sub('init', '-q', '-b', 'main');
  sub('add', '-A');
  sub('commit', '-qm', 'nested');
  h.r.git('add', '-A');
  h.r.git('commit', '-qm', 'odd name and a gitlink');
  await h.r.write('dir/plain.md', 'plain\n');
  await h.r.write('sub/README.md', 'nested, changed\n');
  sub('commit', '-qam', 'nested moves');
  assert.deepEqual(await h.commit(['dir/plain.md', 'sub']), []);
  assertSameAsGit(h, ['dir/plain.md', 'sub']);
  assert.equal(h.r.git('ls-tree', 'HEAD', 'sub').split(' ')[0], '160000');
  assert.equal(h.r.git('rev-parse', 'HEAD:sub').trim(), sub('rev-parse', 'HEAD').trim());
});

test('a SHA-256 repository', async (t) => {
  const h = await setup(t, await tempRepo({ objectFormat: 'sha256' }));
  await base(h.r);
  await h.r.write('docs/guide/a.md', 'a, sha256\n');
  await h.r.write('fresh/f.md', 'f\n');
  await rm(join(h.r.root, 'src/x.ts'));
  const paths = ['docs/guide/a.md', 'fresh/f.md', 'src/x.ts'];
  assert.deepEqual(await h.commit(paths), []);
  assert.equal(h.r.git('rev-parse', 'HEAD').trim().length, 64);
  assertSameAsGit(h, paths);
});

test('left to the private index, and said so: a tracked file that became a folder (committed as its deletion)', async (t) => {
  const h = await setup(t);
  await base(h.r);
  await unlink(join(h.r.root, 'src/x.ts'));
  await h.r.write('src/x.ts/inner.md', 'was a file\n');
  const reasons = await h.commit(['src/x.ts']);
  assert.equal(reasons.length, 1, `one batch fell back (${reasons.join('; ')})`);
  assert.match(reasons[0]!, /is a directory/);
  assertSameAsGit(h, ['src/x.ts']);
  assert.equal(h.r.git('ls-tree', '-r', '--name-only', 'HEAD', 'src').trim(), '', 'src/x.ts is gone; its new folder is not taken');
});

test('an executable bit taken away is left to the private index (core.fileMode false would keep it there): committed as 100644', async (t) => {
  const h = await setup(t);
  await base(h.r);
  await chmod(join(h.r.root, 'tool.sh'), 0o644);
  const reasons = await h.commit(['tool.sh']);
  assert.deepEqual(reasons, ['tool.sh changed mode from 100755 to 100644']);
  assert.equal(h.r.git('ls-tree', 'HEAD', 'tool.sh').split(' ')[0], '100644');
  assertSameAsGit(h, ['tool.sh']);
});

test('core.fileMode false: an executable file of HEAD keeps its mode (left to the private index, which holds HEAD\'s entry)', async (t) => {
  const h = await setup(t);
  await h.r.write('run.sh', '#!/bin/sh\n');
  h.r.git('add', 'run.sh');
  h.r.git('update-index', '--chmod=+x', 'run.sh');
  h.r.git('commit', '-qm', 'executable in HEAD, not on disk');
  h.r.git('config', 'core.fileMode', 'false');
  await h.r.write('run.sh', '#!/bin/sh\necho hi\n');
  const reasons = await h.commit(['run.sh']);
  assert.equal(reasons.length, 1);
  assert.match(reasons[0]!, /changed mode from 100755 to 100644/);
  assert.equal(h.r.git('ls-tree', 'HEAD', 'run.sh').split(' ')[0], '100755', 'the mode git would keep');
  assert.equal(h.r.git('show', 'HEAD:run.sh'), '#!/bin/sh\necho hi\n');
  assertSameAsGit(h, ['run.sh']);
});

test('a batch-index.lock left by a git that was killed does not send later batches through the private index', async (t) => {
  const h = await setup(t);
  await base(h.r);
  await mkdir(join(h.r.root, '.git', 'winnow'), { recursive: true });
  await writeFile(join(h.r.root, '.git', 'winnow', 'batch-index.lock'), '');
  await h.r.write('docs/only.md', 'edited\n');
  assert.deepEqual(await h.commit(['docs/only.md']), []);
  assertSameAsGit(h, ['docs/only.md']);
});
