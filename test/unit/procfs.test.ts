import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { lastPid, parseStat, processStartTime, readCmdline, readProcText, readStat } from '../../src/util/procfs.js';

test('parseStat: the fields after the last ")" of comm, whatever comm holds', () => {
  const tail = 'S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987 0';
  assert.deepEqual(parseStat(`42 (my (odd) name) ${tail}`), { state: 'S', ppid: 1, comm: 'my (odd) name', startTicks: 987 });
  assert.deepEqual(parseStat(`7 (a b) ${tail}`)?.comm, 'a b');
  assert.equal(parseStat('garbage'), null);
});

test('processStartTime is the start ticks of readStat, as text (what locks and registries record)', { skip: process.platform !== 'linux' && 'needs /proc' }, () => {
  const st = readStat(process.pid);
  assert.ok(st);
  assert.equal(processStartTime(process.pid), String(st.startTicks));
  assert.equal(processStartTime(2 ** 22 + 12345), null, 'no such process');
});

test('readProcText reads a procfs file whole, past its shared buffer (a long command line), as readFileSync does', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  const long = 'x'.repeat(70_000);
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1000)', long], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  await once(child.stdout!, 'data');
  const path = `/proc/${child.pid}/cmdline`;
  assert.equal(readProcText(path), readFileSync(path, 'utf8'));
  assert.ok(readCmdline(child.pid!)!.endsWith(' ' + long));
  // comm, not stat: stat's CPU times may move between the two reads (it failed once so).
  assert.equal(readProcText(`/proc/${child.pid}/comm`), readFileSync(`/proc/${child.pid}/comm`, 'utf8'), 'a short one after the buffer shrank back');
  const before = lastPid();
  assert.ok(before !== null && Number.isInteger(before));
  spawnSync('true');
  assert.notEqual(lastPid(), before, 'a process started since moves the last allocated PID');
});
