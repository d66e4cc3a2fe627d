/**
 * git's auto maintenance after winnow's commits (daemon/commit/maintenance.ts), with real git and
 * the real daemon: a workspace only winnow commits to gets its objects packed, by the person's
 * own gc settings, as `git commit` would have done.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempRepo } from '../helpers/repo.js';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';

/** Blob contents whose ids start with `prefix`: gc --auto counts the loose objects in objects/17/ only. */
function blobsStartingWith(prefix: string, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const body = `seed ${i}\n`;
    const id = createHash('sha1').update(`blob ${Buffer.byteLength(body)}\0${body}`).digest('hex');
    if (id.startsWith(prefix)) out.push(body);
  }
  return out;
}

const packs = (root: string) => readdirSync(join(root, '.git', 'objects', 'pack')).filter((n) => n.endsWith('.pack'));

test("after winnow's commit git's auto maintenance packs the loose objects, as the person's gc settings ask", { timeout: 60_000 }, async () => {
  const repo = await tempRepo();
  const cfg = `${repo.root}.winnow.json`;
  await writeFile(cfg, fastConfig());
  // gc.auto=1: two loose objects in objects/17/ are "too many"; no detach, so it is done when maintenance returns.
  repo.git('config', 'gc.auto', '1');
  repo.git('config', 'gc.autoDetach', 'false');
  for (const body of blobsStartingWith('17', 3)) {
    await writeFile(join(repo.root, 'seed.tmp'), body);
    repo.git('hash-object', '-w', 'seed.tmp');
  }
  await unlink(join(repo.root, 'seed.tmp'));
  assert.deepEqual(packs(repo.root), [], 'nothing packed before');
  const d = new DaemonProcess(repo.root, ['--config', cfg]);
  try {
    await d.ready();
    const ran = d.waitFor((l) => l.msg === 'git maintenance run --auto');
    const committed = d.commitOf('notes.md');
    await repo.write('notes.md', 'a person wrote this\n');
    await committed;
    await ran;
    assert.ok(packs(repo.root).length >= 1, 'the objects were packed');
    assert.match(repo.git('log', '-1', '--format=%s', '--', 'notes.md'), /notes\.md/);
    repo.git('fsck', '--no-progress');
    assert.equal(repo.git('status', '--porcelain'), '', "the person's status is clean");
  } finally {
    await d.kill();
    await repo.cleanup();
    await unlink(cfg).catch(() => undefined);
  }
});
