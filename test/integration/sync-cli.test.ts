import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/types.js';
import { world } from './sync-helpers.js';
import { GIT_ENV } from '../helpers/repo.js';
import { writeSyncRequest, readSyncRequest, clearSyncRequest, serveSyncRequest, readSyncResult, type Syncer } from '../../src/daemon/sync/syncer.js';

function io(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const x: CliIO = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), cwd, env: GIT_ENV, isTTY: false };
  return { io: x, out, err };
}

test('winnow sync without a daemon syncs committed work in-process; without a remote it says how to add one', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  const none = io(w.a.root);
  assert.equal(await main(['sync'], none.io), 2);
  assert.match(none.err.join(''), /no remote is configured.*"remote": \{"name": "origin"\}/);

  await w.a.write('.winnow.json', JSON.stringify({ remote: { name: 'origin' } }));
  await w.a.write('a.md', 'a\n');
  w.a.commitAll('a');
  const c = io(w.a.root);
  assert.equal(await main(['sync', '--json', '--reason', 'cli test'], c.io), 0, c.err.join(''));
  const res = JSON.parse(c.out.join('')) as { ok: boolean; message: string };
  assert.equal(res.ok, true);
  assert.match(res.message, /pushed 1/);
});

test('winnow snapshot create, list and restore', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  await w.a.write('README.md', 'snapshotted\n');
  const c = io(w.a.root);
  assert.equal(await main(['snapshot', 'create', '--json'], c.io), 0, c.err.join(''));
  const id = (JSON.parse(c.out.join('')) as { id: string }).id;
  await w.a.write('README.md', 'changed\n');
  const l = io(w.a.root);
  assert.equal(await main(['snapshot', 'list'], l.io), 0);
  assert.match(l.out.join(''), new RegExp(id));
  const r = io(w.a.root);
  assert.equal(await main(['snapshot', 'restore', id], r.io), 0, r.err.join(''));
  assert.match(r.out.join(''), /restored .*1 file\(s\) written/);
  assert.equal(await w.a.read('README.md'), 'snapshotted\n');
  const bad = io(w.a.root);
  assert.equal(await main(['snapshot', 'restore', 'nope'], bad.io), 1);
  assert.match(bad.err.join(''), /no snapshot "nope".*winnow snapshot list/);
  assert.equal(await main(['snapshot'], io(w.a.root).io), 2);
});

test('request file round trip: the daemon side answers the CLI side', async (t) => {
  const w = await world();
  t.after(() => w.cleanup());
  await writeSyncRequest(w.a.stateDir, { reason: 'from cli', force: true, at: 42 });
  assert.deepEqual(await readSyncRequest(w.a.stateDir), { reason: 'from cli', force: true, at: 42 });
  const seen: unknown[] = [];
  const fake = { request: async (r: unknown) => (seen.push(r), { ok: true, message: 'done' }) } as unknown as Syncer;
  assert.equal(await serveSyncRequest(fake, w.a.stateDir, () => 43), true);
  assert.deepEqual(seen, [{ reason: 'from cli', priority: 'manual', force: true }]);
  assert.deepEqual(await readSyncResult(w.a.stateDir), { requestAt: 42, at: 43, ok: true, message: 'done' });
  assert.equal(await readSyncRequest(w.a.stateDir), null);
  assert.equal(await serveSyncRequest(fake, w.a.stateDir, () => 44), false);
  await clearSyncRequest(w.a.stateDir);
});
