/**
 * The batch index's update-index started before its batch (daemon/commit/batch-stage.ts): it is
 * used when git's configuration is as it was when it started, and a fresh one stages the batch
 * otherwise (a clean filter configured meanwhile applies). Real git, real processes; which git
 * processes started when comes from git's own trace (GIT_TRACE2_EVENT), not from timings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { realCommitter } from '../helpers/committer.js';
import { createGit } from '../../src/adapters/git.js';
import { mergeConfig } from '../../src/core/config/schema.js';

process.env.GIT_CONFIG_GLOBAL = '/dev/null';
process.env.GIT_CONFIG_NOSYSTEM = '1';

/** The subcommands (first two argv words after `git`, -c options left out) started since the trace was cleared. */
function started(trace: string): string[] {
  const text = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; argv?: string[] })
    .filter((e) => e.event === 'start')
    .map((e) => e.argv!.slice(1).filter((a, i, all) => a !== '-c' && all[i - 1] !== '-c').slice(0, 2).join(' '));
}

async function setUp(t: Parameters<typeof realCommitter>[0]) {
  const r = await tempRepo();
  const trace = join(r.root, '.git', 'trace2.json');
  const { committer } = await realCommitter(t, {
    repo: r,
    config: mergeConfig({ health: { minFreeBytes: 0 }, commit: { notes: false } }),
    git: async (root, gitDir, stateDir) => {
      process.env.GIT_TRACE2_EVENT = trace;
      try {
        return await createGit(root, { gitDir, stateDir, timeoutMs: 20_000, hooks: false });
      } finally {
        delete process.env.GIT_TRACE2_EVENT;
      }
    },
  });
  return { r, trace, committer };
}

test("a batch is staged by the update-index started before it: the commit spawns none of its own", async (t) => {
  const { r, trace, committer } = await setUp(t);
  await r.write('a.md', 'one\n');
  committer.submit(['a.md']);
  await committer.onIdle();
  // Once a batch is done, the next one's update-index is started and waits for its paths.
  await r.write('b.md', 'two\n');
  writeFileSync(trace, '');
  committer.submit(['b.md']);
  await committer.onIdle();
  assert.equal(r.git('log', '-1', '--format=%s').trim(), 'winnow: b.md');
  assert.equal(r.git('show', 'HEAD:b.md'), 'two\n');
  const during = started(trace);
  assert.ok(during.includes('commit-tree ' + r.git('rev-parse', 'HEAD^{tree}').trim()) || during.some((a) => a.startsWith('commit-tree')), 'the commit was traced');
  assert.equal(during.filter((a) => a === 'update-index --add').length, 1, `one update-index started in the commit's time: the next batch's (${during.join(', ')})`);
  assert.ok(during.indexOf('update-index --add') > during.findIndex((a) => a.startsWith('commit-tree')), 'and it started after the commit');
});

test('git configuration changed after the update-index started: the batch is staged by a fresh one, with the new clean filter', async (t) => {
  const { r, trace, committer } = await setUp(t);
  await r.write('.gitattributes', '*.txt filter=upper\n');
  committer.submit(['.gitattributes']);
  await committer.onIdle();
  // The waiting update-index knows no filter.upper; the person configures it now.
  r.git('config', 'filter.upper.clean', 'tr a-z A-Z');
  await r.write('x.txt', 'shout\n');
  writeFileSync(trace, '');
  committer.submit(['x.txt']);
  await committer.onIdle();
  assert.equal(r.git('log', '-1', '--format=%s').trim(), 'winnow: x.txt');
  assert.equal(r.git('show', 'HEAD:x.txt'), 'SHOUT\n', 'the clean filter configured after the prestart applied');
  const during = started(trace);
  assert.ok(during.indexOf('update-index --add') < during.findIndex((a) => a.startsWith('commit-tree')), `a fresh update-index staged the batch (${during.join(', ')})`);
});
