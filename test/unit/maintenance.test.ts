import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoMaintenance, MAINTENANCE_INTERVAL_MS } from '../../src/daemon/commit/maintenance.js';
import { ManualClock, flushMicrotasks } from '../helpers/clock.js';
import type { GitOut, Logger } from '../../src/ports/index.js';

function setup(fail = false) {
  const clock = new ManualClock();
  const calls: string[][] = [];
  const release: (() => void)[] = [];
  const logs: { level: string; msg: string }[] = [];
  const logger: Logger = { log: (level, msg) => void logs.push({ level, msg }) };
  const git = (args: string[]) => {
    calls.push(args);
    return new Promise<GitOut>((resolve, reject) => release.push(() => (fail ? reject(new Error('fatal: gc is already running')) : resolve({ stdout: Buffer.alloc(0), stderr: '', code: 0 }))));
  };
  const m = new AutoMaintenance({ git, clock, logger });
  return { clock, calls, release, logs, m };
}

test("git's auto maintenance: after the first commit, then at most once per interval, one at a time", async () => {
  const { clock, calls, release, logs, m } = setup();
  m.afterCommit();
  assert.deepEqual(calls, [['maintenance', 'run', '--auto', '--quiet']]);
  m.afterCommit();
  await clock.advance(MAINTENANCE_INTERVAL_MS + 1);
  m.afterCommit();
  assert.equal(calls.length, 1, 'none while one runs, even past the interval');
  release.shift()!();
  await flushMicrotasks();
  assert.deepEqual(logs.map((l) => l.msg), ['git maintenance run --auto']);
  m.afterCommit();
  assert.equal(calls.length, 2, 'the interval since the last start has passed');
  release.shift()!();
  await flushMicrotasks();
  await clock.advance(MAINTENANCE_INTERVAL_MS - 1);
  m.afterCommit();
  assert.equal(calls.length, 2, 'not again within the interval');
  await clock.advance(1);
  m.afterCommit();
  assert.equal(calls.length, 3);
});

test("a failing maintenance is a warning and commits go on", async () => {
  const { release, logs, m } = setup(true);
  m.afterCommit();
  release.shift()!();
  await flushMicrotasks();
  assert.equal(logs[0]!.level, 'warn');
  assert.match(logs[0]!.msg, /failed; commits go on/);
});
