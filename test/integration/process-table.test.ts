/** The process adapters against the real /proc: a process started after the snapshot is seen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
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

test('openFiles: workspace files held open for writing only; a listing reused while the process is quiet still sees a close and a reused fd', { skip: linux ? false : 'needs /proc (Linux)' }, async (t) => {
  const { mkdtemp, realpath, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-probe-'));
  for (const f of ['w.txt', 'r.txt', 'x.txt']) await writeFile(join(dir, f), 'x\n');
  // The holder obeys one command per line on stdin and answers "ok" once it is done.
  const script = `
    const fs = require('node:fs'); const fds = {};
    require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
      const [op, name, mode] = l.split(' ');
      if (op === 'open') fds[name] = fs.openSync(${JSON.stringify(dir)} + '/' + name, mode);
      if (op === 'close') fs.closeSync(fds[name]);
      // Closed a moment later, by a timer: no read or write system call of its own around the close.
      if (op === 'close-later') setTimeout(() => fs.closeSync(fds[name]), 50);
      process.stdout.write('ok\\n');
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    child.kill();
    await rm(dir, { recursive: true, force: true });
  });
  const lines = (await import('node:readline')).createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const say = async (cmd: string) => {
    child.stdin!.write(cmd + '\n');
    assert.equal((await lines.next()).value, 'ok');
  };
  const probe = createProcProbe(dir);
  await say('open w.txt a');
  await say('open r.txt r');
  assert.deepEqual(await probe.openFiles(child.pid!), ['w.txt'], 'the file open for reading is not a holder');
  assert.deepEqual(await probe.openFiles(child.pid!), ['w.txt'], 'the same answer from the reused listing');
  // The answers above went through a pipe (its I/O counters moved); these lines make the process
  // close and reopen with no file I/O of its own in between, which a listing reused blindly would miss.
  await say('close w.txt');
  assert.deepEqual(await probe.openFiles(child.pid!), []);
  await say('open x.txt r+');
  assert.deepEqual(await probe.openFiles(child.pid!), ['x.txt'], 'a new handle for writing is seen');
  await say('close x.txt');
  await say('open w.txt r');
  assert.deepEqual(await probe.openFiles(child.pid!), [], 'an fd number reused for reading is no holder');
  await say('open x.txt a');
  const fdsNow = () => readdirSync(`/proc/${child.pid}/fd`).length;
  const before = fdsNow();
  await say('close-later x.txt');
  assert.deepEqual(await probe.openFiles(child.pid!), ['x.txt'], 'listed after the last I/O of the process');
  while (fdsNow() === before) await new Promise((r) => setImmediate(r)); // the state: its fd is gone
  assert.deepEqual(await probe.openFiles(child.pid!), [], 'a close with the I/O counters unchanged is still seen');
});

test('openFiles with the paths being decided answers for those paths alone; writeCounter reads a kept /proc/PID/io descriptor, fresh each time, and gone once the process is', { skip: linux ? false : 'needs /proc (Linux)' }, async (t) => {
  const { mkdtemp, realpath, rm, writeFile } = await import('node:fs/promises');
  const { readlinkSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(await realpath(tmpdir()), 'winnow-probe-'));
  for (const f of ['w.txt', 'x.txt']) await writeFile(join(dir, f), 'x\n');
  const script = `
    const fs = require('node:fs'); const fds = {};
    require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
      const [op, name, mode] = l.split(' ');
      if (op === 'open') fds[name] = fs.openSync(${JSON.stringify(dir)} + '/' + name, mode);
      if (op === 'close') fs.closeSync(fds[name]);
      if (op === 'write') { fs.writeSync(fds[name], 'y'.repeat(8192)); fs.fsyncSync(fds[name]); }
      process.stdout.write('ok\\n');
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const probe = createProcProbe(dir);
  t.after(async () => {
    child.kill();
    probe.close!();
    await rm(dir, { recursive: true, force: true });
  });
  const lines = (await import('node:readline')).createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const say = async (cmd: string) => {
    child.stdin!.write(cmd + '\n');
    assert.equal((await lines.next()).value, 'ok');
  };
  const pid = child.pid!;
  const ioLinks = () => readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/io`;
    } catch {
      return false;
    }
  });
  await say('open w.txt a');
  await say('open x.txt a');
  assert.deepEqual((await probe.openFiles(pid))!.sort(), ['w.txt', 'x.txt']);
  assert.deepEqual(await probe.openFiles(pid, new Set(['w.txt', 'other.md'])), ['w.txt'], 'only the paths asked about');
  assert.deepEqual(await probe.openFiles(pid, new Set(['other.md'])), [], 'none of them held');

  const before = await probe.writeCounter(pid);
  assert.equal(typeof before, 'number');
  assert.equal(ioLinks().length, 1, 'one descriptor of /proc/PID/io kept open');
  await say('write w.txt');
  const after = await probe.writeCounter(pid);
  assert.ok(typeof after === 'number' && after >= (before as number) + 8192, `read fresh through the kept descriptor: ${before} → ${after}`);
  assert.equal(ioLinks().length, 1, 'still one');

  // Within a round, the listing is compared with the counters writeCounter read at the round's
  // start (one read of /proc/PID/io per process and round): a handle opened and written after
  // that read is seen in the next round, as it would be by a decision that read the counters then.
  await writeFile(join(dir, 'y.txt'), 'y\n');
  probe.round!();
  await probe.writeCounter(pid);
  assert.deepEqual(await probe.openFiles(pid, new Set(['y.txt'])), []);
  await say('open y.txt a');
  await say('write y.txt');
  assert.deepEqual(await probe.openFiles(pid, new Set(['y.txt'])), [], 'the counters of this round: no I/O since the listing');
  probe.round!();
  await probe.writeCounter(pid);
  assert.deepEqual(await probe.openFiles(pid, new Set(['y.txt'])), ['y.txt'], 'the next round reads them again');

  child.kill();
  await once(child, 'exit');
  assert.equal(await probe.writeCounter(pid), 'gone', 'the process exited: gone, though its descriptor was kept');
  assert.equal(ioLinks().length, 0, 'and the descriptor closed');
});
