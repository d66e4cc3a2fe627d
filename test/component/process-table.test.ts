import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProcessTable } from '../../src/adapters/process-table.js';
import type { ProcInfo } from '../../src/ports/index.js';
import { ManualClock } from '../helpers/clock.js';

const P = (pid: number, ppid: number, cmd: string): ProcInfo => ({ pid, ppid, name: cmd.split(' ')[0]!, cmd });

test('fresh(): the cached snapshot plus processes started since, read again only while young, without a full refresh', async () => {
  const clock = new ManualClock();
  let live = [1, 10, 20];
  const reads: number[] = [];
  const extra = new Map<number, ProcInfo>([[30, P(30, 20, 'sh -c child')], [31, P(31, 1, 'node claude-autonomous.mjs')]]);
  const t = createProcessTable({
    ttlMs: 30_000,
    clock,
    source: async () => [P(1, 0, 'init'), P(10, 1, 'bash'), P(20, 1, 'node agent')],
    livePids: () => live,
    readOne: (pid) => (reads.push(pid), extra.get(pid) ?? null),
  });
  const a = await t.fresh!();
  assert.equal(a.length, 3);
  assert.equal(await t.fresh!(), a, 'nothing new: the same table, so the autonomous set is not recomputed');
  live = [1, 10, 20, 30, 31, 32]; // 32 exits before it can be read
  const b = await t.fresh!();
  assert.deepEqual(b.map((p) => p.pid), [1, 10, 20, 30, 31]);
  assert.equal(b.find((p) => p.pid === 30)!.cmd, 'sh -c child');
  assert.equal(await t.fresh!(), b, 'unchanged young entries: the same table');
  assert.deepEqual(reads, [30, 31, 32, 30, 31], 'new PIDs read, and the young ones again');
  await clock.advance(2_001);
  reads.length = 0;
  assert.equal(await t.fresh!(), b);
  assert.deepEqual(reads, [], 'no longer young: not read again');
  assert.equal(t.refreshes, 1);
  // After the TTL the full snapshot replaces the additions.
  await clock.advance(30_001);
  live = [1, 10];
  const c = await t.fresh!();
  assert.equal(t.refreshes, 2);
  assert.deepEqual(c.map((p) => p.pid), [1, 10, 20]);
});

test('fresh(): a PID first read between fork and exec (its parent\'s command line) is read again, so the agent it becomes is seen', async () => {
  const clock = new ManualClock();
  let live = [1, 20];
  let child = P(40, 20, 'node test-runner');
  const t = createProcessTable({ ttlMs: 30_000, clock, source: async () => [P(1, 0, 'init'), P(20, 1, 'node test-runner')], livePids: () => live, readOne: (pid) => (pid === 40 ? child : null) });
  await t.fresh!();
  live = [1, 20, 40];
  assert.equal((await t.fresh!()).find((p) => p.pid === 40)!.cmd, 'node test-runner');
  child = P(40, 20, 'node claude-autonomous.mjs');
  await clock.advance(100);
  assert.equal((await t.fresh!()).find((p) => p.pid === 40)!.cmd, 'node claude-autonomous.mjs');
});

test('fresh({stale}) never spawns ps past the TTL, and drops exited processes once many have gone', async () => {
  const clock = new ManualClock();
  let live = [1];
  let next = 100;
  const t = createProcessTable({ ttlMs: 1_000, clock, source: async () => [P(1, 0, 'init')], livePids: () => live, readOne: (pid) => P(pid, 1, `job ${pid}`) });
  await t.fresh!();
  await clock.advance(5_000);
  // A build forks and reaps thousands of processes while the daemon polls.
  let table: ProcInfo[] = [];
  for (let round = 0; round < 40; round++) {
    live = [1, ...Array.from({ length: 50 }, () => next++)];
    table = await t.fresh!({ stale: true });
  }
  assert.equal(t.refreshes, 1, 'no full refresh while polling');
  assert.ok(table.length <= 1 + 50 + 512 + 50, `bounded: ${table.length}`);
  assert.ok(table.some((p) => p.pid === next - 1), 'the newest process is there');
});

test('fresh() where there is no /proc: the cached snapshot as it is', async () => {
  const t = createProcessTable({ ttlMs: 30_000, source: async () => [P(1, 0, 'init')], livePids: () => null });
  const a = await t.list();
  assert.equal(await t.fresh!(), a);
});

test('fresh(): /proc is listed again only when a PID was allocated since the last listing (or a young one is read again)', async () => {
  const clock = new ManualClock();
  let live = [1, 20];
  let last = 500;
  let lists = 0;
  const t = createProcessTable({
    ttlMs: 30_000,
    clock,
    source: async () => [P(1, 0, 'init'), P(20, 1, 'node agent')],
    livePids: () => (lists++, live),
    readOne: (pid) => (pid === 30 ? P(30, 20, 'node claude-autonomous.mjs') : null),
    lastPid: () => last,
  });
  const a = await t.fresh!();
  assert.equal(lists, 1);
  assert.equal(await t.fresh!(), a);
  assert.equal(lists, 1, 'no PID allocated since: not listed again');
  live = [1, 20, 30];
  last = 501;
  assert.ok((await t.fresh!()).some((p) => p.pid === 30), 'a PID allocated since: listed, the new process found');
  assert.equal(lists, 2);
  await t.fresh!();
  assert.equal(lists, 3, 'while the new process is young it is read again');
  await clock.advance(2_001);
  await t.fresh!();
  const after = lists;
  await t.fresh!();
  assert.equal(lists, after, 'no longer young, no PID allocated: not listed');
});
