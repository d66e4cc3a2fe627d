/**
 * The git a commit keeps running or starts early, on a real repository: the compare-and-swap of
 * HEAD started before the commit exists (daemon/commit/prestart.ts), and the long-lived mktree and
 * diff-tree of the Git adapter (adapters/git-session.ts). A prestarted command not needed after
 * all changes nothing; each answers as the same command run on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { GIT_ENV, tempRepo } from '../helpers/repo.js';
import { createGit } from '../../src/adapters/git.js';
import { prestart } from '../../src/daemon/commit/prestart.js';
import { updateRefInput, updateRefStep } from '../../src/core/commit/plumbing.js';
import { mktreeInput } from '../../src/core/commit/trees.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

async function repo(t: { after(fn: () => Promise<void>): void }) {
  const r = await tempRepo();
  t.after(() => r.cleanup());
  await r.write('a.md', 'one\n');
  await r.write('d/b.md', 'two\n');
  r.git('add', '-A');
  r.git('commit', '-q', '-m', 'two files');
  const git = await createGit(r.root, { gitDir: join(r.root, '.git'), stateDir: join(r.root, '.git', 'winnow'), timeoutMs: 10_000, hooks: false });
  t.after(() => git.close());
  const g = (...args: string[]) => r.git(...args).trim();
  const blob = (text: string) => execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: r.root, env: GIT_ENV, input: text }).toString().trim();
  return { r, git, g, blob };
}

test('prestarted update-ref: cancelled it changes nothing; run it is the same compare-and-swap, with the reflog message', async (t) => {
  const { git, g } = await repo(t);
  const head = g('rev-parse', 'HEAD');
  const tree = g('rev-parse', 'HEAD^{tree}');
  const commit = g('commit-tree', tree, '-p', head, '-m', 'next');
  prestart(git, updateRefStep('winnow: test')).cancel();
  await git.raw(['status'], { readOnly: true }); // a git run after the cancel: the cancelled one had its chance
  assert.equal(g('rev-parse', 'HEAD'), head);
  assert.equal(g('reflog', '-1', '--format=%gs'), 'commit: two files');
  await assert.rejects(prestart(git, updateRefStep('winnow: test')).run(updateRefInput(commit, tree)), /cannot lock ref 'HEAD'/);
  assert.equal(g('rev-parse', 'HEAD'), head);
  await prestart(git, updateRefStep('winnow: moved')).run(updateRefInput(commit, head));
  assert.equal(g('rev-parse', 'HEAD'), commit);
  assert.equal(g('reflog', '-1', '--format=%gs'), 'winnow: moved');
});

test('long-lived mktree and diff-tree: each request answers as the command run alone, request after request', async (t) => {
  const { r, git, g, blob } = await repo(t);
  const tree = g('rev-parse', 'HEAD^{tree}');
  for (let i = 0; i < 3; i++) {
    const b = blob(`version ${i}\n`);
    const sub = { dir: 'sub', oid: '', entries: [{ mode: '100644', name: Buffer.from(`f${i}.md`), oid: b }] };
    const ids = await git.mktree!(mktreeInput([sub] as never), 1);
    assert.equal(ids.length, 1);
    const expectSub = execFileSync('git', ['mktree'], { cwd: r.root, env: GIT_ENV, input: `100644 blob ${b}\tf${i}.md\n` }).toString().trim();
    assert.equal(ids[0], expectSub);
    // Two trees in one request, children first: the root names the sub tree just written.
    const top = { dir: '', oid: '', entries: [{ mode: '100644', name: Buffer.from('a.md'), oid: b }, { mode: '040000', name: Buffer.from('sub'), oid: ids[0]! }] };
    const [s2, root] = await git.mktree!(mktreeInput([sub, top] as never), 2);
    assert.equal(s2, ids[0]);
    assert.equal(g('cat-file', '-t', root!), 'tree');
    const ours = await git.numstat!(tree, root!);
    assert.equal(ours, r.git('diff-tree', '-r', '-z', '--numstat', '--no-renames', tree, root!));
    assert.match(ours, new RegExp(`1\\t0\\tsub/f${i}\\.md\\0`));
  }
  // An unborn branch's first commit is diffed against the empty tree.
  const first = await git.numstat!('4b825dc642cb6eb9a060e54bf8d69288fbee4904', tree);
  assert.match(first, /1\t0\ta\.md\0/);
  assert.match(first, /1\t0\td\/b\.md\0/);
});

test('a command started ahead of its input is timed from when the input comes, not from its start', async (t) => {
  const { createGitRunner } = await import('../../src/adapters/git-spawn.js');
  const r = await tempRepo();
  t.after(() => r.cleanup());
  const run = createGitRunner(r.root, { timeoutMs: 200 });
  // The input comes after twice the timeout (a batch settling after update-index was prestarted):
  // git waited for it, it did not take that long to run.
  let give!: (b: string) => void;
  const out = run(['hash-object', '--stdin'], { input: new Promise<string>((resolve) => (give = resolve)) });
  await new Promise<void>((resolve) => setTimeout(resolve, 400));
  give('x\n');
  assert.equal((await out).stdout.toString('utf8').trim(), execFileSync('git', ['hash-object', '--stdin'], { input: 'x\n' }).toString().trim());
});
