/**
 * Which git processes read an index (issue 14): at 100k files an index is ~8 MB and each read of
 * it cost ~100–200 ms on a loaded machine, so the git calls of a classification and of a commit
 * read none they do not need. Measured with git's own trace (GIT_TRACE2_EVENT: a `do_read_index`
 * region per index read, with the file's path), not with timings.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { realCommitter } from '../helpers/committer.js';
import { createGit } from '../../src/adapters/git.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { Git } from '../../src/ports/index.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

/** The git processes logged in a trace2 event file that read an index: argv and the index file. */
function indexReads(traceFile: string): { argv: string[]; index: string }[] {
  const argv = new Map<string, string[]>();
  const out: { argv: string[]; index: string }[] = [];
  const text = existsSync(traceFile) ? readFileSync(traceFile, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { event: string; sid: string; argv?: string[]; label?: string; msg?: string };
    if (e.event === 'start' && e.argv) argv.set(e.sid, e.argv);
    if (e.event === 'region_enter' && e.label === 'do_read_index') out.push({ argv: argv.get(e.sid) ?? [], index: e.msg ?? '' });
  }
  return out;
}

/** A git adapter whose every git process writes its trace2 events to `traceFile`. */
async function tracedGit(root: string, traceFile: string): Promise<Git> {
  const before = process.env.GIT_TRACE2_EVENT;
  process.env.GIT_TRACE2_EVENT = traceFile;
  try {
    const gitDir = join(root, '.git');
    return await createGit(root, { gitDir, stateDir: join(gitDir, 'winnow'), timeoutMs: 20_000, hooks: false });
  } finally {
    if (before === undefined) delete process.env.GIT_TRACE2_EVENT;
    else process.env.GIT_TRACE2_EVENT = before;
  }
}

test('git-ignored paths are judged without git reading the index; a tracked file that matches .gitignore is not ignored', async (t) => {
  const r = await tempRepo();
  const trace = join(r.root, '.git', 'trace2.json');
  const git = await tracedGit(r.root, trace);
  t.after(async () => {
    await git.close();
    await r.cleanup();
  });
  await r.write('.gitignore', '*.log\nbuild/\n');
  await r.write('kept.log', 'tracked despite .gitignore\n');
  r.git('add', '.gitignore');
  r.git('add', '-f', 'kept.log');
  r.git('commit', '-q', '-m', 'ignore rules');
  await r.write('staged.log', 'added by hand, not committed\n');
  r.git('add', '-f', 'staged.log');
  writeFileSync(trace, '');

  const ignored = await git.ignored(['notes.md', 'x.log', 'kept.log', 'staged.log', 'build/out.js']);
  assert.deepEqual([...ignored].sort(), ['build/out.js', 'x.log']);
  assert.deepEqual(indexReads(trace), [], 'check-ignore read no index');
});

/** A committer on a fresh repository whose git calls write a trace2 event log to `trace`. */
async function tracedCommitter(t: TestContext) {
  const r = await tempRepo();
  const trace = join(r.root, '.git', 'trace2.json');
  const { committer, stateDir } = await realCommitter(t, { repo: r, config: mergeConfig({ health: { minFreeBytes: 0 } }), git: (root) => tracedGit(root, trace) });
  return { r, trace, stateDir, committer };
}

test('one commit at steady state has git read no index of the whole workspace: the person\'s is updated in-process', async (t) => {
  const { r, trace, committer } = await tracedCommitter(t);
  // The first commit after a start reads HEAD's trees: not what is measured here.
  await r.write('docs/a.md', 'one\n');
  committer.submit(['docs/a.md']);
  await committer.onIdle();
  writeFileSync(trace, '');

  await r.write('docs/a.md', 'one\ntwo\nthree\n');
  committer.submit(['docs/a.md']);
  await committer.onIdle();

  assert.equal(r.git('log', '-1', '--format=%s', 'HEAD').trim(), 'winnow: docs/a.md');
  assert.match(r.git('log', '-1', '--format=%b', 'HEAD'), /docs\/a\.md \| \+2 -0|docs\/a\.md.*\+2/, 'the message body still has the line counts');
  assert.equal(r.git('status', '--porcelain').trim(), '', 'the person\'s index follows the commit');
  // The message's diff-tree names an index file that never exists (`no-index`): it reads none.
  // The batch's own index (`batch-index`) is empty when update-index opens it, and holds the batch only.
  const where = (index: string) =>
    index.endsWith('winnow/index') ? 'private' : index.endsWith('winnow/batch-index') ? 'batch' : index.endsWith('.git/index') ? 'person' : index;
  const reads = indexReads(trace)
    .filter((x) => !x.index.endsWith('/no-index'))
    .map((x) => `${x.argv.slice(1).filter((a) => !a.startsWith('-c') && !a.includes('=')).slice(0, 2).join(' ')} → ${where(x.index)}`);
  assert.deepEqual(reads, ['update-index --add → batch']);
});

test('warm() reads HEAD and sets up the private git dir without building the private index; the first commit then asks git for neither', async (t) => {
  const { r, trace, stateDir, committer } = await tracedCommitter(t);
  await committer.onIdle();
  const started = () =>
    readFileSync(trace, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; argv?: string[] })
      .filter((e) => e.event === 'start')
      .map((e) => e.argv!.filter((a) => !a.startsWith('-c') && !a.includes('=')).slice(1, 3).join(' '));
  writeFileSync(trace, '');
  committer.warm();
  await committer.onIdle();
  assert.ok(!started().includes('read-tree'), `warming builds no private index (${started().join(', ')})`);
  assert.ok(!existsSync(join(stateDir, 'index')), 'no private index file');
  assert.equal(r.git('rev-list', '--count', 'HEAD').trim(), '1', 'warming commits nothing');
  writeFileSync(trace, '');

  await r.write('a.md', 'first change\n');
  committer.submit(['a.md']);
  await committer.onIdle();
  assert.equal(r.git('log', '-1', '--format=%s').trim(), 'winnow: a.md');
  const first = started();
  assert.ok(first.some((a) => a.startsWith('commit-tree')), 'the commit was traced');
  assert.deepEqual(first.filter((a) => a.startsWith('rev-parse') || a.startsWith('read-tree')), [], `HEAD and the git dir were known (${first.join(', ')})`);
});
