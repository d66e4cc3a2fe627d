/** PATH arguments of the history commands (restore, squash, why): relative to the cwd, never the root or .git. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspacePaths } from '../../src/cli/history-common.js';
import { UsageError } from '../../src/cli/types.js';

test('workspacePaths: relative to the cwd, deduplicated; the root, outside paths and .git are refused with the argument named', async () => {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'winnow-paths-')));
  try {
    await mkdir(join(root, 'docs'));
    assert.deepEqual(await workspacePaths(root, join(root, 'docs'), ['a.md', './a.md', '../b.md', 'gone/c.md']), ['docs/a.md', 'b.md', 'docs/gone/c.md']);
    const refused = async (arg: string, re: RegExp) =>
      assert.rejects(workspacePaths(root, root, [arg]), (e: unknown) => e instanceof UsageError && re.test(e.message));
    await refused('.', /"\." is the workspace root; name the files or folders inside it/);
    await refused('../elsewhere.md', new RegExp(`"\\.\\./elsewhere\\.md" is outside the workspace ${root}`));
    await refused('.git/config', /"\.git\/config" is inside \.git; winnow never touches it/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
