import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStat, processStartTime, readStat } from '../../src/util/procfs.js';

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
