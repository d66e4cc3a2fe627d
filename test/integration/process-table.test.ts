/** The process adapters against the real /proc: a process started after the snapshot is seen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createProcessTable } from '../../src/adapters/process-table.js';
import { createProcProbe } from '../../src/adapters/proc-probe.js';

const linux = process.platform === 'linux';

test('fresh() finds a process started after the cached snapshot, with its command line and parent', { skip: linux ? false : 'needs /proc (Linux)' }, async (t) => {
  const table = createProcessTable({ ttlMs: 600_000 });
  const before = await table.list();
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)', 'claude-autonomous-marker'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  await once(child.stdout!, 'data');
  assert.equal(before.some((p) => p.pid === child.pid), false);
  const after = await table.fresh!();
  const me = after.find((p) => p.pid === child.pid);
  assert.ok(me, 'the new process is in the table');
  assert.equal(me.ppid, process.pid);
  assert.match(me.cmd, /claude-autonomous-marker/);
  assert.equal(me.uid, process.getuid!());
  assert.equal(table.refreshes, 1, 'no full refresh was needed');
  // Its start time is now-ish (10 ms clock ticks).
  const started = await createProcProbe(process.cwd()).startedAt!(child.pid!);
  assert.ok(started !== null && Math.abs(started - Date.now()) < 1_000, `started ${started}`);
});
