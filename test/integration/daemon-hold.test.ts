/**
 * The CLI's wait for the daemon's answer to a pause (src/cli/daemon-hold.ts), on a real state dir
 * whose daemon.lock this test process holds (it is alive, so it counts as the running daemon).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awaitDaemonHeld } from '../../src/cli/daemon-hold.js';
import { tryAcquireLock, releaseLock } from '../../src/daemon/lifecycle/lock.js';
import { HELD_LOCK_FIELDS, heldFile, type HeldAck } from '../../src/daemon/lifecycle/pause-ack.js';

async function stateDir(t: { after(fn: () => Promise<void>): void }, lock: 'none' | 'old' | 'current'): Promise<string> {
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-hold-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  if (lock !== 'none') assert.ok((await tryAcquireLock(join(dir, 'daemon.lock'), lock === 'current' ? { root: dir, ...HELD_LOCK_FIELDS } : { root: dir })).ok);
  return dir;
}

function answer(dir: string, pause: { pid: number; at: number }): Promise<void> {
  const ack: HeldAck = { pause, daemon: process.pid, at: Date.now() };
  return writeFile(heldFile(dir), JSON.stringify(ack) + '\n');
}

const EARLIER = { pid: 4242, at: 1_000 };
const THIS = { pid: 4242, at: 2_000 };

test('no daemon running: goes on at once and says nothing', async (t) => {
  const dir = await stateDir(t, 'none');
  const said: string[] = [];
  assert.equal(await awaitDaemonHeld(dir, THIS, { boundMs: 60_000, say: (l) => said.push(l) }), 'no-daemon');
  assert.deepEqual(said, []);
});

test('a daemon of an older winnow (no `held` in daemon.lock) is not waited for; the person is told to restart it', async (t) => {
  const dir = await stateDir(t, 'old');
  const said: string[] = [];
  assert.equal(await awaitDaemonHeld(dir, THIS, { boundMs: 60_000, say: (l) => said.push(l) }), 'old-daemon');
  assert.equal(said.length, 1);
  assert.match(said[0]!, /older winnow.*restart it/);
});

test("an earlier pause's answer is not taken for this one: the wait goes on until held.json names this pause", async (t) => {
  const dir = await stateDir(t, 'current');
  await answer(dir, EARLIER);
  const said: string[] = [];
  const outcome = await awaitDaemonHeld(dir, THIS, {
    boundMs: 60_000,
    noteAfterMs: 0,
    // The note says the command waits: only then does the "daemon" answer this pause.
    say: (l) => void (said.push(l), answer(dir, THIS)),
  });
  assert.equal(outcome, 'held');
  assert.equal(said.length, 1);
  assert.match(said[0]!, /waiting for the daemon \(pid \d+\) to finish the commit it has under way/);
});

test('no answer within the bound: goes on with a one-line warning', async (t) => {
  const dir = await stateDir(t, 'current');
  await answer(dir, EARLIER);
  const said: string[] = [];
  assert.equal(await awaitDaemonHeld(dir, THIS, { boundMs: 50, noteAfterMs: 60_000, say: (l) => said.push(l) }), 'timed-out');
  assert.equal(said.length, 1);
  assert.match(said[0]!, /did not confirm the pause within 50ms; going on/);
});

test('the daemon stops while the command waits: nothing is left to wait for', async (t) => {
  const dir = await stateDir(t, 'current');
  const outcome = await awaitDaemonHeld(dir, THIS, { boundMs: 60_000, noteAfterMs: 0, say: () => void releaseLock(join(dir, 'daemon.lock')) });
  assert.equal(outcome, 'no-daemon');
});
