/**
 * `winnow doctor` in a linked worktree (`git worktree add`): its git dir is
 * `.git/worktrees/NAME`, which holds no objects; they are in the common git dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { gatherFacts } from '../../src/cli/doctor/facts.js';

test('doctor in a linked worktree checks the common objects directory, and finds it writable', async (t) => {
  const repo = await tempRepo();
  const linked = `${repo.root}-linked`;
  t.after(async () => {
    await rm(linked, { recursive: true, force: true });
    await repo.cleanup();
  });
  repo.git('worktree', 'add', '-q', linked);
  const facts = await gatherFacts({ dir: linked, cwd: linked, env: process.env });
  const objects = facts.writable.find((w) => w.path.endsWith('objects'));
  assert.equal(objects?.path, join(await realpath(repo.root), '.git', 'objects'));
  assert.deepEqual(facts.writable.filter((w) => w.error), [], JSON.stringify(facts.writable));
});
