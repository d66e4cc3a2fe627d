/** The watcher adapter's snapshots (real @parcel/watcher): private, and never a directory made for them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createParcelWatcher } from '../../src/adapters/parcel-watcher.js';
import { systemClock } from '../../src/adapters/system-clock.js';

test('writeSnapshot: a missing state dir (the workspace deleted meanwhile) is not recreated; a written snapshot is 0600', async () => {
  const root = await mkdtemp(join(tmpdir(), 'winnow-snap-'));
  try {
    await writeFile(join(root, 'a.md'), 'a\n');
    const w = createParcelWatcher(root, systemClock);
    const stream = { name: 'all', dirs: [root], priority: 'high' as const };
    await assert.rejects(w.writeSnapshot(stream, join(root, 'gone', '.git', 'winnow', 'watcher-all.snapshot')));
    assert.equal(existsSync(join(root, 'gone')), false, 'nothing was made for the snapshot');
    await mkdir(join(root, 'state'));
    const file = join(root, 'state', 'watcher-all.snapshot');
    await w.writeSnapshot(stream, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
