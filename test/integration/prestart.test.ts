/**
 * Git commands started before their input (daemon/commit/prestart.ts), on a real repository: the
 * compare-and-swap of HEAD, the trees, the line counts. A command not needed after all ends with
 * an empty stdin and changes nothing; a used one answers as the same command run with its input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { GIT_ENV, tempRepo } from '../helpers/repo.js';
import { createGit } from '../../src/adapters/git.js';
import { prestart } from '../../src/daemon/commit/prestart.js';
import { updateRefInput, updateRefStep } from '../../src/core/commit/plumbing.js';
import { numstatInput, numstatOutput, numstatStdinStep } from '../../src/core/commit/history-steps.js';
import { mktreeStep } from '../../src/daemon/commit/direct-tree.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

test('prestarted update-ref, mktree and diff-tree: cancelled they change nothing; run they do what the command does', async (t) => {
  const r = await tempRepo();
  t.after(() => r.cleanup());
  await r.write('a.md', 'one\n');
  await r.write('d/b.md', 'two\n');
  r.git('add', '-A');
  r.git('commit', '-q', '-m', 'two files');
  const g = (...args: string[]) => r.git(...args).trim();
  const git = await createGit(r.root, { gitDir: join(r.root, '.git'), stateDir: join(r.root, '.git', 'winnow'), timeoutMs: 10_000, hooks: false });
  t.after(() => git.close());
  const head = g('rev-parse', 'HEAD');
  const tree = g('rev-parse', 'HEAD^{tree}');
  const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: r.root, env: GIT_ENV, input: 'three\n' }).toString().trim();
  const commit = g('commit-tree', tree, '-p', head, '-m', 'next');

  // Cancelled: HEAD stays, no tree is written, nothing is printed.
  const ref = prestart(git, updateRefStep('winnow: test'));
  const trees = prestart(git, mktreeStep());
  ref.cancel();
  trees.cancel();
  assert.equal(g('rev-parse', 'HEAD'), head);
  assert.equal(g('reflog', '-1', '--format=%gs'), 'commit: two files');

  // Run: the tree is written and named; a wrong old value fails the swap; the right one moves HEAD.
  const mk = await prestart(git, mktreeStep()).run(Buffer.from(`100644 blob ${blob}\tc.md\0\0`));
  const newTree = mk.stdout.trim();
  assert.equal(g('cat-file', '-t', newTree), 'tree');
  await assert.rejects(prestart(git, updateRefStep('winnow: test')).run(updateRefInput(commit, tree)), /cannot lock ref 'HEAD'/);
  assert.equal(g('rev-parse', 'HEAD'), head);
  await prestart(git, updateRefStep('winnow: moved')).run(updateRefInput(commit, head));
  assert.equal(g('rev-parse', 'HEAD'), commit);
  assert.equal(g('reflog', '-1', '--format=%gs'), 'winnow: moved');

  // The line counts of a diff between two trees, as `diff-tree --numstat` prints them.
  const out = await prestart(git, numstatStdinStep()).run(numstatInput(tree, newTree));
  const expected = g('diff-tree', '-r', '-z', '--numstat', '--no-renames', tree, newTree);
  assert.equal(numstatOutput(out.stdout).replace(/\0$/, ''), expected.replace(/\0$/, ''));
  assert.match(numstatOutput(out.stdout), /0\t1\ta\.md\0/);
  assert.match(numstatOutput(out.stdout), /1\t0\tc\.md\0/);
  const root = await prestart(git, numstatStdinStep()).run(numstatInput(null, tree));
  assert.match(numstatOutput(root.stdout), /1\t0\ta\.md\0/);
});
