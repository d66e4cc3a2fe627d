/**
 * Process lineage through forkstat (adapters/forkstat.ts), as root: forks are recorded, read in
 * batches (an idle daemon on a machine that forks a lot wakes a few times a second, not per line),
 * and a decision's drain() reads what is waiting before writers are looked up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BATCH_MS, createLineage } from '../../src/adapters/forkstat.js';
import { findExecutable } from '../../src/util/which.js';

const forkstat = findExecutable('forkstat', ['/usr/bin/forkstat', '/usr/sbin/forkstat']);
const skip = process.getuid?.() !== 0 ? 'needs root (the process-events connector)' : !forkstat ? 'forkstat is not installed' : false;

const run = (cmd: string, args: string[]) =>
  new Promise<number>((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', () => resolve(c.pid!));
  });

test('forkstat output is read in batches, and drain() reads a fork still waiting in the pipe', { skip }, async (t) => {
  const l = createLineage({ logger: { log() {} } });
  t.after(() => l.stop());
  const started = await l.start();
  assert.deepEqual(started, { active: true });

  // Right after a read, the pipe is left unread for a while: a process forked and reaped now is
  // recorded once drain() has read what waits.
  const pid = await run('true', []);
  await l.drain();
  assert.equal(l.entry(pid)?.ppid, process.pid, 'the fork of a reaped child is known after drain()');

  // 40 processes one after another: ~120 lines (fork, exec, exit each), written a line at a time.
  const before = l.counts();
  const t0 = Date.now();
  for (let i = 0; i < 40; i++) await run('true', []);
  const elapsed = Date.now() - t0;
  await l.drain();
  const after = l.counts();
  const lines = after.lines - before.lines;
  const reads = after.reads - before.reads;
  assert.ok(lines >= 80, `forkstat reported the 40 processes (${lines} lines)`);
  // At most one read per batch window while they ran (a slower machine only widens the bound), and the drain's.
  const bound = Math.ceil(elapsed / BATCH_MS) + 2;
  assert.ok(reads <= bound, `${reads} reads for ${lines} lines in ${elapsed} ms (at most ${bound}): read in batches, not a line or two at a time`);
});

test('start() is not fooled by a forkstat that subscribes late: it forks probes until one is reported', { skip }, async (t) => {
  // forkstat started through a shell that waits first: the first probe fork comes before it listens.
  const dir = mkdtempSync(join(tmpdir(), 'winnow-forkstat-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'slow-forkstat');
  writeFileSync(bin, `#!/bin/sh\nsleep 0.5\nexec ${forkstat} "$@"\n`, { mode: 0o755 });
  const l = createLineage({ logger: { log() {} }, bin });
  t.after(() => l.stop());
  assert.deepEqual(await l.start(), { active: true });
});
