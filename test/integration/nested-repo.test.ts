/**
 * Nested repositories with real git and the real file system: a `git init` below the workspace
 * root, a linked worktree (whose `.git` is a file), and the same directory after its `.git` is
 * removed. Paths inside a nested repository are BLOCKed at layer 1 before anything asks git about
 * them (the parent's `git add` skips them silently and `git commit -- PATH` fails on them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo, GIT_ENV } from '../helpers/repo.js';
import { ManualClock } from '../helpers/clock.js';
import { createClassifier } from '../../src/daemon/classify/classifier.js';
import { createGit } from '../../src/adapters/git.js';
import { nodeFs } from '../../src/adapters/node-fs.js';
import { mergeConfig } from '../../src/core/config/schema.js';
import type { WatchEvent } from '../../src/core/event.js';
import type { Git, ProcessTable, ProcProbe } from '../../src/ports/index.js';

test('paths inside a real nested repository or worktree are BLOCKed with builtin:nested-repo; the rest of the tree is not', async (t) => {
  const repo = await tempRepo();
  t.after(() => repo.cleanup());
  const stateDir = join(repo.root, '.git', 'winnow');
  const git: Git = await createGit(repo.root, { gitDir: join(repo.root, '.git'), stateDir, timeoutMs: 10_000, hooks: false });
  t.after(() => git.close());
  // Our TTL runs on this clock; git and the file system are real.
  const clock = new ManualClock(Date.now());
  const noProcesses: ProcessTable = { list: async () => [] };
  const noProbe: ProcProbe = { openFiles: async () => [], writeCounter: async () => null };
  const c = createClassifier({
    root: repo.root,
    stateDir,
    config: mergeConfig({ ruleFiles: [] }),
    rules: { match: () => ({ action: 'ANALYZE', rule: null, reason: 'default action' }) },
    git,
    fs: nodeFs,
    clock,
    logger: { log() {} },
    processes: noProcesses,
    trace: null,
    probe: noProbe,
    execRoots: async () => [],
  });
  const ev = (path: string): WatchEvent => ({ path, kind: 'update', stream: 'all', priority: 'normal', at: clock.now() });

  await repo.write('vendor/lib/src/inner.md', 'belongs to the nested repository\n');
  const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: GIT_ENV, stdio: 'ignore' });
  sh(join(repo.root, 'vendor/lib'), 'init', '-q', '-b', 'main');
  sh(join(repo.root, 'vendor/lib'), 'add', 'src/inner.md');
  sh(join(repo.root, 'vendor/lib'), 'commit', '-q', '-m', 'inner');
  await repo.write('vendor/lib/untracked.md', 'also the nested repository\'s\n');
  repo.git('worktree', 'add', '-q', 'wt', '-b', 'side');
  await repo.write('wt/notes.md', 'in a linked worktree\n');
  await repo.write('vendor/mine.md', 'a person\'s file next to it\n');

  const paths = ['vendor/lib/src/inner.md', 'vendor/lib/untracked.md', 'vendor/lib', 'wt/notes.md', 'wt/README.md', 'vendor/mine.md'];
  const ds = await c.classify(paths.map(ev));
  assert.deepEqual(
    ds.map((d) => [d.path, d.decision, d.layer, d.rule]),
    [
      ['vendor/lib/src/inner.md', 'BLOCK', 1, 'builtin:nested-repo'],
      ['vendor/lib/untracked.md', 'BLOCK', 1, 'builtin:nested-repo'],
      ['vendor/lib', 'BLOCK', 1, 'builtin:nested-repo'],
      ['wt/notes.md', 'BLOCK', 1, 'builtin:nested-repo'],
      ['wt/README.md', 'BLOCK', 1, 'builtin:nested-repo'],
      ['vendor/mine.md', 'ALLOW', 3, null],
    ],
    ds.map((d) => `${d.path}: ${d.reason}`).join('\n'),
  );
  assert.match(ds[0]!.reason, /nested git repository vendor\/lib\//);
  assert.match(ds[3]!.reason, /nested git repository wt\//);
  // What the parent repository sees: the nested repository as one untracked directory, never its files.
  assert.ok((await git.status()).some((e) => e.path === 'vendor/lib/' || e.path === 'vendor/lib'));

  // The nested .git goes away (no event: .git is not watched); once the TTL has run out, its files are ordinary files.
  await rm(join(repo.root, 'vendor/lib/.git'), { recursive: true, force: true });
  await clock.advance(2_000);
  const [after] = await c.classify([ev('vendor/lib/src/inner.md')]);
  assert.equal(after!.decision, 'ALLOW', after!.reason);
  await c.close();
});
