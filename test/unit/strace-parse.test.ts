import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStraceParser, writtenPaths } from '../../src/adapters/strace.js';
import { createLineage, parseForkstatLine } from '../../src/adapters/forkstat.js';

test('strace lines: writes resolved to absolute paths; reads, failures and chatter ignored', () => {
  const p = createStraceParser(() => '/proc-cwd');
  const cases: [string, unknown][] = [
    ['6996  1796199822.280323 openat(AT_FDCWD</w>, "a.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</w/a.txt>', { pid: 6996, at: 1796199822280, call: 'openat', paths: ['/w/a.txt'] }],
    ['6996  1796199822.280400 openat(AT_FDCWD</w>, "b", O_RDONLY|O_CLOEXEC) = 3</w/b>', null],
    ['6999  1796199822.301171 renameat2(AT_FDCWD</w>, "a.txt", AT_FDCWD</w>, "d/m.txt", RENAME_NOREPLACE) = 0', { pid: 6999, at: 1796199822301, call: 'renameat2', paths: ['/w/a.txt', '/w/d/m.txt'] }],
    ['7000  1796199822.307813 unlinkat(AT_FDCWD</w>, "sub dir/x \\"q\\".txt", 0) = 0', { pid: 7000, at: 1796199822308, call: 'unlinkat', paths: ['/w/sub dir/x "q".txt'] }],
    ['7001  1796199822.315483 ftruncate(3</w/d/m.txt>, 0) = 0', { pid: 7001, at: 1796199822315, call: 'ftruncate', paths: ['/w/d/m.txt'] }],
    // The old calls take no directory: the PID's last AT_FDCWD, else its /proc cwd.
    ['6996  1796199822.897051 rename("d/a", "/abs/b") = 0', { pid: 6996, at: 1796199822897, call: 'rename', paths: ['/w/d/a', '/abs/b'] }],
    ['5555  1796199822.897051 mkdir("n", 0777) = 0', { pid: 5555, at: 1796199822897, call: 'mkdir', paths: ['/proc-cwd/n'] }],
    ['7002  1796199822.325468 +++ exited with 0 +++', null],
    ['strace: Process 7002 attached', null],
    // Non-ASCII names: strace prints bytes as octal or hex escapes.
    ['7003  1796199822.400000 openat(AT_FDCWD</w>, "\\303\\251t\\xc3\\xa9.md", O_WRONLY|O_CREAT, 0644) = 4</w/été.md>', { pid: 7003, at: 1796199822400, call: 'openat', paths: ['/w/été.md'] }],
  ];
  for (const [line, want] of cases) assert.deepEqual(p(line), want, line);
});

test('strace lines: an unfinished call joins its resumed half', () => {
  const p = createStraceParser(() => null);
  assert.equal(p('10  1796199822.100000 openat(AT_FDCWD</w>, "slow.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666 <unfinished ...>'), null);
  assert.equal(p('11  1796199822.100100 openat(AT_FDCWD</w>, "r", O_RDONLY) = 3</w/r>'), null);
  assert.deepEqual(p('10  1796199822.100200 <... openat resumed>) = 5</w/slow.txt>'), { pid: 10, at: 1796199822100, call: 'openat', paths: ['/w/slow.txt'] });
});

test('writtenPaths: a relative path with no known directory is dropped, not guessed', () => {
  assert.equal(writtenPaths('unlink', '"x"', 0, undefined, null), null);
  assert.equal(writtenPaths('openat', 'AT_FDCWD</w>, "x", O_WRONLY', -1, undefined, null), null);
});

test('forkstat lines: a fork pair records the parent; exit keeps the entry, so a reaped writer resolves', () => {
  assert.deepEqual(parseForkstatLine('08:26:34 fork  10152 parent          /usr/bin/node agent.js'), { event: 'fork', pid: 10152, role: 'parent', rest: '/usr/bin/node agent.js' });
  assert.equal(parseForkstatLine('Time     Event   PID Info   Duration Process'), null);
  const l = createLineage({ logger: { log() {} } });
  l.feed('08:26:34 fork  900000 parent          node claude-autonomous.mjs');
  l.feed('08:26:34 fork  900001 child           node claude-autonomous.mjs');
  l.feed('08:26:34 exec  900001                 sh -c printf x > a.json');
  l.feed('08:26:34 fork  900001 parent          sh -c printf x > a.json');
  l.feed('08:26:34 fork  900002 child           sh -c printf x > a.json');
  l.feed('08:26:34 exit  900002      0   0.001s sh -c printf x > a.json');
  assert.deepEqual(l.ancestorsOf(900002).slice(0, 2), [900001, 900000]);
  assert.equal(l.entry(900001)?.cmd, 'sh -c printf x > a.json');
  assert.equal(l.entry(900002)?.exited, true);
  assert.deepEqual(l.ancestorsOf(123456789), []);
});
