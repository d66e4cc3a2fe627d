/**
 * The shared unprivileged-user helper (test/helpers/user.ts) works end to end: the daemon runs
 * as the ordinary user in a repo the user owns, and commits a change the user's person process
 * makes. Other tests build on it, so a broken helper fails here first, with a plain message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, chownSync } from 'node:fs';
import { testUser, userRepo, type TestUser } from '../helpers/user.js';
import { DaemonProcess, fastConfig } from '../helpers/daemon.js';

const u = testUser();

test('the daemon, run as the unprivileged test user, commits that user\'s change', { skip: 'skip' in u ? u.skip : false, timeout: 60_000 }, async (t) => {
  const user = u as TestUser;
  const repo = await userRepo(user);
  let d: DaemonProcess | undefined;
  // One hook, daemon first: t.after hooks run in the order registered, and removing the
  // workspace under a running daemon raced its state writes (rmdir .git/winnow: ENOTEMPTY).
  t.after(async () => {
    await d?.kill();
    await repo.cleanup();
  });
  const cfg = `${repo.root}.winnow.json`;
  writeFileSync(cfg, fastConfig());
  if (process.getuid?.() === 0) chownSync(cfg, user.uid, user.gid);
  d = new DaemonProcess(repo.root, ['--config', cfg], {}, { as: user });
  const ready = await d.ready();
  assert.equal(user.run('ps', ['-o', 'user=', '-p', String(ready.pid)]).trim(), user.name, 'the daemon runs as the test user');
  const committed = d.commitOf('notes.md');
  repo.write('notes.md', 'a person wrote this\n');
  await committed;
  assert.equal(repo.git('show', 'HEAD:notes.md'), 'a person wrote this\n');
  assert.equal(user.run('stat', ['-c', '%U', `${repo.root}/.git/winnow/state.json`]).trim(), user.name, 'state files belong to the user');
});
