import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProcessTable } from '../../src/adapters/process-table.js';
import type { ProcInfo } from '../../src/ports/index.js';
import { ManualClock } from '../helpers/clock.js';

const P = (pid: number, ppid: number, cmd: string): ProcInfo => ({ pid, ppid, name: cmd.split(' ')[0]!, cmd });

test('fresh(): the cached snapshot plus processes started since, each read once, without a full refresh', async () => {
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
  assert.equal(await t.fresh!(), b);
  assert.deepEqual(reads, [30, 31, 32], 'each new PID read once');
  assert.equal(t.refreshes, 1);
  // After the TTL the full snapshot replaces the additions.
  await clock.advance(30_001);
  live = [1, 10];
  const c = await t.fresh!();
  assert.equal(t.refreshes, 2);
  assert.deepEqual(c.map((p) => p.pid), [1, 10, 20]);
});

test('fresh() where there is no /proc: the cached snapshot as it is', async () => {
  const t = createProcessTable({ ttlMs: 30_000, source: async () => [P(1, 0, 'init')], livePids: () => null });
  const a = await t.list();
  assert.equal(await t.fresh!(), a);
});
